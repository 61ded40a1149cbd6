"""Workload evaluators: model-level workloads -> operators for the shared cost core.

Public entry points (the runtime and the CLI use only these):

- `load_model_workloads(path)`: a (multi-document) model-level workload file.
- `evaluate_workload(hardware, workload)` / `evaluate_workloads(designs, workload)`.
- `evaluate_suite(designs, suite)` and `list_suites()`: weighted suites with one score.
- `model_workload_report(hardware, path)`: the `dse evaluate --json` result.
- `suite_report(hardware, suite)`: one design's suite score with per-workload detail.

Evaluators are found by name in `evaluators.registry`. Nothing here imports optuna, ray,
pyarrow or the CLI.
"""

from __future__ import annotations

from evaluators.api import SuiteResult, WorkloadMetrics
from evaluators.evaluation import evaluate_workload, evaluate_workloads, model_workload_report
from evaluators.suites import evaluate_suite, list_suites, load_suite, suite_report
from evaluators.workload_files import ModelWorkload, load_model_workloads

__all__ = [
    "ModelWorkload",
    "SuiteResult",
    "WorkloadMetrics",
    "evaluate_suite",
    "evaluate_workload",
    "evaluate_workloads",
    "list_suites",
    "load_model_workloads",
    "load_suite",
    "model_workload_report",
    "suite_report",
]
