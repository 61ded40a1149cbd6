"""The ROCm vLLM family: fitted on LLM-Inference-Bench MI300X runs, checked on others."""

from __future__ import annotations

import pytest

from dse.validation.llm_inference_bench import (
    CHECK_TOKENS,
    bench_check,
    bench_runs,
    fit_rocm_serving,
    mi300x_vllm_runs,
    run_role,
)
from dse.validation.published import published_rows
from evaluators.serving import SERVING_OVERHEADS


def test_the_runs_are_the_sources_figures() -> None:
    runs = bench_runs()
    assert len(runs) == 641
    for run in runs:
        assert run.latency_s > 0 and run.batch >= 1 and run.gpus in (1, 2, 4, 8)
    quoted = {"M091": ("llama3-8b", 1, 1), "M092": ("llama3-8b", 1, 16),
              "M100": ("llama3-70b", 4, 1), "M101": ("llama3-70b", 8, 64)}
    by_key = {(r.model, r.gpus, r.batch): r for r in mi300x_vllm_runs()
              if r.tokens == CHECK_TOKENS}
    for row_id, key in quoted.items():
        run = by_key[key]
        assert not run.fits_rocm
        assert run.latency_s == pytest.approx(float(published_rows()[row_id]["value"]),
                                              rel=1e-3)


def test_rocm_constants_are_the_fit_and_the_fit_never_sees_quoted_shapes() -> None:
    fit = fit_rocm_serving()
    constant = SERVING_OVERHEADS["vllm-rocm-2024"]
    for name in ("per_step_s", "per_sequence_s", "per_layer_s", "decode_gemm_peak_fraction"):
        assert getattr(constant, name) == pytest.approx(getattr(fit.overhead, name),
                                                        rel=0.02, abs=2e-7), name
    assert len(fit.rows) == 40
    assert not any(f" {CHECK_TOKENS}/" in label or " x1 " not in label for label in fit.rows)


def test_every_chip_and_framework_is_checked_on_runs_its_fit_never_saw() -> None:
    checks = {(c.preset, c.framework): c for c in bench_check()}
    assert set(checks) == {(p, f) for p in ("nvidia-a100-80gb", "nvidia-h100-sxm")
                           for f in ("vLLM", "TensorRT-LLM")} | {("amd-mi300x", "vLLM")}
    rocm = checks["amd-mi300x", "vLLM"]
    assert rocm.family == "vllm-rocm-2024"
    assert (rocm.fit.rows, rocm.held_out.rows, rocm.infeasible) == (40, 185, 14)
    assert rocm.held_out.median_abs_error < 0.15 and rocm.held_out.max_ratio < 2.5
    # the NVIDIA families were fitted on published rows M084/M085/M087 (vLLM) and
    # M088/M097/M098 (TensorRT-LLM): the same measurements are runs here
    fitted = sum(c.fit.rows for c in checks.values() if c.preset != "amd-mi300x")
    assert fitted == 6
    vllm_a100 = checks["nvidia-a100-80gb", "vLLM"]
    assert vllm_a100.family == "vllm-2024" and vllm_a100.held_out.median_abs_error < 0.10


def test_fit_runs_of_the_nvidia_families_are_the_published_fit_rows() -> None:
    fit = [r for r in bench_runs() if r.hardware in ("Nvidia A100 GPU", "Nvidia H100 GPU")
           and run_role(r) == "fit"]
    assert sorted((r.hardware[7:11], r.framework, r.model, r.gpus, r.batch) for r in fit) == [
        ("A100", "TensorRT-LLM", "llama3-70b", 4, 1), ("A100", "vLLM", "llama3-8b", 1, 1),
        ("A100", "vLLM", "llama3-8b", 1, 64), ("H100", "TensorRT-LLM", "llama3-70b", 4, 1),
        ("H100", "TensorRT-LLM", "llama3-8b", 1, 64), ("H100", "vLLM", "llama3-8b", 1, 64)]
