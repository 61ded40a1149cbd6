"""Error bands in a results folder: written with every trial, read back by pareto, show and
compare, and a design whose advantage over a reference is inside the band is flagged."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dse.browse.detail import design_details
from dse.browse.pareto import pareto_front
from dse.browse.results import Results, open_results
from dse.cli import app
from dse.config import load_hardware
from dse.results.schema import metadata_document
from dse.results.writer import ResultsFolder
from dse.search.evaluation import PointToEvaluate, evaluate_points, evaluate_references
from dse.space import load_space
from dse.validation.bands import SHIPPED_BANDS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """A folder written by the real writer from real evaluations (no Ray): an H100-like
    design (trial 0) and a smaller one (trial 1), the space's two reference chips."""
    space = load_space(ROOT / "search_spaces" / "quickstart.yaml")
    out = tmp_path_factory.mktemp("bands") / "out"
    results = ResultsFolder.open(out)
    results.start(space, metadata_document(space, dse_version="test", seed=0, sampler="nsga2",
                                           trials_budget=2, started_at=datetime.now(UTC)))
    names = list(space.spec.references)
    results.write_references(
        space, evaluate_references(space, [load_hardware(n) for n in names]), names)
    points = [PointToEvaluate(0, {"sram_capacity_mib": 64, "hbm_stacks": 5,
                                  "compute_units": 132}),
              PointToEvaluate(1, {"sram_capacity_mib": 32, "hbm_stacks": 3,
                                  "compute_units": 96})]
    results.write_outcomes(space, evaluate_points(space, points))
    results.finish("finished")
    return open_results(out)


def test_pareto_lists_the_bands_of_objectives_that_have_them(folder: Results) -> None:
    records = pareto_front(folder).records()
    assert {r["trial_number"] for r in records} == {0, 1}
    inference = SHIPPED_BANDS["inference-step"]  # llm-serving: inference workloads only
    for r in records:
        assert r["objective_score_low"] == pytest.approx(r["objective_score"]
                                                         / inference.high_ratio)
        assert r["objective_score_high"] == pytest.approx(r["objective_score"]
                                                          / inference.low_ratio)
        # cost and power read no predicted time: no band columns listed for them
        assert "objective_unit_cost_usd_low" not in r and "objective_power_w_high" not in r


def test_show_gives_objectives_and_time_metrics_their_band(folder: Results) -> None:
    (detail,) = design_details(folder, [0])
    score = next(f for f in detail.objectives if f.name == "score")
    assert score.low is not None and score.high is not None
    assert score.low < score.value < score.high
    assert [f.name for f in detail.objectives] == ["score", "power_w", "unit_cost_usd"]
    cost = next(f for f in detail.objectives if f.name == "unit_cost_usd")
    assert cost.low is None and cost.high is None
    inference = SHIPPED_BANDS["inference-step"]
    workload = next(w for w in detail.workloads if w.workload == "llama3-8b-serving")
    assert workload.band_kind == "inference-step"
    metrics = {m.name: m for m in workload.metrics}
    step = metrics["request_latency_s"]
    assert (step.low, step.high) == pytest.approx(
        (step.value * inference.low_ratio, step.value * inference.high_ratio))
    rate = metrics["tokens_per_s"]
    assert (rate.low, rate.high) == pytest.approx(
        (rate.value / inference.high_ratio, rate.value / inference.low_ratio))
    assert metrics["power_w"].low is None


def test_compare_flags_an_advantage_inside_the_band(folder: Results) -> None:
    result = CliRunner().invoke(app, ["compare", str(folder.root), "0", "1", "--hardware",
                                      "nvidia-h100-sxm", "--format", "json"])
    assert result.exit_code == 0, result.output
    trial0, trial1, h100 = json.loads(result.stdout)
    versus0 = {v["objective"]: v for v in trial0["versus"]}
    versus1 = {v["objective"]: v for v in trial1["versus"]}
    # trial 0 is an H100 in all but name: 1.00x, inside the band
    assert versus0["score"]["relative"] == pytest.approx(1.0, abs=0.01)
    assert versus0["score"]["distinguishable"] is False
    # trial 1 scores 0.6x: beyond the inference band's spread (1.23 / 0.77 = 1.60x)
    assert versus1["score"]["relative"] < 1 / 1.61
    assert versus1["score"]["distinguishable"] is True
    # cost has no band: no flag either way
    assert versus0["unit_cost_usd"]["distinguishable"] is None
    assert h100["versus"] == []
    table = CliRunner().invoke(app, ["show", str(folder.root), "0", "--reference",
                                     "nvidia-h100-sxm"])
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "x not" in line)
    # the flag wraps in an 80-column terminal: "0.997x not" / "distinguishable"
    assert "score" in lines[at] and "distinguishable" in lines[at + 1]
    assert any("versus" in line for line in lines[:at])
    assert not math.isnan(versus1["score"]["relative"])
