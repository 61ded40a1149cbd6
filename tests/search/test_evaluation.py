from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest

from dse.config import load_hardware
from dse.core import economics
from dse.hardware import Hardware
from dse.search.evaluation import (
    PointToEvaluate,
    default_suite_evaluator,
    evaluate_points,
    evaluate_references,
)
from dse.space import load_space
from evaluators.api import SuiteResult

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def space():  # type: ignore[no-untyped-def]
    return load_space(ROOT / "search_spaces" / "sram_vs_hbm.yaml")


def point(number: int, route: str = "hbm", sram: int = 64, stacks: int = 5,
          channels: int = 8) -> PointToEvaluate:
    return PointToEvaluate(number, {"memory_route": route, "sram_capacity_mib": sram,
                                    "hbm_stacks": stacks, "ddr_channels": channels,
                                    "clock_mhz": 1800})


def test_outcomes_carry_the_evaluators_and_economics_numbers(space) -> None:  # type: ignore[no-untyped-def]
    outcomes = evaluate_points(space, [point(0), point(1, "ddr", 896)])
    assert [o.trial_number for o in outcomes] == [0, 1]
    built = space.build(point(0).params, "x").hardware
    (expected,) = default_suite_evaluator([built], "llm-serving")
    chip = economics.chip_economics(built)
    first = outcomes[0]
    assert first.state == "complete"
    assert first.objectives["score"] == pytest.approx(expected.score)
    assert first.objectives["power_w"] == pytest.approx(expected.power_w)
    assert first.objectives["unit_cost_usd"] == pytest.approx(chip.unit_cost_usd)
    assert first.derived["die_area_mm2"] == pytest.approx(chip.die_area_m2 * 1e6)
    assert first.derived["compute_units"] == 134
    # relative violation: (cost - 40000) / 40000
    assert first.constraints["max_unit_cost_usd"] == pytest.approx(
        (chip.unit_cost_usd - 40000) / 40000
    )
    assert first.constraints["fits_workloads"] == 0.0
    assert first.feasible == (first.infeasible_reason == "")
    assert {w.workload for w in first.workloads} == {w.workload for w in expected.workloads}
    assert all(set(w.time_by_bound_s) for w in first.workloads)


def test_unbuildable_point_is_infeasible_data_not_an_error(space) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    tiny_budget = dataclasses.replace(
        space,
        spec=space.spec.model_copy(update={"constants": {
            **space.spec.constants,
            "die_area_budget_mm2": space.spec.constants["die_area_budget_mm2"].model_copy(
                update={"value": 200}),
        }}),
    )
    (outcome,) = evaluate_points(tiny_budget, [point(3, "hbm", 1024, 8)])
    assert outcome.state == "complete" and not outcome.feasible
    assert outcome.infeasible_reason.startswith("unbuildable: ")
    # (200 - 1024 x 0.2559 - 18.5 - 8 x 12) / 5.358 -> -33 units
    assert "compute.compute_units: must be > 0, got -33" in outcome.infeasible_reason
    assert math.isnan(outcome.objectives["score"])
    assert outcome.optuna_values(["maximize", "minimize", "minimize"]) == [-1e30, 1e30, 1e30]
    assert outcome.optuna_constraints() == {"fits_workloads": 1e6, "max_unit_cost_usd": 1e6}


class RaiseOnSram:
    """Evaluator that raises for one SRAM size, to check the failure is isolated."""

    def __call__(self, designs: Sequence[Hardware], suite: str) -> list[SuiteResult]:
        if any(d.sram.capacity_bytes == 96 * 2**20 for d in designs):
            raise ZeroDivisionError("boom in the evaluator")
        return default_suite_evaluator(designs, suite)


def test_a_design_that_raises_fails_alone(space) -> None:  # type: ignore[no-untyped-def]
    outcomes = evaluate_points(
        space, [point(0, sram=64), point(1, sram=96), point(2, sram=128)], RaiseOnSram()
    )
    assert [o.state for o in outcomes] == ["complete", "failed", "complete"]
    assert outcomes[1].error.startswith("ZeroDivisionError: boom in the evaluator")
    assert outcomes[0].objectives["score"] > 0 and outcomes[2].objectives["score"] > 0


def test_references_are_evaluated_on_the_same_objectives(space) -> None:  # type: ignore[no-untyped-def]
    chips = [load_hardware("nvidia-a100-80gb"), load_hardware("nvidia-h100-sxm")]
    outcomes = evaluate_references(space, chips)
    assert [o.trial_number for o in outcomes] == [-1, -2]
    # the suite's reference chip scores exactly 1
    assert outcomes[0].objectives["score"] == pytest.approx(1.0)
    assert outcomes[1].objectives["score"] > 1.5


def test_objectives_that_read_predicted_times_carry_their_error_band(space) -> None:  # type: ignore[no-untyped-def]
    from dse.validation.bands import SHIPPED_BANDS

    (outcome,) = evaluate_references(space, [load_hardware("nvidia-h100-sxm")])
    inference = SHIPPED_BANDS["inference-step"]  # llm-serving: every workload is inference
    assert {w.band for w in outcome.workloads} == {
        ("inference-step", inference.low_ratio, inference.high_ratio)}
    score = outcome.objectives["score"]
    # a throughput at the slow end of the band is the prediction / high ratio, and so the
    # score (a geometric mean of throughputs); the fast end / low ratio
    assert outcome.objective_bands["score"] == pytest.approx(
        (score / inference.high_ratio, score / inference.low_ratio))
    # cost and power read no predicted time: no band
    assert all(math.isnan(v) for v in outcome.objective_bands["unit_cost_usd"])
    assert all(math.isnan(v) for v in outcome.objective_bands["power_w"])


def test_cost_splits_into_manufacturing_and_nre_over_the_spaces_volume(space) -> None:  # type: ignore[no-untyped-def]
    """unit_cost_usd = manufacturing_cost_usd + nre_usd / volume_units; the volume is the
    space's `economics.volume_units` (a number or an expression over parameters)."""
    from dse.space import space_from_text

    (default,) = evaluate_points(space, [point(0)])
    built = space.build(point(0).params, "x").hardware
    chip = economics.chip_economics(built)
    d = default.derived
    assert d["manufacturing_cost_usd"] == pytest.approx(chip.manufacturing_cost_usd)
    assert d["volume_units"] == 10_000  # tco.default_volume of economics.yaml
    assert d["nre_per_unit_usd"] == pytest.approx(d["nre_usd"] / 10_000)
    assert d["unit_cost_usd"] == pytest.approx(d["manufacturing_cost_usd"]
                                               + d["nre_per_unit_usd"])
    # the H100-like 5 nm design: NRE / 10,000 is most of the unit cost
    assert d["nre_per_unit_usd"] > 5 * d["manufacturing_cost_usd"]

    text = space.text + "economics: {volume_units: 'hbm_stacks * 200000'}\n"
    by_parameter = space_from_text(text, space.source, Path(space.directory))
    (scaled,) = evaluate_points(by_parameter, [point(0, stacks=5)])
    s = scaled.derived
    assert s["volume_units"] == 1_000_000
    assert s["manufacturing_cost_usd"] == pytest.approx(d["manufacturing_cost_usd"])
    assert s["nre_per_unit_usd"] == pytest.approx(d["nre_usd"] / 1_000_000)
    assert scaled.objectives["unit_cost_usd"] == pytest.approx(
        s["manufacturing_cost_usd"] + s["nre_usd"] / 1_000_000
    )
    # references have no parameters: they keep the default volume
    (reference,) = evaluate_references(by_parameter, [load_hardware("nvidia-h100-sxm")])
    assert reference.derived["volume_units"] == 10_000


def test_a_volume_below_one_chip_is_a_config_error(space) -> None:  # type: ignore[no-untyped-def]
    from dse.errors import ConfigError
    from dse.space import space_from_text

    with pytest.raises(ConfigError, match=r"economics\.volume_units.*at least 1"):
        space_from_text(space.text + "economics: {volume_units: 0}\n", space.source,
                        Path(space.directory))


class RaiseOnFirstCall:
    """Evaluator that raises once (a batch that failed), then evaluates for real."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, designs: Sequence[Hardware], suite: str) -> list[SuiteResult]:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("transient failure of the batch")
        return default_suite_evaluator(designs, suite)


def test_the_one_design_retry_uses_the_spaces_calibration(space) -> None:  # type: ignore[no-untyped-def]
    """After a batch raises, the design re-run on its own is evaluated under the space's
    calibration, as in the batch: same score as a batch that did not raise."""
    import dataclasses

    from dse.core.calibration import DEFAULT_CALIBRATION

    slow_hbm = dataclasses.replace(DEFAULT_CALIBRATION,
                                   hbm_efficiency=DEFAULT_CALIBRATION.hbm_efficiency / 2)
    calibrated = dataclasses.replace(space, calibration=slow_hbm)
    (batch,) = evaluate_points(calibrated, [point(0)])
    (shipped,) = evaluate_points(space, [point(0)])
    flaky = RaiseOnFirstCall()
    (retried,) = evaluate_points(calibrated, [point(0)], flaky)
    assert flaky.calls == 2 and retried.state == "complete"
    # serving is bandwidth-bound: halving HBM efficiency lowers the score a lot
    assert batch.objectives["score"] < 0.8 * shipped.objectives["score"]
    assert retried.objectives["score"] == pytest.approx(batch.objectives["score"], rel=1e-12)
