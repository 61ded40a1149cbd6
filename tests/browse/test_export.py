"""`dse export OUT TRIAL -o design.yaml` round-trips: `dse evaluate --hardware design.yaml
--suite S` gives the stored trial's score, power and every per-workload metric."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from tests.browse.test_cli import invoke


def _stored(folder: Path, trial: int) -> tuple[dict, list[dict]]:
    trials = ds.dataset(folder / "trials", format="parquet").to_table().to_pylist()
    evaluations = ds.dataset(folder / "evaluations", format="parquet").to_table().to_pylist()
    row = next(t for t in trials if t["trial_number"] == trial)
    return row, [e for e in evaluations if e["trial_number"] == trial]


def test_an_exported_design_evaluates_to_the_stored_trial(real_search_results, tmp_path):
    meta = json.loads((real_search_results / "metadata.json").read_text())
    trials = ds.dataset(real_search_results / "trials", format="parquet").to_table()
    feasible = [t for t in trials.to_pylist() if t["feasible"]]
    trial = max(feasible, key=lambda t: t["objective_score"])["trial_number"]

    out = tmp_path / "design.yaml"
    exported = invoke("export", real_search_results, trial, "-o", out)
    assert exported.exit_code == 0, exported.output
    assert f"--suite {meta['suite']}" in " ".join(exported.stdout.split())

    evaluated = invoke("evaluate", "--hardware", out, "--suite", meta["suite"], "--json")
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads(evaluated.stdout)
    row, workloads = _stored(real_search_results, trial)
    # NOTE: the hardware file holds 12 significant digits (`hardware_to_dict`), so the
    # figures agree to about 1e-13 relative, not bit for bit.
    assert report["score"] == pytest.approx(row["objective_score"], rel=1e-9)
    assert report["power_w"] == pytest.approx(row["objective_power_w"], rel=1e-9)
    by_name = {w["workload"]: w for w in report["workloads"]}
    assert set(by_name) == {w["workload"] for w in workloads}
    compared = 0
    for stored in workloads:
        metrics = by_name[stored["workload"]]["metrics"]
        for column, value in stored.items():
            if not column.startswith("metric_") or value is None or math.isnan(value):
                continue
            assert metrics[column.removeprefix("metric_")] == pytest.approx(value, rel=1e-9), (
                stored["workload"], column)
            compared += 1
    assert compared >= 10 * len(workloads)


def test_export_names_a_missing_trial(real_search_results, tmp_path):
    result = invoke("export", real_search_results, 99999, "-o", tmp_path / "x.yaml")
    assert result.exit_code == 2
    assert "trial 99999" in result.output and "no such finished trial" in result.output
    assert not (tmp_path / "x.yaml").exists()
