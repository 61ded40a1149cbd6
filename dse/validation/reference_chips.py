"""Checks on chips the calibration never saw: published best-case GEMM throughput.

The "maximum achievable matmul FLOPS" (MAMF) tables publish, per chip, the best bf16
GEMM throughput torch.matmul reaches over a sweep of shapes. We predict the same with
the H100-fitted calibration on other chips' spec sheets: an out-of-sample check of the
compute, quantisation and power-cap model.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pandas as pd

from dse.config import load_hardware
from dse.core import evaluate_program
from dse.workload import MatMul

# NOTE: the MAMF benchmark times each shape over a short loop of back-to-back calls
# (about a hundred); we evaluate each shape as such a loop.
MAMF_RUNS = 100
SHAPE_GRID = (2048, 4096, 6144, 8192, 12288, 16384)


@dataclass(frozen=True, slots=True)
class PublishedGemm:
    preset: str
    published_tflops: float
    source: str
    best_shape: tuple[int, int, int] | None  # (m, n, k) where the source names it


PUBLISHED_MAMF: tuple[PublishedGemm, ...] = (
    PublishedGemm("nvidia-a100-80gb", 267.9, "published_results M047", (6912, 16384, 2048)),
    PublishedGemm("nvidia-h100-sxm", 794.5, "published_results M052 notes", None),
    PublishedGemm("nvidia-h200", 794.5, "published_results M052 notes", None),
)


def predicted_best_gemm_tflops(preset: str, best_shape: tuple[int, int, int] | None) -> float:
    hw = load_hardware(preset)
    shapes = list(itertools.product(SHAPE_GRID, repeat=3))
    if best_shape is not None:
        shapes.append(best_shape)
    best = 0.0
    for m, n, k in shapes:
        res = evaluate_program([hw], [MatMul(m, n, k, "bf16")], back_to_back_runs=MAMF_RUNS)
        best = max(best, float(res.flops[0] / res.total_time_s[0]))
    return best / 1e12


def mamf_report() -> pd.DataFrame:
    rows = []
    for ref in PUBLISHED_MAMF:
        predicted = predicted_best_gemm_tflops(ref.preset, ref.best_shape)
        rows.append({
            "preset": ref.preset,
            "published_tflops": ref.published_tflops,
            "predicted_tflops": predicted,
            "error": predicted / ref.published_tflops - 1.0,
            "source": ref.source,
        })
    return pd.DataFrame(rows)
