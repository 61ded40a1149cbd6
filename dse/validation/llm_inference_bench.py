"""LLM-Inference-Bench runs beyond `published_results.csv`: fit and check of serving families.

`dse/data/reference/llm_inference_bench_llama3.csv` holds every Llama-3 8B and 70B run of
LLM-Inference-Bench under vLLM or TensorRT-LLM (sources in `dse/data/reference/README.md`).
`published_results.csv` carries four of its MI300X runs (M091, M092, M100, M101, all 1024
tokens in and out). The serving family `vllm-rocm-2024` (vLLM v0.6.1 built for ROCm) is
fitted here on the single-GPU MI300X runs at the other lengths (128, 256, 512 and 2048
tokens) and checked on every MI300X run the fit never saw: the 1024-token runs and the
runs over 2, 4 and 8 GPUs. Runs the model finds infeasible (the KV cache of the whole
batch does not fit: vLLM then queues sequences) are neither fitted nor checked.

`bench_check()` restates every run on a chip with a preset (A100, H100, MI300X) with its
framework's family, so the NVIDIA-fitted `vllm-2024` and `tensorrt-llm-2024` (fitted on
three published rows each, which are runs here too) are checked on the runs they never
saw: other lengths, batches and GPU counts.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from dse.config import load_hardware
from dse.data.reference import reference_text
from dse.hardware import Hardware
from dse.validation.published import (
    CASES,
    CHIP_PRESETS,
    Comparison,
    ServingFit,
    Summary,
    case_role,
    published_rows,
    serve_doc,
    serving_family,
    summarise,
)
from evaluators.evaluation import evaluate_workload
from evaluators.models import TransformerArchitecture
from evaluators.serving import SERVING_OVERHEADS, ServingOverhead
from evaluators.transformer_inference import gemm_flop, phases_for_batch
from evaluators.workload_files import ModelWorkload, parse_model_workloads

ROCM_FAMILY = "vllm-rocm-2024"
MODELS = {"meta-llama/Meta-Llama-3-8B": "llama3-8b", "meta-llama/Meta-Llama-3-70B": "llama3-70b"}
PRESETS = {"AMD MI300X GPU": "amd-mi300x", "Nvidia A100 GPU": "nvidia-a100-80gb",
           "Nvidia H100 GPU": "nvidia-h100-sxm"}
"""Chips of the benchmark with a preset; the others (GH200, MI250, Intel GPUs) are skipped."""
CHECK_TOKENS = 1024
"""The length `published_results.csv` quotes: never fitted."""


@dataclass(frozen=True, slots=True)
class BenchRun:
    """One run: `batch` prompts of `tokens` tokens, each generating `tokens` tokens."""

    hardware: str
    gpus: int
    framework: str
    model: str
    tokens: int
    batch: int
    latency_s: float

    @property
    def label(self) -> str:
        return f"{self.model} x{self.gpus} b{self.batch} {self.tokens}/{self.tokens}"

    @property
    def output_tokens_per_s_per_chip(self) -> float:
        return self.batch * self.tokens / self.latency_s / self.gpus

    @property
    def fits_rocm(self) -> bool:
        return self.gpus == 1 and self.tokens != CHECK_TOKENS


@lru_cache(maxsize=1)
def bench_runs() -> tuple[BenchRun, ...]:
    rows = csv.DictReader(reference_text("llm_inference_bench_llama3.csv").splitlines())
    return tuple(BenchRun(r["Hardware"], int(r["Num of Hardware"]), r["Framework"],
                          MODELS[r["Model"]], int(r["Input Output Length"]),
                          int(r["Batch Size"]), float(r["Latency"])) for r in rows)


def mi300x_vllm_runs() -> tuple[BenchRun, ...]:
    return tuple(r for r in bench_runs()
                 if r.hardware == "AMD MI300X GPU" and r.framework == "vLLM")


def run_family(run: BenchRun) -> str:
    return serving_family(run.framework, run.hardware)


@lru_cache(maxsize=1)
def _published_fit_runs() -> frozenset[tuple[str, float]]:
    """(preset, latency) of the runs `published_results.csv` quotes as fit rows."""
    rows = [published_rows()[c.row_id] for c in CASES if case_role(c) == "fit"]
    return frozenset((CHIP_PRESETS[r["chip"]], round(float(r["value"]), 2)) for r in rows)


def run_role(run: BenchRun) -> str:
    """`fit` for the runs a serving family was fitted on, else `held-out`."""
    if run_family(run) == ROCM_FAMILY:
        return "fit" if run.fits_rocm else "held-out"
    fitted = (PRESETS[run.hardware], round(run.latency_s, 2)) in _published_fit_runs()
    return "fit" if fitted else "held-out"


def restated(run: BenchRun, serving: str) -> ModelWorkload:
    raw = {**serve_doc(run.label, run.model, run.tokens, run.tokens, run.batch, run.gpus),
           "serving": {"software": serving}}
    return parse_model_workloads([raw], f"<{run.label}>")[0]


@cache
def _preset(name: str) -> Hardware:
    return load_hardware(name)  # frozen: one parse per preset, shared by all its runs


def _hardware(run: BenchRun) -> Hardware:
    return _preset(PRESETS[run.hardware])


def compare_run(run: BenchRun) -> Comparison:
    family = run_family(run)
    workload = restated(run, family)
    metrics = evaluate_workload(_hardware(run), workload)
    return Comparison(run.label, run.hardware, PRESETS[run.hardware], run.label,
                      workload.name, "output_tokens_per_s_per_chip", "tokens/s/chip",
                      run.output_tokens_per_s_per_chip,
                      metrics.metrics.get("output_tokens_per_s_per_chip", 0.0),
                      metrics.feasible, "LLM-Inference-Bench run", run_role(run), family)


@dataclass(frozen=True, slots=True)
class RunCheck:
    """One chip and framework: the runs its family was fitted on and those it never saw."""

    preset: str
    framework: str
    family: str
    fit: Summary
    held_out: Summary
    infeasible: int
    """Runs whose batch's KV cache does not fit the model's memory (vLLM queues such
    sequences): neither fitted nor checked."""
    worst: str
    """The held-out run furthest off, with its error."""


def bench_check(chip: str | None = None) -> list[RunCheck]:
    """Every run on a chip with a preset (or only on `chip`, a preset or benchmark name),
    restated with its framework's serving family."""
    wanted = CHIP_PRESETS.get(chip, chip) if chip else None
    checks: list[RunCheck] = []
    groups: dict[tuple[str, str], list[BenchRun]] = {}
    for run in bench_runs():
        if run.hardware in PRESETS and wanted in (None, run.hardware, PRESETS[run.hardware]):
            groups.setdefault((run.hardware, run.framework), []).append(run)
    for (hardware, framework), runs in groups.items():
        comparisons = [compare_run(run) for run in runs]
        feasible = [c for c in comparisons if c.feasible]
        held_out = [c for c in feasible if c.role == "held-out"]
        worst = max(held_out, key=lambda c: c.ratio)
        checks.append(RunCheck(PRESETS[hardware], framework, comparisons[0].serving,
                               summarise([c for c in feasible if c.role == "fit"]),
                               summarise(held_out), len(comparisons) - len(feasible),
                               f"{worst.row_id} {worst.error:+.0%}"))
    return checks


def fit_rocm_serving() -> ServingFit:
    """Least squares on log(predicted / measured latency) of the fit runs, all terms >= 0.

    A run's latency with the family's overhead is the ideal-runtime latency plus, per
    generation step, `per_step_s + per_sequence_s x batch + per_layer_s x layers`, plus,
    per decode step, the decode GEMM FLOPs over `decode_gemm_peak_fraction x peak`.
    """
    from scipy.optimize import least_squares

    features: list[list[float]] = []
    ideal: list[float] = []
    measured: list[float] = []
    labels: list[str] = []
    for run in mi300x_vllm_runs():
        if not run.fits_rocm:
            continue
        hw = _hardware(run)
        workload = restated(run, "ideal")
        result = evaluate_workload(hw, workload)
        if not result.feasible:
            continue
        assert isinstance(workload.model, TransformerArchitecture)
        layers = float(workload.model.layers)
        decode = [p for p in phases_for_batch(workload, run.batch) if p.name == "decode"]
        gemm_s_at_peak = (sum(gemm_flop(p.ops) for p in decode)
                          / hw.compute.peak_flop_per_s[workload.precision])
        steps = float(workload.output_tokens)
        features.append([steps, steps * run.batch, steps * layers,
                         (steps - 1.0) * gemm_s_at_peak])
        ideal.append(result.metrics["request_latency_s"])
        measured.append(run.latency_s)
        labels.append(run.label)
    x_scale = np.array([1e-3, 1e-3, 1e-3, 1.0])  # ms, ms, ms, 1 / peak fraction
    a, t0, t = np.array(features) * x_scale, np.array(ideal), np.array(measured)

    def residual(x: np.ndarray) -> np.ndarray:
        return np.log((t0 + a @ x) / t)

    result = least_squares(residual, x0=np.array([1.0, 0.01, 0.1, 10.0]),
                           bounds=(0.0, np.inf))
    per_step, per_sequence, per_layer = (float(v) * 1e-3 for v in result.x[:3])
    inverse_fraction = float(result.x[3])
    overhead = ServingOverhead(per_step, per_sequence, SERVING_OVERHEADS[ROCM_FAMILY].evidence,
                               per_layer_s=per_layer,
                               decode_gemm_peak_fraction=(1.0 / inverse_fraction
                                                          if inverse_fraction > 0 else 0.0))
    return ServingFit(ROCM_FAMILY, overhead, tuple(labels),
                      float(np.sqrt(np.mean(residual(result.x) ** 2))))
