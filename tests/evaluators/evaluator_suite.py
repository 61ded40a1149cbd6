"""The test suite every evaluator's tests subclass (like optuna/testing/pytest_samplers.py).

A subclass names its evaluator and gives a feasible workload and one that cannot fit;
the shared tests check the contract every evaluator must keep: registered by name,
positive throughput, power between idle and TDP, a time breakdown that adds up to the
step, the same answer vectorised as one at a time, and infeasibility as data.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import pytest

from dse.config import load_hardware
from dse.core.designs import DesignArrays
from dse.hardware import Hardware
from evaluators import evaluate_workload, evaluate_workloads
from evaluators.registry import EVALUATORS, get_evaluator
from evaluators.workload_files import ModelWorkload, parse_model_workloads


def workload_from(doc: dict[str, Any]) -> ModelWorkload:
    return parse_model_workloads([doc], "<test>")[0]


def preset(name: str) -> Hardware:
    return load_hardware(name)


class EvaluatorSuite:
    """Subclass and set `evaluator`, `feasible_doc`, `too_big_doc`, `throughput_metric`."""

    evaluator: ClassVar[str]
    feasible_doc: ClassVar[dict[str, Any]]
    too_big_doc: ClassVar[dict[str, Any]]
    """A plan that cannot fit an H100's 80 GB."""
    throughput_metric: ClassVar[str]
    time_metric: ClassVar[str] = "step_time_s"
    breakdown_docs: ClassVar[tuple[dict[str, Any], ...]] = ()
    """More plans whose phase / operator-class breakdowns must add up (beside
    `feasible_doc`): ones with the evaluator's added terms (bubble, host wait, ...)."""

    @pytest.fixture(scope="class")
    @classmethod
    def h100(cls) -> Hardware:
        return preset("nvidia-h100-sxm")

    @pytest.fixture(scope="class")
    @classmethod
    def a100(cls) -> Hardware:
        return preset("nvidia-a100-80gb")

    def test_registered_by_name(self) -> None:
        assert self.evaluator in EVALUATORS
        assert self.evaluator == get_evaluator(self.evaluator).NAME
        assert workload_from(self.feasible_doc).evaluator == self.evaluator

    def test_feasible_plan_has_positive_throughput(self, h100: Hardware) -> None:
        result = evaluate_workload(h100, workload_from(self.feasible_doc))
        assert result.feasible, result.infeasible_reasons
        assert result.evaluator == self.evaluator
        assert result.metrics[self.throughput_metric] > 0
        assert result.metrics["memory_per_chip_bytes"] > 0

    def test_power_between_idle_and_tdp(self, h100: Hardware) -> None:
        result = evaluate_workload(h100, workload_from(self.feasible_doc))
        idle = float(DesignArrays.from_hardware([h100]).idle_w[0])
        assert idle * 0.99 <= result.metrics["power_w"] <= h100.power.tdp_w * 1.01

    def test_time_breakdown_adds_up(self, h100: Hardware) -> None:
        result = evaluate_workload(h100, workload_from(self.feasible_doc))
        total = sum(result.time_by_bound_s.values())
        assert total == pytest.approx(result.metrics[self.time_metric], rel=1e-6)

    def test_phase_and_operator_class_breakdowns_add_up(self, h100: Hardware,
                                                        a100: Hardware) -> None:
        """Asked for, both breakdowns sum to the step (or request) within 1e-9 and leave
        every figure as it was; not asked for, they are empty (a search does not pay)."""
        for doc in (self.feasible_doc, *self.breakdown_docs):
            workload = workload_from(doc)
            plain = evaluate_workloads([h100, a100], workload)
            broken_down = evaluate_workloads([h100, a100], workload, breakdown=True)
            for p, b in zip(plain, broken_down, strict=True):
                assert p.feasible and b.feasible, (doc["name"], p.infeasible_reasons)
                assert not p.time_by_phase_s and not p.time_by_operator_class_s
                assert b.metrics == p.metrics and b.time_by_bound_s == p.time_by_bound_s
                total = b.metrics[self.time_metric]
                assert sum(b.time_by_bound_s.values()) == pytest.approx(total, rel=1e-9)
                for breakdown in (b.time_by_phase_s, b.time_by_operator_class_s):
                    assert len(breakdown) >= 2, (doc["name"], breakdown)
                    assert all(v >= 0 for v in breakdown.values()), breakdown
                    assert sum(breakdown.values()) == pytest.approx(total, rel=1e-9), (
                        doc["name"], breakdown)
            self.check_breakdown(doc, broken_down[0])

    def check_breakdown(self, doc: dict[str, Any], result: Any) -> None:
        """Evaluator-specific checks of the parts named (override)."""

    def test_vectorised_equals_one_at_a_time(self, h100: Hardware, a100: Hardware) -> None:
        workload = workload_from(self.feasible_doc)
        together = evaluate_workloads([h100, a100, h100], workload)
        alone = [evaluate_workload(hw, workload) for hw in (h100, a100, h100)]
        for t, a in zip(together, alone, strict=True):
            assert t.feasible == a.feasible
            assert t.metrics[self.throughput_metric] == pytest.approx(
                a.metrics[self.throughput_metric], rel=1e-9)

    def test_faster_chip_is_faster(self, h100: Hardware, a100: Hardware) -> None:
        workload = workload_from(self.feasible_doc)
        fast, slow = evaluate_workloads([h100, a100], workload)
        assert fast.metrics[self.throughput_metric] > slow.metrics[self.throughput_metric]

    def test_plan_that_does_not_fit_is_infeasible_data(self, h100: Hardware) -> None:
        result = evaluate_workload(h100, workload_from(self.too_big_doc))
        assert not result.feasible
        assert any("does not fit" in r for r in result.infeasible_reasons)
        assert result.metrics["memory_per_chip_bytes"] > 0.92 * 80 * 2**30

    def test_unsupported_precision_is_infeasible(self, h100: Hardware) -> None:
        compute = dataclasses.replace(h100.compute, peak_flop_per_s={"fp32": 60e12})
        no_bf16 = h100.with_changes(compute=compute)
        result = evaluate_workload(no_bf16, workload_from(self.feasible_doc))
        assert not result.feasible
        assert any("bf16" in r for r in result.infeasible_reasons)
