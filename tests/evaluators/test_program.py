"""Phases run through the core: the breakdown by phase part and operator class."""

from __future__ import annotations

import pytest
from evaluator_suite import preset

from dse.workload import Collective, Elementwise, MatMul
from evaluators._program import Phase, recording_breakdowns, run_phases


def test_overlapped_operators_are_charged_only_their_exposed_time() -> None:
    """A gradient all-reduce longer than the matmul it hides behind: the phase lasts the
    all-reduce; the matmul keeps its own time and the all-reduce is charged the rest."""
    phases = [Phase("step", (MatMul(1024, 1024, 1024), Elementwise(2**20, 2**20)),
                    overlapped_ops=(Collective("all_reduce", 2.0**31, 8),),
                    labels=("compute", "compute", "gradient_sync")),
              Phase("optimizer", (Elementwise(2**28, 2**28),), repeats=2.0)]
    result = run_phases([preset("nvidia-h100-sxm")], phases)
    assert result.breakdown(0) == ({}, {})  # not asked for
    with recording_breakdowns():
        by_phase, by_class = result.breakdown(0, {"host_wait": 1e-3})
    times = result.op_time_s[0]
    host = result.phase_host_s["step"][0]
    assert times[2] > times[0] + times[1]  # the all-reduce outlasts the serial work
    assert by_class["gemm"] == pytest.approx(times[0], rel=1e-12)
    assert by_class["collective"] == pytest.approx(times[2] - times[0] - times[1], rel=1e-12)
    assert by_phase["compute"] == pytest.approx(times[0] + times[1] + 2 * host / 3, rel=1e-12)
    assert by_phase["optimizer"] == pytest.approx(2 * result.phase_time_s["optimizer"][0])
    assert by_phase["host_wait"] == by_class["host_wait"] == 1e-3
    total = float(result.step_time_s(0.0)[0]) + 1e-3
    assert sum(by_phase.values()) == pytest.approx(total, rel=1e-12)
    assert sum(by_class.values()) == pytest.approx(total, rel=1e-12)


def test_labels_must_name_every_operator() -> None:
    with pytest.raises(ValueError, match="phase step: 1 labels for 2 operators"):
        Phase("step", (MatMul(8, 8, 8),), overlapped_ops=(Collective("all_reduce", 8.0, 2),),
              labels=("forward",))
