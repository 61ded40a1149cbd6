"""search_spaces/whole_chip.yaml: the hard space the sampler benchmark measures on.

It must be a whole chip (>= 12 parameters, >= 10^12 distinct designs, counted from the
Optuna distributions it compiles to), pass `dse space check`, and be physically
anchored: its H100-like point reproduces the H100 reference chip on the same suite.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from typer.testing import CliRunner

from dse.search import study as studies
from dse.search.evaluation import PointToEvaluate, evaluate_points, evaluate_references
from dse.space import SearchSpace, load_space

ROOT = Path(__file__).resolve().parents[2]
SPACE_FILE = ROOT / "search_spaces" / "whole_chip.yaml"

H100_LIKE = {
    "process_node_nm": 5, "compute_units": 132, "clock_mhz": 1950, "fp8_support": True,
    "sram_capacity_mib": 112, "sram_management": "cache", "hbm_generation": "hbm3",
    "hbm_stacks": 5, "ddr_channels": 0, "ddr_gib_per_channel": 64, "chip_links": 18,
    "pcie_generation": 5, "async_launch": True, "graph_capture": True,
    "device_scalar_control": False, "spatial_fusion": False,
    "fabric_area_overhead_fraction": 0.05, "tdp_w": 700,
}
"""H100 SXM5 as this space spells it (1950 MHz: the clock grid has 50 MHz steps)."""


@pytest.fixture(scope="module")
def space() -> SearchSpace:
    return load_space(SPACE_FILE)


def _values_per_distribution(dist: object) -> int:
    if isinstance(dist, CategoricalDistribution):
        return len(dist.choices)
    if isinstance(dist, IntDistribution):
        assert not dist.log
        return (dist.high - dist.low) // dist.step + 1
    assert isinstance(dist, FloatDistribution) and dist.step is not None, "no continuous axis"
    return round((dist.high - dist.low) / dist.step) + 1


def test_space_is_a_whole_chip_with_at_least_1e12_designs(space: SearchSpace) -> None:
    dists = studies.distributions(space)
    assert len(dists) >= 12
    count = math.prod(_values_per_distribution(d) for d in dists.values())
    assert count >= 10**12
    assert count == space.cardinality() == 144_521_147_842_560
    # every constant says where it comes from
    assert all(c.source.strip() for c in space.spec.constants.values())


def test_cli_space_check_passes() -> None:
    from dse.cli import app

    result = CliRunner().invoke(app, ["space", "check", str(SPACE_FILE)])
    assert result.exit_code == 0, result.output
    assert "18 parameters" in result.output
    assert "144,521,147,842,560 designs" in result.output


def test_h100_like_point_reproduces_the_h100_reference(space: SearchSpace) -> None:
    (outcome,) = evaluate_points(space, [PointToEvaluate(0, H100_LIKE)])
    references = dict(zip(space.spec.references,
                          evaluate_references(space, [h for _, h in space.reference_designs()]),
                          strict=True))
    h100 = references["nvidia-h100-sxm"]
    assert outcome.feasible, outcome.infeasible_reason
    assert all(r.feasible for r in references.values())
    # the area model (node-fitted logic per TFLOP/s + fp8 paths + SRAM + PHYs) lands
    # within 5 % of H100's 814 mm2; throughput, power and cost within 2 % of the preset
    assert outcome.derived["chip_area_mm2"] == pytest.approx(814, rel=0.05)
    for name in ("score", "power_w", "unit_cost_usd"):
        assert outcome.objectives[name] == pytest.approx(h100.objectives[name], rel=0.02), name


def test_every_part_costs_something_and_impossible_chips_are_infeasible(
    space: SearchSpace,
) -> None:
    variants = {
        "n7": {"process_node_nm": 7},           # 7 nm logic is 3x larger: over the reticle
        "stacks8": {"hbm_stacks": 8},           # 8 stacks need more die edge than fits
        "no_memory": {"hbm_stacks": 0},         # Llama 3 8B weights fit nowhere
        "no_links": {"chip_links": 0},          # 8-chip tensor parallel cannot all-reduce
        "no_fp8": {"fp8_support": False},
        "no_graphs": {"graph_capture": False, "async_launch": False},
        "tdp_400": {"tdp_w": 400},
    }
    points = [PointToEvaluate(i, {**H100_LIKE, **v}) for i, v in enumerate(variants.values())]
    base, *rest = evaluate_points(space, [PointToEvaluate(99, H100_LIKE), *points])
    outcomes = dict(zip(variants, rest, strict=True))
    for outcome in outcomes.values():
        assert all(math.isfinite(v) for v in outcome.objectives.values())
    assert not outcomes["n7"].feasible and "reticle_die_area" in outcomes["n7"].infeasible_reason
    assert outcomes["stacks8"].derived["chip_area_mm2"] == pytest.approx((8 * 11 / 2.4) ** 2)
    assert not outcomes["stacks8"].feasible
    assert not outcomes["no_memory"].feasible and "does not fit" in (
        outcomes["no_memory"].infeasible_reason)
    assert not outcomes["no_links"].feasible
    # fp8 paths cost 5 % of compute area and buy serving throughput
    assert outcomes["no_fp8"].derived["chip_area_mm2"] < base.derived["chip_area_mm2"]
    assert outcomes["no_fp8"].objectives["score"] < 0.8 * base.objectives["score"]
    # host features and the power limit trade throughput for nothing / for watts
    assert outcomes["no_graphs"].objectives["score"] < base.objectives["score"]
    assert outcomes["tdp_400"].objectives["power_w"] < base.objectives["power_w"]
    assert outcomes["tdp_400"].objectives["score"] < base.objectives["score"]
