"""End-to-end rows restated from kernels alone: predictions within physical bounds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dse.config import load_hardware
from dse.errors import ConfigError
from dse.validation.end_to_end import Measurement, compare, predict, read_measurements

H100 = "nvidia-h100-sxm"
LAYER_8B_PARAMS = 2 * 4096 * 6144 // 2 + 4096 * 4096 + 4096 * 2 * 14336 + 14336 * 4096


def layer(mode: str, model: str, batch: int, seq: int) -> Measurement:
    return Measurement(f"{mode}-{model}", "decoder_layer",
                       {"mode": mode, "model": model, "batch": batch, "seq": seq,
                        "precision": "bf16"}, 1e-3)


def write(path: Path, rows: list[tuple[str, str, dict[str, object], object]]) -> Path:
    lines = ["id,workload,params,measured_s,device,torch"]
    for row_id, workload, params, measured in rows:
        quoted = json.dumps(params).replace('"', '""')
        lines.append(f'{row_id},{workload},"{quoted}",{measured},NVIDIA H100,2.11')
    path.write_text("\n".join(lines) + "\n")
    return path


def test_layer_8b_has_218m_weights() -> None:
    # fused QKV 4096 x (4096 + 2 x 1024), output 4096 x 4096, gate/up 4096 x 2 x 14336,
    # down 14336 x 4096
    assert pytest.approx(218.1e6, rel=1e-3) == LAYER_8B_PARAMS


def test_decode_step_is_bound_by_streaming_weights_and_cache() -> None:
    """Batch 1 over 2,048 cached tokens: 436 MB of weights + 8.4 MB of KV at 3.35 TB/s is
    0.133 ms; the prediction sits above that and well under twice it."""
    hw = load_hardware(H100)
    floor = (2 * LAYER_8B_PARAMS + 2048 * 2 * 8 * 128 * 2) / 3.35e12
    assert floor == pytest.approx(0.1327e-3, rel=0.01)
    assert floor < predict(hw, layer("decode", "llama3-8b", 1, 2048))[0] < 1.6 * floor


def test_prefill_is_bound_by_matrix_flops() -> None:
    """4,096 tokens: 2 x 4096 x 218.1 M GEMM FLOPs + causal attention 2 x 32 x 128 x
    4096^2 = 1.92 TFLOP, 1.94 ms at the 989 TFLOP/s dense peak."""
    hw = load_hardware(H100)
    flop = 2 * 4096 * LAYER_8B_PARAMS + 2 * 32 * 128 * 4096**2
    floor = flop / 989.4e12
    assert floor == pytest.approx(1.94e-3, rel=0.01)
    prefill = predict(hw, layer("prefill", "llama3-8b", 1, 4096))[0]
    assert floor < prefill < 2 * floor
    train = predict(hw, layer("train", "llama3-8b", 1, 4096))[0]
    assert 2.5 * prefill < train < 4 * prefill  # backward ~2x forward, attention ~2.5x


def test_resnet50_rows_use_the_cnn_evaluator(tmp_path: Path) -> None:
    path = write(tmp_path / "m.csv", [
        ("r-train", "resnet50", {"mode": "train", "batch": 256, "precision": "bf16"}, 0.1),
        ("r-infer", "resnet50", {"mode": "inference", "batch": 256, "precision": "bf16"}, 0.03),
    ])
    train, infer = compare(read_measurements(path), H100)
    # 256 images x 3 x 8.2 GFLOP per image forward: 6.3 TFLOP, 6.4 ms at the bf16 peak;
    # batch-norm, ReLU and residual traffic (memory-bound on a GPU) add several times that
    assert 6.4e-3 < train.predicted_s < 10 * 6.4e-3
    assert infer.predicted_s < train.predicted_s / 2
    assert train.error == pytest.approx(train.predicted_s / 0.1 - 1)


def test_a_design_that_cannot_run_the_row_says_why(tmp_path: Path) -> None:
    path = write(tmp_path / "m.csv", [
        ("l", "decoder_layer", {"mode": "prefill", "model": "llama3-8b", "batch": 1,
                                "seq": 128, "precision": "bf16"}, 0.01)])
    (gc200,) = compare(read_measurements(path), "graphcore-gc200")  # fp16 only
    assert any("bf16" in reason for reason in gc200.infeasible_reasons)
    (h100,) = compare(read_measurements(path), H100)
    assert h100.infeasible_reasons == ()


def test_bad_rows_are_reported_together(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", [
        ("a", "decoder_layer", {"mode": "decode", "model": "nope", "batch": 1, "seq": 8}, 1),
        ("b", "resnet50", {"mode": "sideways", "batch": 1}, 1),
        ("c", "resnet50", {"mode": "train", "batch": 1}, -1),
    ])
    with pytest.raises(ConfigError) as info:
        read_measurements(path)
    text = str(info.value)
    assert "line 2 (a): unknown model 'nope'" in text
    assert "line 3 (b): unknown workload/mode" in text
    assert "line 4 (c): measured_s must be positive" in text


# --- the shipped H100 measurements (dse/data/reference/h100_end_to_end.csv) -----------


@pytest.fixture(scope="module")
def shipped():  # type: ignore[no-untyped-def]
    from dse.validation.end_to_end import shipped_measurements

    return compare(shipped_measurements(), H100)


def test_shipped_rows_are_restated_in_dses_terms(shipped) -> None:  # type: ignore[no-untyped-def]
    ids = [c.measurement.row_id for c in shipped]
    assert len(ids) == 10
    assert "decoder_layer/train/B4/S2048" in ids and "resnet50/inference/B256" in ids
    layer_row = next(c for c in shipped if c.measurement.workload == "decoder_layer")
    # 32 heads of 128, no grouped KV, SwiGLU 11008: llama2-7b's 202,383,360 weights a layer
    assert layer_row.measurement.params["model"] == "llama2-7b"
    from evaluators.models import BUILTIN_MODELS

    assert BUILTIN_MODELS["llama2-7b"].params_per_layer == 202_383_360  # type: ignore[union-attr]


def test_median_error_on_the_h100_rows_is_within_15_percent(shipped) -> None:  # type: ignore[no-untyped-def]
    from dse.validation.end_to_end import median_abs_error, role

    assert median_abs_error(shipped) <= 0.15
    held_out = [c for c in shipped if role(c.measurement) == "held-out"]
    assert len(held_out) == 8 and median_abs_error(held_out) <= 0.15
    for c in shipped:
        assert abs(c.error) < 0.15, c.measurement.row_id
    by_id = {c.measurement.row_id: c for c in shipped}
    # the figures: ResNet-50 at batch 256 measured 3,965 images/s training and
    # 12,887 inference (dse predicted 6,465 and 35,340 before the eager framework)
    train = 256 / by_id["resnet50/train/B256"].predicted_s
    infer = 256 / by_id["resnet50/inference/B256"].predicted_s
    assert train == pytest.approx(3965, rel=0.15)
    assert infer == pytest.approx(12887, rel=0.15)


def test_eager_cnn_constants_are_what_the_fit_gives() -> None:
    from dse.validation.end_to_end import fit_eager_cnn
    from evaluators.cnn import EAGER_CONV_EFFICIENCY_FACTOR, EAGER_TRAINING_HOST_S_PER_KERNEL

    fit = fit_eager_cnn()
    assert fit.conv_efficiency_factor == pytest.approx(EAGER_CONV_EFFICIENCY_FACTOR, abs=2e-3)
    assert fit.training_host_s_per_kernel == pytest.approx(EAGER_TRAINING_HOST_S_PER_KERNEL,
                                                           rel=1e-3)
