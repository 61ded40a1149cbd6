"""Every evaluator and suite score is monotone in every resource a design has.

A design with more of a resource can always run a workload as the smaller one did, so
no workload metric (throughput up, step time and latency down) and no suite score may
get worse, and a feasible plan stays feasible. Checked on random designs around every
preset (`dse.core.resources.perturb`: each resource scaled 0.25-4x, host features
toggled), each paired with its improvement in every resource it has
(`dse.core.resources.improve`), on a fixed workload of every evaluator and on every
shipped suite. Counter-examples found on the way are kept at the end with their numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from evaluator_suite import workload_from

from dse.config import load_hardware
from dse.config.hardware import list_presets
from dse.core.resources import RESOURCES, improve, perturb, scale
from dse.hardware import Hardware
from evaluators import evaluate_suite, evaluate_workloads, list_suites
from evaluators.api import WorkloadMetrics
from evaluators.suites import evaluate_entry, load_suite

RTOL = 1e-9
HIGHER_IS_BETTER = ("tokens_per_s", "tokens_per_s_per_chip", "samples_per_s",
                    "samples_per_s_per_chip", "output_tokens_per_s",
                    "output_tokens_per_s_per_chip", "model_tflops_per_chip")
LOWER_IS_BETTER = ("step_time_s", "request_latency_s", "time_to_first_token_s",
                   "time_per_output_token_s", "latency_s")
# NOTE: `batch: auto` serves the largest batch that fits, so more memory may serve a
# bigger batch: more throughput at a longer latency. Only throughput is promised there.
AUTO_BATCH_METRICS = tuple(m for m in HIGHER_IS_BETTER if "per_s" in m)


def design_pairs(per_preset: int, seed: int) -> tuple[list[Hardware], list[Hardware],
                                                       list[str]]:
    rng = np.random.default_rng(seed)
    base: list[Hardware] = []
    better: list[Hardware] = []
    labels: list[str] = []
    for name in list_presets():
        preset = load_hardware(name)
        for hw in [preset] + [perturb(preset, rng, name=f"{name}~{i}")
                              for i in range(per_preset)]:
            for resource in RESOURCES:
                improved = improve(hw, resource)
                if improved is not None:
                    base.append(hw)
                    better.append(improved)
                    labels.append(resource)
    return base, better, labels


@pytest.fixture(scope="module")
def pairs() -> tuple[list[Hardware], list[Hardware], list[str]]:
    return design_pairs(per_preset=2, seed=20261202)


def worse(a: WorkloadMetrics, b: WorkloadMetrics, metrics: tuple[str, ...]) -> list[str]:
    """What got worse from `a` (base) to `b` (improved)."""
    if not a.feasible:
        return []
    if not b.feasible:
        return [f"infeasible: {'; '.join(b.infeasible_reasons)}"]
    out = []
    for m in metrics:
        if m not in a.metrics:
            continue
        x, y = a.metrics[m], b.metrics[m]
        if (y < x * (1 - RTOL)) if m in HIGHER_IS_BETTER else (y > x * (1 + RTOL)):
            out.append(f"{m} {x:.6g} -> {y:.6g}")
    return out


# One fixed plan per evaluator (no fallbacks: every metric is comparable), small enough
# for every preset's memory.
WORKLOADS: list[dict[str, Any]] = [
    {"name": "gpt-train", "kind": "training", "model": "mpt-1b", "precision": "bf16",
     "seq_len": 1024, "global_batch": 16,
     "system": {"chips": 8, "tensor_parallel": 2, "pipeline_parallel": 2, "data_parallel": 2,
                "micro_batch": 2, "zero_stage": 1}},
    {"name": "llama-decode", "kind": "inference", "model": "llama3-8b", "precision": "bf16",
     "prompt_tokens": 512, "output_tokens": 64, "batch": 4, "system": {"chips": 1}},
    {"name": "llama-served", "kind": "inference", "model": "llama3-8b", "precision": "bf16",
     "prompt_tokens": 128, "output_tokens": 32, "batch": 1, "system": {"chips": 1},
     "serving": {"software": "vllm-rocm-2024"}},
    {"name": "llama-auto", "kind": "inference", "model": "llama3-8b", "precision": "bf16",
     "prompt_tokens": 512, "output_tokens": 64, "system": {"chips": 1}},
    {"name": "bert", "kind": "inference", "model": "bert-large", "precision": "bf16",
     "seq_len": 128, "batch": 8, "system": {"chips": 1}},
    {"name": "resnet-train", "kind": "training", "model": "resnet50", "precision": "bf16",
     "batch": 32},
    {"name": "resnet-infer", "kind": "inference", "model": "resnet50", "precision": "bf16",
     "batch": 16},
    {"name": "retinanet", "kind": "inference", "model": "retinanet-resnet50",
     "precision": "bf16", "batch": 1, "postprocess": {"nms_iterations": 20,
                                                     "candidate_boxes": 500}},
    {"name": "dlrm", "kind": "training", "model": "dlrm", "precision": "bf16",
     "batch": 4096, "system": {"chips": 8}},
    {"name": "mixed", "kind": "training", "model": "resnet50", "evaluator": "mixed_pipeline",
     "precision": "bf16", "batch": 16,
     "pipeline": {"rows_scanned": 1000000, "row_bytes": 64, "join_rows": 10000,
                  "batches_between_switches": 1}},
]


@pytest.mark.parametrize("doc", WORKLOADS, ids=[w["name"] for w in WORKLOADS])
def test_no_workload_metric_gets_worse_with_more_of_any_resource(
        pairs: tuple[list[Hardware], list[Hardware], list[str]], doc: dict[str, Any]) -> None:
    base, better, labels = pairs
    workload = workload_from(doc)
    metrics = (AUTO_BATCH_METRICS if workload.batch is None and "batch" not in doc
               else HIGHER_IS_BETTER + LOWER_IS_BETTER)
    a = evaluate_workloads(base, workload)
    b = evaluate_workloads(better, workload)
    problems = [f"{labels[i]} on {base[i].name}: {', '.join(p)}"
                for i in range(len(base)) if (p := worse(a[i], b[i], metrics))]
    assert not problems, "\n".join(problems[:10])
    assert sum(r.feasible for r in a) >= len(base) // 2  # the check has teeth


def test_no_suite_score_or_entry_gets_worse_with_more_of_any_resource(
        pairs: tuple[list[Hardware], list[Hardware], list[str]]) -> None:
    base, better, labels = pairs
    cases = 0
    for suite in list_suites():
        if suite == "default":  # its entries are the four suites' own
            continue
        a = evaluate_suite(base, suite)
        b = evaluate_suite(better, suite)
        spec = load_suite(suite)
        problems = []
        for i in range(len(base)):
            if b[i].score < a[i].score * (1 - RTOL):
                problems.append(f"{labels[i]} on {base[i].name}: {suite} score "
                                f"{a[i].score:.6g} -> {b[i].score:.6g}")
            for entry, x, y in zip(spec.entries, a[i].workloads, b[i].workloads, strict=True):
                cases += x.feasible
                problems += [f"{labels[i]} on {base[i].name}: {entry.workload.name} {p}"
                             for p in worse(x, y, (entry.throughput_metric,))]
        cases += len(base)
        assert not problems, "\n".join(problems[:10])
    # (design, resource, workload) and (design, resource, suite) cases checked
    assert cases >= 10_000


# --- counter-examples found, kept with their numbers ------------------------------------------

MI300X_LIKE = scale(
    load_hardware("amd-mi300x"),
    {"peak_fp32": 3.793, "peak_tf32": 1.673, "peak_bf16": 1.518, "peak_fp16": 1.686,
     "peak_fp8": 0.7349, "peak_int8": 0.3636, "sram_capacity": 1.848, "sram_bandwidth": 1.073,
     "hbm_capacity": 0.9615, "hbm_bandwidth": 2.944, "host_link_bandwidth": 1.219,
     "tdp": 0.638, "host_link_latency": 0.7405, "kernel_launch": 2.951,
     "sync_roundtrip": 0.4693, "graph_launch_per_op": 1.407},
    {"async_launch": True, "graph_capture": False, "device_scalar_control": True})
DOJO_LIKE = scale(
    load_hardware("tesla-dojo-d1"),
    {"peak_fp32": 2.029, "peak_tf32": 0.9596, "peak_bf16": 1.784, "peak_fp16": 0.6024,
     "peak_fp8": 2.947, "peak_int8": 0.5223, "sram_capacity": 0.2543, "sram_bandwidth": 1.846,
     "sram_exchange_bandwidth": 1.632, "hbm_capacity": 1.545, "hbm_bandwidth": 1.681,
     "ddr_capacity": 1.27, "ddr_bandwidth": 0.3442, "host_link_bandwidth": 1.599,
     "chip_to_chip_bandwidth": 0.2546, "node_to_node_bandwidth": 0.4151, "tdp": 0.803,
     "host_link_latency": 0.7137, "kernel_launch": 0.3477, "sync_roundtrip": 0.8167,
     "graph_launch_per_op": 1.409, "chip_to_chip_latency": 0.712,
     "node_to_node_latency": 1.783},
    {"async_launch": True, "graph_capture": False, "device_scalar_control": False})


def _entry(name: str) -> Any:
    return next(e for s in list_suites() for e in load_suite(s).entries
                if e.workload.name == name)


def test_faster_prefill_no_longer_slows_every_decode_step() -> None:
    # The worst case, found again: an MI300X-like design with 1.5x more bf16 peak
    # served Llama 3 8B at batch 1 with 1.32 ms -> 4.03 ms per output token. The host's
    # lead from the prefill was carried into the decode step (then multiplied by 1,023
    # steps); the faster prefill lost it. Phases now start with the host waiting.
    better = improve(MI300X_LIKE, "peak_bf16")
    assert better is not None
    entry = _entry("llama3-8b-single-stream")
    a, b = evaluate_entry([MI300X_LIKE, better], entry)
    assert a.feasible and b.feasible
    assert b.metrics["time_per_output_token_s"] <= a.metrics["time_per_output_token_s"]
    # each decode step is launch-bound now (eager issue, no graph): 7.95 ms for both
    assert a.metrics["time_per_output_token_s"] == pytest.approx(7.95e-3, rel=0.02)
    assert b.metrics["output_tokens_per_s_per_chip"] >= a.metrics[
        "output_tokens_per_s_per_chip"]


def test_more_memory_keeps_the_plan_a_smaller_design_was_faster_on() -> None:
    # 2x DDR let a Dojo-like design hold the 8-chip DLRM plan instead of the 32-chip
    # fallback, where its table shard fits in HBM: 142,696 -> 31,682 samples/s per chip.
    better = improve(DOJO_LIKE, "ddr_capacity")
    assert better is not None
    entry = _entry("dlrm-train-8")
    a, b = evaluate_entry([DOJO_LIKE, better], entry)
    assert a.feasible and b.feasible
    assert b.metrics["samples_per_s_per_chip"] >= a.metrics["samples_per_s_per_chip"]
    assert a.metrics["samples_per_s_per_chip"] == pytest.approx(142_696, rel=0.05)


DOJO_SMALL_SRAM = scale(
    load_hardware("tesla-dojo-d1"),
    {"peak_fp32": 2.438, "peak_tf32": 0.6362, "peak_bf16": 1.69, "peak_fp16": 0.458,
     "peak_fp8": 0.6623, "peak_int8": 0.7255, "sram_capacity": 0.4818,
     "sram_bandwidth": 0.2755, "sram_exchange_bandwidth": 2.115, "hbm_capacity": 3.486,
     "hbm_bandwidth": 0.4681, "ddr_capacity": 0.3925, "ddr_bandwidth": 0.6554,
     "host_link_bandwidth": 0.3145, "chip_to_chip_bandwidth": 1.515,
     "node_to_node_bandwidth": 0.6946, "tdp": 1.189, "host_link_latency": 3.081,
     "kernel_launch": 2.725, "sync_roundtrip": 3.219, "graph_launch_per_op": 3.341,
     "chip_to_chip_latency": 1.283, "node_to_node_latency": 1.006,
     "reconfiguration_time": 0.2775},
    {"async_launch": True, "graph_capture": False, "device_scalar_control": False})


def test_more_sram_keeps_the_micro_batch_that_ran_faster() -> None:
    # 2x SRAM on a Dojo-like design (SRAM + DDR): ResNet-50 training 235.1 -> 205.4
    # samples/s per chip. Once the state fits on chip, the room the micro-batch was sized
    # from shrank (micro-batch 2 -> 1, 256 host-bound launches per step). Taking the
    # fastest micro-batch instead needed the core to charge saved activations that spill
    # to DDR (dse/core/liveness.py): without it, Graphcore's GC200 "ran" micro-batch 32
    # with 2.2 GB of saved tensors on its 897 MiB chip, at 1.07 of an A100.
    better = improve(DOJO_SMALL_SRAM, "sram_capacity")
    assert better is not None
    entry = _entry("resnet50-train")
    a, b = evaluate_entry([DOJO_SMALL_SRAM, better], entry)
    assert a.feasible and b.feasible
    assert b.metrics["samples_per_s_per_chip"] >= a.metrics["samples_per_s_per_chip"]
    # the small SRAM holds part of the state, so every activation streams through DDR:
    # micro-batch 32, 266 samples/s; with the state on chip, micro-batch 4 keeps its saved
    # tensors beside it: 806 samples/s
    assert (a.metrics["micro_batch"], b.metrics["micro_batch"]) == (32, 4)
    assert a.metrics["samples_per_s_per_chip"] == pytest.approx(266.3, rel=0.02)
    assert b.metrics["samples_per_s_per_chip"] == pytest.approx(806.2, rel=0.02)
