"""Parameter importance leaves out the parameters that do not act on a trial's design
(a results folder of the shipped sram_vs_hbm space, written by hand)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dse.browse.importance import compute_importance, importance_rows
from dse.browse.results import open_results
from tests.browse.route_folder import write_route_folder

PARAMS = ["memory_route", "sram_capacity_mib", "clock_mhz", "hbm_stacks", "ddr_channels"]


@pytest.fixture(scope="module")
def concentrated_inert(tmp_path_factory: pytest.TempPathFactory, writer: Any) -> Path:
    """200 trials, half per route. Power and cost are set by the route alone (plus
    noise); DDR channels change nothing. On the HBM route, the better one, the sampler
    happened to draw 4 channels every time (what a sampler that has converged on
    that route does with a dimension the route drops)."""
    rng = np.random.default_rng(3)
    n = 200
    route = ["hbm" if i % 2 == 0 else "ddr" for i in range(n)]
    sram = (rng.integers(1, 65, n) * 16).tolist()
    clock = (rng.integers(12, 21, n) * 100).tolist()
    stacks = rng.integers(1, 9, n).tolist()
    channels = [4 if r == "hbm" else int(c) for r, c in zip(route, rng.integers(1, 9, n) * 4,
                                                             strict=True)]
    power = [(300.0 if r == "hbm" else 600.0) + rng.normal(0, 5) for r in route]
    trials: dict[str, list[Any]] = {
        "trial_number": list(range(n)), "state": ["complete"] * n, "feasible": [True] * n,
        "infeasible_reason": [""] * n, "error": [""] * n,
        "param_memory_route": route, "param_sram_capacity_mib": sram,
        "param_clock_mhz": clock, "param_hbm_stacks": stacks, "param_ddr_channels": channels,
        "objective_score": [1000.0 / p for p in power], "objective_power_w": power,
        "objective_unit_cost_usd": [40.0 * p + rng.normal(0, 100) for p in power],
    }
    return write_route_folder(tmp_path_factory.mktemp("importance") / "sram_vs_hbm", writer,
                              trials, PARAMS)


def test_a_parameter_inert_on_half_the_trials_is_not_ranked_by_its_unused_values(
    concentrated_inert,
):
    importance = compute_importance(open_results(concentrated_inert))
    assert not importance.note and importance.trials_used == 200
    rows = {r["parameter"]: r for r in importance_rows(importance)}
    # told as sampled on every trial, ddr_channels took 0.77 of every target here
    for target in ("power_w", "unit_cost_usd", "score", "front"):
        ranked = sorted(rows, key=lambda p: -rows[p][target])
        assert ranked[0] == "memory_route", (target, ranked)
        # the best tenth are all HBM designs, which have no DDR channels: nothing to rank
        assert rows["ddr_channels"][target] == 0.0, (target, rows["ddr_channels"])
    assert sum(rows[p]["power_w"] for p in rows) == pytest.approx(1.0)

