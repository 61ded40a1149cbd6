"""Trials that build the same hardware are one design in `dse pareto`, its counts and the
page's data (a results folder of the shipped sram_vs_hbm space, written by hand)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dse.browse.page import embedded_designs, page_data
from dse.browse.pareto import pareto_front
from dse.browse.results import open_results
from tests.browse.route_folder import write_route_folder
from tests.browse.test_cli import invoke

ROUTE, SRAM, CLOCK, STACKS, CHANNELS = (
    "memory_route", "sram_capacity_mib", "clock_mhz", "hbm_stacks", "ddr_channels"
)
# (route, sram, clock, stacks, channels) -> (score, power, cost); 1 repeats 0 and 3
# repeats 2 in the dimension their route does not use; 5 is dominated
TRIALS = [
    (("hbm", 64, 1500, 5, 8), (1.0, 500.0, 20000.0)),
    (("hbm", 64, 1500, 5, 28), (1.0, 500.0, 20000.0)),
    (("ddr", 512, 1500, 2, 16), (0.8, 300.0, 15000.0)),
    (("ddr", 512, 1500, 7, 16), (0.8, 300.0, 15000.0)),
    (("hbm", 64, 1500, 6, 8), (1.1, 520.0, 21000.0)),
    (("hbm", 32, 1200, 1, 4), (0.5, 600.0, 30000.0)),
]


@pytest.fixture(scope="module")
def route_results(tmp_path_factory: pytest.TempPathFactory, writer: Any) -> Path:
    params = [ROUTE, SRAM, CLOCK, STACKS, CHANNELS]
    n = len(TRIALS)
    trials: dict[str, list[Any]] = {
        "trial_number": list(range(n)), "state": ["complete"] * n, "feasible": [True] * n,
        "infeasible_reason": [""] * n, "error": [""] * n,
    }
    for i, name in enumerate(params):
        trials[f"param_{name}"] = [point[i] for point, _ in TRIALS]
    for i, name in enumerate(["score", "power_w", "unit_cost_usd"]):
        trials[f"objective_{name}"] = [values[i] for _, values in TRIALS]
    return write_route_folder(tmp_path_factory.mktemp("routes") / "sram_vs_hbm", writer,
                              trials, params)


def test_the_front_lists_each_design_once_with_all_its_trials(route_results):
    table = pareto_front(open_results(route_results))
    assert table.front_size == 3
    assert sorted(row[table.columns.index("trials")] for row in table.rows) == [
        (0, 1), (2, 3), (4,)
    ]
    assert not table.notes


def test_every_reading_command_counts_the_same_front(route_results):
    result = invoke("pareto", route_results, "--format", "json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 3
    data = page_data(open_results(route_results))
    assert data["counts"]["front"] == 3
    assert data["history"][-1]["front_size"] == 3
    designs = embedded_designs(data)
    shown = [d for d in designs if d["front"]]
    assert sorted(d["trials"] for d in shown) == [[0, 1], [2, 3], [4]]
    # a repeated trial is neither a second front point nor a dominated one
    assert {d["trial_number"] for d in designs} == {0, 2, 4, 5}


def test_show_lists_only_the_parameters_that_act_on_the_design(route_results):
    result = invoke("show", route_results, "2", "--reference", "none", "--format", "json")
    assert result.exit_code == 0, result.output
    (ddr,) = json.loads(result.stdout)
    assert [p["name"] for p in ddr["parameters"]] == [ROUTE, SRAM, CLOCK, CHANNELS]
    assert ddr["inert_parameters"] == [STACKS]
    assert ddr["same_design_trials"] == [2, 3]  # trial 3 differs only in hbm_stacks
    table = invoke("compare", route_results, "0", "2")
    assert table.exit_code == 0, table.output
    assert "not acting on the design" in table.stdout
    assert "trials building this" in table.stdout and "0 1" in table.stdout
    row = next(line for line in table.stdout.splitlines() if "hbm_stacks" in line)
    # the HBM design's stacks, and "-" for the DDR design that has none
    assert "5" in row and "-" in row.split("│")[-2]


def test_the_front_leaves_the_unused_routes_parameters_blank(route_results):
    table = pareto_front(open_results(route_results))
    rows = {row[0]: dict(zip(table.columns, row, strict=True)) for row in table.rows}
    # trial 0 takes the HBM route: it has stacks and no DDR channels; trial 2 the reverse
    assert rows[0][f"param_{STACKS}"] == 5 and rows[0][f"param_{CHANNELS}"] is None
    assert rows[2][f"param_{CHANNELS}"] == 16 and rows[2][f"param_{STACKS}"] is None
    assert rows[0][f"param_{SRAM}"] == 64 and rows[2][f"param_{ROUTE}"] == "ddr"
    csv_out = invoke("pareto", route_results, "--format", "csv", "--columns", CHANNELS)
    assert csv_out.exit_code == 0, csv_out.output
    cells = dict(line.split(",") for line in csv_out.stdout.splitlines()[1:])
    assert cells == {"0": "", "2": "16", "4": ""}
    as_json = json.loads(invoke("pareto", route_results, "--format", "json").stdout)
    assert {r["trial_number"]: r[f"param_{CHANNELS}"] for r in as_json} == {
        0: None, 2: 16, 4: None
    }
