"""Run a workload's phases through the cost core once, and account for them per step.

An evaluator describes one chip's work for one step (a training step, a served batch) as
named phases: each phase is a list of operators the chip runs in order, plus optional
operators that run concurrently on the links (prefetch, gradient reduction) and hide
behind the phase's serial work. A phase repeats a given number of times per step (e.g.
once per micro-batch). All phases go to `evaluate_program` in ONE call, vectorised over
designs; this module turns per-operator times into per-phase and per-step figures.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import numpy as np

from dse.core import BOUND_NAMES, evaluate_program
from dse.hardware import Hardware
from dse.workload import Operator

FloatArray = np.ndarray

OPERATOR_CLASSES: Mapping[str, str] = {
    "matmul": "gemm",
    "conv2d": "convolution",
    "attention": "attention",
    "elementwise": "elementwise",
    "embedding_lookup": "embedding",
    "collective": "collective",
    "transfer": "host_transfer",
    "sync": "host_sync",
    "scalar_readback": "host_sync",
    "reconfigure": "reconfigure",
}
"""The operator class each core operator kind is reported under (`time_by_operator_class_s`)."""
HOST_OVERHEAD = "host_overhead"
"""Class of the host-side time the core adds to a program beyond its operators' own
(launches and syncs not hidden by asynchronous launch)."""

_BREAKDOWNS: ContextVar[bool] = ContextVar("dse_breakdowns", default=False)


@contextmanager
def recording_breakdowns(on: bool = True) -> Iterator[None]:
    """Evaluators called inside fill `WorkloadMetrics.time_by_phase_s` and
    `time_by_operator_class_s` (left empty otherwise: a search does not pay for them)."""
    token = _BREAKDOWNS.set(on)
    try:
        yield
    finally:
        _BREAKDOWNS.reset(token)


def breakdowns_recorded() -> bool:
    return _BREAKDOWNS.get()


@dataclass(frozen=True, slots=True)
class Phase:
    """Operators one chip runs `repeats` times per step."""

    name: str
    ops: tuple[Operator, ...]
    repeats: float = 1.0
    overlapped_ops: tuple[Operator, ...] = ()
    """Run on the links concurrently with `ops` (prefetch, bucketed gradient reduction);
    the phase lasts max(serial, overlapped)."""
    labels: tuple[str, ...] = ()
    """The part of the step each operator of `ops` then `overlapped_ops` belongs to in
    `time_by_phase_s` (e.g. forward / backward within a micro-batch); empty: all `name`."""

    def __post_init__(self) -> None:
        if self.labels and len(self.labels) != len(self.ops) + len(self.overlapped_ops):
            raise ValueError(f"phase {self.name}: {len(self.labels)} labels for "
                             f"{len(self.ops) + len(self.overlapped_ops)} operators")


@dataclass(frozen=True, slots=True)
class PhaseResult:
    """Per-design figures for a set of phases (arrays of shape (D,))."""

    phase_time_s: Mapping[str, FloatArray]
    """One run of each phase, overlap applied and host overhead included."""
    phase_energy_j: Mapping[str, FloatArray]
    """One run of each phase: operator energy plus idle power over its duration."""
    phase_bound_s: Mapping[str, FloatArray]
    """(D, len(BOUND_NAMES)) seconds per bound, one run of each phase."""
    phase_flops: Mapping[str, float]
    """FLOP one chip executes in one run of each phase."""
    idle_w: FloatArray
    clock_fraction: FloatArray
    feasible: np.ndarray
    reasons: tuple[tuple[str, ...], ...]
    repeats: Mapping[str, float] = field(default_factory=dict)
    op_time_s: FloatArray | None = None
    """(D, n_ops) each operator's share of the program's time (`ProgramResult.time_s`)."""
    op_kinds: tuple[str, ...] = ()
    phases: tuple[Phase, ...] = ()
    spans: Mapping[str, tuple[slice, slice]] = field(default_factory=dict)
    """Each phase's serial and overlapped operators in `op_time_s`."""
    phase_host_s: Mapping[str, FloatArray] = field(default_factory=dict)

    def step_time_s(self, extra_idle_s: FloatArray | float = 0.0) -> FloatArray:
        total = sum(self.phase_time_s[n] * r for n, r in self.repeats.items())
        return np.asarray(total) + extra_idle_s

    def step_energy_j(self, extra_idle_s: FloatArray | float = 0.0) -> FloatArray:
        total = sum(self.phase_energy_j[n] * r for n, r in self.repeats.items())
        return np.asarray(total) + self.idle_w * extra_idle_s

    def step_flops(self) -> float:
        return float(sum(self.phase_flops[n] * r for n, r in self.repeats.items()))

    def time_by_bound(self, design: int, extra: Mapping[str, float] | None = None,
                      repeats: Mapping[str, float] | None = None) -> dict[str, float]:
        """Seconds per step by bound, with `repeats` (default: the phases') plus `extra`."""
        out = dict.fromkeys(BOUND_NAMES, 0.0)
        for name, times in (self.repeats if repeats is None else repeats).items():
            row = self.phase_bound_s[name][design]
            for b, bound in enumerate(BOUND_NAMES):
                out[bound] += float(row[b]) * times
        for key, value in (extra or {}).items():
            out[key] = out.get(key, 0.0) + float(value)
        return out

    def breakdown(self, design: int, extra: Mapping[str, float] | None = None,
                  repeats: Mapping[str, float] | None = None
                  ) -> tuple[dict[str, float], dict[str, float]]:
        """(time by phase, time by operator class) of one design over a step, or two empty
        dicts unless `recording_breakdowns` is on.

        Each sums to `step_time_s` with `repeats` (default: the phases') plus `extra`
        (terms the evaluator adds, e.g. host wait or pipeline bubble: their own entries in
        both). Attributed as `time_by_bound`: an operator's own time; the exposed part of
        the overlapped operators (max(serial, overlapped) - serial) in proportion to their
        times; a phase's host overhead to `host_overhead` by class and to its parts in
        proportion to their operator counts (as `run_phases` spreads it over phases).
        """
        if not _BREAKDOWNS.get() or self.op_time_s is None:
            return {}, {}
        repeats = self.repeats if repeats is None else repeats
        by_phase: dict[str, float] = {}
        by_class: dict[str, float] = {}
        times = self.op_time_s[design]
        for phase in self.phases:
            r = float(repeats.get(phase.name, 0.0))
            serial, overlapped = self.spans[phase.name]
            n_serial = serial.stop - serial.start
            n_ops = n_serial + overlapped.stop - overlapped.start
            if r == 0.0 or n_ops == 0:
                continue
            own = times[serial]
            links = times[overlapped]
            serial_s, overlapped_s = float(own.sum()), float(links.sum())
            exposed = (max(overlapped_s - serial_s, 0.0) / overlapped_s
                       if overlapped_s > 0 else 0.0)
            labels = phase.labels or (phase.name,) * n_ops
            kinds = self.op_kinds[serial.start:serial.stop] + self.op_kinds[
                overlapped.start:overlapped.stop]
            shares = [float(t) for t in own] + [float(t) * exposed for t in links]
            host = float(self.phase_host_s[phase.name][design])
            for label, kind, t in zip(labels, kinds, shares, strict=True):
                by_phase[label] = by_phase.get(label, 0.0) + (t + host / n_ops) * r
                cls = OPERATOR_CLASSES.get(kind, kind)
                by_class[cls] = by_class.get(cls, 0.0) + t * r
            if host:
                by_class[HOST_OVERHEAD] = by_class.get(HOST_OVERHEAD, 0.0) + host * r
        for key, value in (extra or {}).items():
            by_phase[key] = by_phase.get(key, 0.0) + float(value)
            by_class[key] = by_class.get(key, 0.0) + float(value)
        return by_phase, by_class


def run_phases(designs: Sequence[Hardware], phases: Sequence[Phase], *,
               resident_bytes: float | FloatArray = 0.0,
               graph_captured: bool = True) -> PhaseResult:
    """Evaluate every phase's operators in one core call and fold them into phases."""
    ops: list[Operator] = []
    spans: list[tuple[Phase, slice, slice]] = []
    for phase in phases:
        start = len(ops)
        ops.extend(phase.ops)
        mid = len(ops)
        ops.extend(phase.overlapped_ops)
        spans.append((phase, slice(start, mid), slice(mid, len(ops))))
    # Each phase (and the operators overlapping it) starts with the host waiting for the
    # device, so its time is what it takes on its own, however often it repeats.
    starts = sorted({span.start for _, serial, overlapped in spans
                     for span in (serial, overlapped) if span.start < len(ops)})
    result = evaluate_program(designs, ops, resident_bytes=resident_bytes,
                              graph_captured=graph_captured, phase_starts=starts)
    time_s = np.asarray(result.time_s, dtype=float)
    energy_j = np.asarray(result.energy_j, dtype=float)
    bound_by = np.asarray(result.bound_by)
    flops = np.asarray(result.flops, dtype=float)
    idle_w = np.asarray(result.idle_w, dtype=float)
    # NOTE: the core adds host-side costs (launch, sync stalls not hidden by asynchronous
    # launch) to the program total; they are spread over phases in proportion to their
    # operator counts, since launches scale with operators issued.
    host_extra_s = np.maximum(np.asarray(result.total_time_s, dtype=float)
                              - time_s.sum(axis=1), 0.0)
    op_total = max(len(ops), 1)
    n_bounds = len(BOUND_NAMES)
    phase_time: dict[str, FloatArray] = {}
    phase_energy: dict[str, FloatArray] = {}
    phase_bound: dict[str, FloatArray] = {}
    phase_flops: dict[str, float] = {}
    phase_host: dict[str, FloatArray] = {}
    for phase, serial, overlapped in spans:
        serial_s = time_s[:, serial].sum(axis=1)
        overlapped_s = time_s[:, overlapped].sum(axis=1)
        share = (serial.stop - serial.start + overlapped.stop - overlapped.start) / op_total
        host_s = host_extra_s * share
        phase_host[phase.name] = host_s
        duration = np.maximum(serial_s, overlapped_s) + host_s
        phase_time[phase.name] = duration
        op_energy = energy_j[:, serial].sum(axis=1) + energy_j[:, overlapped].sum(axis=1)
        # Operator energy covers the operators' own durations; the chip idles (at idle
        # power) for the exposed host time.
        phase_energy[phase.name] = op_energy + idle_w * host_s
        bounds = np.zeros((len(designs), n_bounds))
        for b in range(n_bounds):
            mask = bound_by[:, serial] == b
            bounds[:, b] = np.where(mask, time_s[:, serial], 0.0).sum(axis=1)
        # Exposed (not hidden) link time of the overlapped operators, charged to their bound.
        exposed = np.maximum(overlapped_s - serial_s, 0.0)
        if overlapped.stop > overlapped.start:
            frac = np.where(overlapped_s > 0, exposed / np.maximum(overlapped_s, 1e-300), 0.0)
            for b in range(n_bounds):
                mask = bound_by[:, overlapped] == b
                bounds[:, b] += frac * np.where(mask, time_s[:, overlapped], 0.0).sum(axis=1)
        bounds[:, BOUND_NAMES.index("host")] += host_s
        phase_bound[phase.name] = bounds
        phase_flops[phase.name] = float(flops[serial].sum() + flops[overlapped].sum())
    feasible = np.asarray(result.feasible, dtype=bool)
    reasons = tuple(
        () if feasible[d] else (str(result.infeasible_reason(d)),) for d in range(len(designs))
    )
    return PhaseResult(phase_time, phase_energy, phase_bound, phase_flops, idle_w,
                       np.asarray(result.clock_fraction, dtype=float), feasible, reasons,
                       {p.name: p.repeats for p in phases}, time_s, result.op_kinds,
                       tuple(phases), {p.name: (serial, overlapped)
                                       for p, serial, overlapped in spans}, phase_host)
