"""Suites: shipped files load, the reference scores 1, faster chips score higher."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from evaluator_suite import preset

from dse.errors import ConfigError
from evaluators import evaluate_suite, list_suites, load_suite
from evaluators.suites import reference_throughputs


def test_required_suites_ship() -> None:
    assert {"datacenter-training", "llm-serving", "vision", "mixed", "default"} <= set(
        list_suites())


@pytest.mark.parametrize("name", ["datacenter-training", "llm-serving", "vision", "mixed"])
def test_reference_scores_one_and_h100_beats_it(name: str) -> None:
    suite = load_suite(name)
    reference, h100 = evaluate_suite([preset(suite.reference), preset("nvidia-h100-sxm")],
                                     name)
    assert reference.feasible and reference.score == pytest.approx(1.0)
    assert h100.score > 1.2
    assert len(h100.workloads) == len(suite.entries)
    assert h100.power_w > reference.power_w


def test_default_mixes_the_four_suites_with_equal_weight() -> None:
    default = load_suite("default")
    weights: dict[str, float] = {}
    for name in ("datacenter-training", "llm-serving", "vision", "mixed"):
        names = {e.workload.name for e in load_suite(name).entries}
        weights[name] = sum(e.weight for e in default.entries if e.workload.name in names)
    assert all(w == pytest.approx(1.0) for w in weights.values())
    h100 = evaluate_suite([preset("nvidia-h100-sxm")], "default")[0]
    parts = [evaluate_suite([preset("nvidia-h100-sxm")], n)[0].score for n in weights]
    # Equal weights: the default score is the geometric mean of the four suite scores.
    assert h100.score == pytest.approx(math.exp(sum(map(math.log, parts)) / 4), rel=1e-9)


def test_infeasible_workload_scores_zero_with_reasons() -> None:
    h100 = preset("nvidia-h100-sxm")
    import dataclasses

    tiny = h100.with_changes(hbm=dataclasses.replace(h100.hbm, capacity_bytes=1e9))
    result = evaluate_suite([tiny], "datacenter-training")[0]
    assert not result.feasible and result.score == 0.0
    assert any("does not fit" in r for r in result.infeasible_reasons)


def test_fallback_plans_rescue_small_memory_designs() -> None:
    import dataclasses

    h100 = preset("nvidia-h100-sxm")
    small = h100.with_changes(hbm=dataclasses.replace(h100.hbm, capacity_bytes=8e9))
    full, reduced = evaluate_suite([h100, small], "datacenter-training")
    assert reduced.feasible, reduced.infeasible_reasons
    gpt_full, gpt_small = full.workloads[0], reduced.workloads[0]
    assert gpt_small.metrics["memory_per_chip_bytes"] < 0.92 * 8e9
    assert gpt_full.metrics["memory_per_chip_bytes"] > 8e9
    # The fallback plan (2x the chips, fully sharded) is slower per chip.
    assert gpt_small.metrics["tokens_per_s_per_chip"] < gpt_full.metrics[
        "tokens_per_s_per_chip"]
    assert 0 < reduced.score < full.score


def test_precision_fallback_uses_the_first_supported(tmp_path: Path) -> None:
    tpu = preset("google-tpu-v4")  # bf16 but no fp16
    assert tpu.supports("bf16") and not tpu.supports("fp16")
    result = evaluate_suite([tpu], "vision")[0]
    assert result.feasible, result.infeasible_reasons
    assert len(reference_throughputs("vision")) == 3


def test_bad_suite_reports_problems(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nreference: nvidia-a100-80gb\nworkloads:\n"
                    "  - weight: -1\n    workload: {name: x, kind: training, model: resnet50}\n")
    with pytest.raises(ConfigError) as info:
        load_suite(str(path))
    assert "workloads[0].weight" in str(info.value)


def test_suite_report_is_json_ready() -> None:
    import json

    from evaluators import suite_report

    report = suite_report(preset("nvidia-h100-sxm"), "vision")
    assert report["suite"] == "vision" and report["reference"] == "nvidia-a100-80gb"
    relative = [w["relative_throughput"] for w in report["workloads"]]
    weights = [w["weight"] for w in report["workloads"]]
    expected = math.exp(sum(w * math.log(r) for w, r in zip(weights, relative, strict=True))
                        / sum(weights))
    assert report["score"] == pytest.approx(expected)
    json.dumps(report)


@pytest.fixture(scope="module")
def essay_figures() -> Any:
    """The essay's systems on the default suite, in one batched evaluation."""
    from evaluators import essay_systems

    return essay_systems.compute()


def test_essay_orderings_a_reader_would_recognise(essay_figures: Any) -> None:
    """Orderings docs/essay-systems.md defends, on the default suite's own workloads."""
    from dse.config import load_hardware
    from evaluators import evaluate_workloads
    from evaluators.essay_systems import dlpu_with_host_control, retinanet_with_nms

    relative = essay_figures.relative
    # big SRAM wins when the model fits on chip: an 8B model decodes from a wafer's SRAM
    # several times faster than from an A100's HBM, ResNet-50 inference likewise ...
    assert relative("cerebras-wse-2", "llama3-8b-single-stream") > 2.0
    assert relative("cerebras-wse-2", "resnet50-inference") > 2.0
    # ... and HBM wins on large models whose weights stream from DDR on SRAM + DDR chips
    assert relative("graphcore-gc200", "gpt3-175b-pretrain") < 0.5
    assert relative("graphcore-gc200", "llama2-70b-serving") < 0.5
    # Graphcore's MLPerf Training v1.1 ResNet-50 (IPU-POD16 28.3 min against DGX A100
    # 29.1 min) is 29.1 / 28.3 x 8 / 16 = 0.51 of an A100 per chip; nothing is fitted to it
    assert relative("graphcore-gc200", "resnet50-train-8") == pytest.approx(0.51, rel=0.25)

    # the CPU-less design beats the same chip with host-side scalar control on detection
    dlpu, with_host = dlpu_with_host_control()
    own, hosted, gpu, xeon = evaluate_workloads(
        [dlpu, with_host, load_hardware("nvidia-a100-80gb"), load_hardware("intel-xeon-amx")],
        retinanet_with_nms("<test>"))
    assert own.metrics["postprocess_time_s"] * 5 < hosted.metrics["postprocess_time_s"]
    assert own.metrics["samples_per_s_per_chip"] > hosted.metrics["samples_per_s_per_chip"]
    # the interaction wall: device-side control < a CPU with tensor units < a PCIe GPU
    assert (own.metrics["postprocess_time_s"] < xeon.metrics["postprocess_time_s"]
            < gpu.metrics["postprocess_time_s"])
