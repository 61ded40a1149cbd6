"""`dse show` content: one design's figures read back exactly from its Parquet rows."""

from __future__ import annotations

import pyarrow.dataset as ds
import pytest

from dse.browse.detail import design_detail, design_details, reference_detail
from dse.browse.results import open_results
from dse.errors import ConfigError


def test_detail_matches_the_trial_and_evaluation_rows(small_results):
    trials = ds.dataset(small_results / "trials", format="parquet").to_table().to_pandas()
    evals = ds.dataset(small_results / "evaluations", format="parquet").to_table().to_pandas()
    row = trials[trials["trial_number"] == 17].iloc[0]

    detail = design_detail(open_results(small_results), 17)

    assert detail.label == "trial 17"
    params = {f.name: f.value for f in detail.parameters}
    assert params == {
        "sram_mib": pytest.approx(row["param_sram_mib"]),
        "hbm_stacks": row["param_hbm_stacks"],
        "memory_route": row["param_memory_route"],
    }
    assert [f.name for f in detail.objectives] == ["throughput_score", "power_w", "unit_cost_usd"]
    power = next(f for f in detail.objectives if f.name == "power_w")
    assert power.value == pytest.approx(row["objective_power_w"]) and power.unit == "W"
    die = next(f for f in detail.derived if f.name == "die_area_mm2")
    assert die.value == pytest.approx(row["derived_die_area_mm2"]) and die.unit == "mm²"

    mine = evals[evals["trial_number"] == 17].sort_values("workload")
    assert [w.workload for w in detail.workloads] == mine["workload"].tolist()
    for workload, (_, eval_row) in zip(detail.workloads, mine.iterrows(), strict=True):
        bounds = {b.name: b.value for b in workload.time_by_bound_s}
        assert bounds == {
            name: pytest.approx(eval_row[f"bound_{name}_s"])
            for name in ("compute", "sram", "hbm", "ddr", "host", "interconnect")
        }
        assert workload.bound_by == max(bounds, key=lambda name: bounds[name])
        step = next(m for m in workload.metrics if m.name == "step_time_s")
        assert step.value == pytest.approx(eval_row["metric_step_time_s"]) and step.unit == "s"


def test_infeasible_and_failed_trials_keep_their_reasons(small_results, small_data):
    reasons = small_data.trials["infeasible_reason"]
    errors = small_data.trials["error"]
    over_cap = reasons.index("power_w exceeds the 700 W cap")
    failed = errors.index("ZeroDivisionError: in test")
    a, b = design_details(open_results(small_results), [over_cap, failed])
    assert not a.feasible and a.infeasible_reason == "power_w exceeds the 700 W cap"
    assert b.state == "failed" and b.error == "ZeroDivisionError: in test"
    assert b.to_dict()["objectives"][0]["value"] is None  # NaN -> null in JSON


def test_reference_chip_detail(small_results):
    ref = reference_detail(open_results(small_results), "nvidia-h100-sxm")
    assert ref.label == "nvidia-h100-sxm" and ref.trial_number == -2
    assert {f.name: f.value for f in ref.objectives}["power_w"] == 700.0


def test_unknown_trial_and_reference_are_config_errors(small_results):
    results = open_results(small_results)
    with pytest.raises(ConfigError) as trial:
        design_detail(results, 99_999)
    assert "trial 99999" in str(trial.value) and "300 finished so far" in str(trial.value)
    with pytest.raises(ConfigError) as ref:
        reference_detail(results, "cerebras-wse2")
    assert "nvidia-a100-sxm" in str(ref.value)
