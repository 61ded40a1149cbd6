"""The ROCm vLLM family: fitted on LLM-Inference-Bench MI300X runs, checked on others."""

from __future__ import annotations

import pytest

from dse.validation.llm_inference_bench import (
    CHECK_TOKENS,
    bench_runs,
    fit_rocm_serving,
    mi300x_vllm_runs,
    rocm_check,
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


def test_held_out_runs_stay_within_the_documented_error() -> None:
    fitted, held_out, infeasible = rocm_check()
    assert (fitted.rows, held_out.rows, infeasible) == (40, 185, 14)
    assert held_out.median_abs_error < 0.15
    assert held_out.max_ratio < 2.5
