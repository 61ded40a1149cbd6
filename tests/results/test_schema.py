from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from dse.results.schema import (
    evaluations_table,
    metadata_document,
    outcome_from_trial_row,
    trials_schema,
    trials_table,
)
from dse.search.evaluation import PointToEvaluate, evaluate_points
from dse.space import load_space

ROOT = Path(__file__).resolve().parents[2]


def test_trials_columns_follow_the_contract() -> None:
    space = load_space(ROOT / "search_spaces" / "sram_vs_hbm.yaml")
    schema = trials_schema(space)
    assert schema.names[:5] == ["trial_number", "state", "feasible", "infeasible_reason", "error"]
    assert schema.field("trial_number").type == pa.int64()
    assert schema.field("param_memory_route").type == pa.string()
    assert schema.field("param_sram_capacity_mib").type == pa.int64()
    assert {"derived_compute_units", "derived_die_area_mm2", "derived_unit_cost_usd",
            "derived_score", "objective_score", "objective_power_w",
            "objective_unit_cost_usd", "constraint_fits_workloads",
            "constraint_max_unit_cost_usd"} <= set(schema.names)
    assert schema.field("evaluated_at").type == pa.timestamp("us", tz="UTC")
    assert trials_schema(space, with_reference=True).names[-1] == "reference"


def test_rows_round_trip_to_outcomes() -> None:
    space = load_space(ROOT / "search_spaces" / "sram_vs_hbm.yaml")
    outcomes = evaluate_points(space, [
        PointToEvaluate(7, {"memory_route": "ddr", "sram_capacity_mib": 512,
                            "hbm_stacks": 1, "ddr_channels": 16, "clock_mhz": 1800}),
    ])
    table = trials_table(space, outcomes, datetime(2026, 1, 1, tzinfo=UTC))
    (row,) = table.to_pylist()
    assert row["trial_number"] == 7 and row["param_memory_route"] == "ddr"
    back = outcome_from_trial_row(space, row)
    assert back.objectives == outcomes[0].objectives
    assert back.constraints == outcomes[0].constraints
    assert back.objective_bands["score"] == outcomes[0].objective_bands["score"]
    assert row["objective_score_low"] < row["objective_score"] < row["objective_score_high"]
    assert math.isnan(row["objective_unit_cost_usd_low"])
    # a row of a folder written before bands reads as no band
    old = {k: v for k, v in row.items() if not k.endswith(("_low", "_high"))}
    assert all(math.isnan(v) for v in outcome_from_trial_row(space, old).objective_bands["score"])
    assert back.feasible == outcomes[0].feasible
    evaluations = evaluations_table(outcomes)
    assert evaluations.num_rows == len(outcomes[0].workloads) == 4
    assert "bound_compute_s" in evaluations.column_names
    assert set(evaluations.column("band_kind").to_pylist()) == {"inference-step"}
    assert all(low < 1 < high for low, high in zip(
        evaluations.column("band_low_ratio").to_pylist(),
        evaluations.column("band_high_ratio").to_pylist(), strict=True))
    assert all(not math.isnan(v) for v in evaluations.column("metric_power_w").to_pylist())


def test_metadata_document_has_every_contract_key() -> None:
    space = load_space(ROOT / "search_spaces" / "quickstart.yaml")
    document = metadata_document(space, dse_version="0.1.0", seed=3, sampler="nsga2",
                                 trials_budget=10, started_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert set(document) == {
        "format_version", "dse_version", "space_file", "space_sha256", "seed", "sampler",
        "trials_budget", "suite", "objectives", "parameters", "constraints", "references",
        "started_at", "finished_at", "status",
    }
    assert document["format_version"] == 1 and document["status"] == "running"
    assert document["finished_at"] is None
    assert document["objectives"][0] == {"name": "score", "direction": "maximize",
                                         "unit": "x nvidia-a100-80gb"}
    assert document["parameters"][1] == {"name": "hbm_stacks", "unit": "count", "kind": "int"}
