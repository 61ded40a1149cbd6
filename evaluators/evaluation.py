"""Evaluate model-level workloads on designs, and build the `dse evaluate` report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dse.hardware import Hardware
from evaluators._program import breakdowns_recorded, recording_breakdowns
from evaluators.api import WorkloadMetrics
from evaluators.registry import get_evaluator
from evaluators.workload_files import ModelWorkload, load_model_workloads


def evaluate_workloads(designs: Sequence[Hardware], workload: ModelWorkload, *,
                       breakdown: bool = False) -> list[WorkloadMetrics]:
    """One workload on many designs (vectorised: one core call, or one per batch size).
    breakdown: fill `time_by_phase_s` and `time_by_operator_class_s`."""
    if not designs:
        return []
    with recording_breakdowns(breakdown or breakdowns_recorded()):
        return get_evaluator(workload.evaluator).evaluate(list(designs), workload)


def evaluate_workload(hardware: Hardware, workload: ModelWorkload, *,
                      breakdown: bool = False) -> WorkloadMetrics:
    """One workload on one design. Infeasible plans come back with `feasible=False`."""
    return evaluate_workloads([hardware], workload, breakdown=breakdown)[0]


def metrics_to_dict(result: WorkloadMetrics) -> dict[str, Any]:
    """A JSON-ready view of one workload's result."""
    return {
        "workload": result.workload,
        "evaluator": result.evaluator,
        "feasible": result.feasible,
        "infeasible_reasons": list(result.infeasible_reasons),
        "metrics": dict(result.metrics),
        "time_by_bound_s": dict(result.time_by_bound_s),
        **({"time_by_phase_s": dict(result.time_by_phase_s),
            "time_by_operator_class_s": dict(result.time_by_operator_class_s)}
           if result.time_by_phase_s else {}),
    }


def model_workload_report(hardware: Hardware, path: str | Path) -> dict[str, Any]:
    """`dse evaluate --workload FILE --json` for model-level files.

    Returns {"metrics": {...}, "workloads": [...]}: `metrics` is the first (usually the
    only) workload's metrics with `feasible`, `infeasible_reasons` and `time_by_bound_s`
    beside them; `workloads` lists every document's result. ConfigError for a bad file.
    """
    workloads = load_model_workloads(path)
    results = [evaluate_workload(hardware, w) for w in workloads]
    first = results[0]
    metrics: dict[str, Any] = dict(first.metrics)
    metrics["feasible"] = first.feasible
    metrics["infeasible_reasons"] = list(first.infeasible_reasons)
    metrics["time_by_bound_s"] = dict(first.time_by_bound_s)
    return {"hardware": hardware.name, "metrics": metrics,
            "workloads": [metrics_to_dict(r) for r in results]}
