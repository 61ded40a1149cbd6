"""The contract between evaluators, suites and the search runtime.

An evaluator turns one model-level workload (training or inference of a named model)
into operators for the shared cost core and reports workload metrics. The runtime never
imports an evaluator module directly: it calls `evaluate_suite` with a suite name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class WorkloadMetrics:
    """What one design achieves on one model-level workload."""

    workload: str
    evaluator: str
    feasible: bool
    infeasible_reasons: tuple[str, ...] = ()
    metrics: Mapping[str, float] = field(default_factory=dict)
    """e.g. step_time_s, tokens_per_s, power_w, energy_per_sample_j, memory_per_chip_bytes."""
    time_by_bound_s: Mapping[str, float] = field(default_factory=dict)
    """Seconds per step (or per request) attributed to each `bound_by` value."""
    time_by_phase_s: Mapping[str, float] = field(default_factory=dict)
    """The same seconds by part of the step (prefill / decode; forward / backward /
    optimizer / gradient_sync; ...) plus the evaluator's added terms (host wait, pipeline
    bubble) as their own entries; sums to the step (or request). Empty unless asked for
    (`evaluate_suite(..., breakdown=True)`, `recording_breakdowns`)."""
    time_by_operator_class_s: Mapping[str, float] = field(default_factory=dict)
    """The same seconds by operator class (gemm, attention, elementwise, collective,
    embedding, host_overhead, ...; `evaluators._program.OPERATOR_CLASSES`) plus the added
    terms; empty unless asked for, like `time_by_phase_s`."""


@dataclass(frozen=True, slots=True)
class SuiteResult:
    """One design on one suite: the score and each workload's metrics."""

    suite: str
    score: float
    """Weighted geometric mean of throughput relative to the suite's reference chip
    (1.0 = as fast as the reference); 0.0 when any workload is infeasible."""
    power_w: float
    """Weighted mean of average power per chip over the suite's workloads."""
    feasible: bool
    infeasible_reasons: tuple[str, ...]
    workloads: tuple[WorkloadMetrics, ...]
