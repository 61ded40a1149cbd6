"""Bulk-recorded trials are plain Optuna trials: Optuna and optuna-dashboard read them."""

from __future__ import annotations

import io
import json
import math
import wsgiref.util
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import optuna
from optuna.trial import TrialState

from dse.search import study as studies
from dse.search.evolution import ParameterCodec
from dse.search.recorder import TrialRecorder
from dse.space import load_space

ROOT = Path(__file__).resolve().parents[2]


def _recorded(tmp_path: Path) -> tuple[Path, dict[str, list], np.ndarray]:
    space = load_space(ROOT / "search_spaces" / "sram_vs_hbm.yaml")
    journal = tmp_path / "study.journal"
    studies.create_study(space, journal, single_writer=False)
    dists = studies.distributions(space)
    codec = ParameterCodec(dists)
    columns = codec.decode(np.random.default_rng(0).random((4, codec.dimensions)))
    objectives = np.array([[2.0, 500.0, 30000.0], [1.5, 400.0, 20000.0],
                           [math.nan] * 3, [math.nan] * 3])
    constraints = np.array([[0.0, -0.25], [0.5, -0.5], [math.nan, math.nan], [0.0, 0.0]])
    failed = np.array([False, False, False, True])
    directions = [o.direction for o in space.objectives]
    storage = studies.storage_for(journal)
    study_id = storage.get_study_id_from_name(space.name)
    with TrialRecorder(journal, study_id, dists, directions, list(space.constraints)) as rec:
        rec.record(studies.told_values(objectives, directions), failed,
                   studies.told_constraints(constraints), codec.internal(columns),
                   started=datetime(2026, 12, 2, tzinfo=UTC))
    return journal, columns, objectives


def test_recorded_trials_read_back_as_optuna_trials(tmp_path: Path) -> None:
    journal, columns, _objectives = _recorded(tmp_path)
    study = optuna.load_study(storage=studies.storage_for(journal), study_name="sram_vs_hbm")
    trials = study.trials
    assert [t.number for t in trials] == [0, 1, 2, 3]
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3 + [TrialState.FAIL]
    for i, trial in enumerate(trials):
        assert trial.params == {name: values[i] for name, values in columns.items()}
        assert trial.datetime_start.replace(tzinfo=None) == datetime(2026, 12, 2)
        assert trial.datetime_complete is not None
    assert trials[0].values == [2.0, 500.0, 30000.0]
    assert trials[1].constraints["fits_workloads"] == 0.5
    # an unbuildable design: worst finite values and the large violation, as `tell` does
    assert trials[2].values == [-1e30, 1e30, 1e30]
    assert trials[2].constraints["max_unit_cost_usd"] == 1e6
    assert trials[3].values is None and trials[3].constraints == {}
    assert [t.number for t in study.best_trials] == [0]
    assert study.metric_names == ["score", "power_w", "unit_cost_usd"]
    # Optuna's own samplers continue on the same study (per-trial path, or a user)
    study.sampler = optuna.samplers.NSGAIISampler(seed=0, population_size=4)
    asked = study.ask(studies.distributions(load_space(
        ROOT / "search_spaces" / "sram_vs_hbm.yaml")))
    assert asked.number == 4


def _get(app: object, path: str) -> dict:
    environ: dict = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "QUERY_STRING": "",
                     "wsgi.input": io.BytesIO()}
    wsgiref.util.setup_testing_defaults(environ)
    status: list[str] = []
    body = b"".join(app(environ, lambda s, h, *a: status.append(s)))  # type: ignore[operator]
    assert status[0].startswith("200"), status
    return json.loads(body)


def test_optuna_dashboard_shows_objective_names_and_constraints(tmp_path: Path) -> None:
    import optuna_dashboard

    journal, _columns, _objectives = _recorded(tmp_path)
    app = optuna_dashboard.wsgi(studies.storage_for(journal))
    (summary,) = _get(app, "/api/studies")["study_summaries"]
    detail = _get(app, f"/api/studies/{summary['study_id']}")
    assert detail["objective_names"] == ["score", "power_w", "unit_cost_usd"]
    trials = detail["trials"]
    assert trials[0]["constraints"] == [0.0, -0.25]
    assert trials[1]["constraints"] == [0.5, -0.5]
    assert trials[3]["state"] == "Fail"
    # NOTE: dashboard 0.21's Pareto view does not filter by feasibility: the infeasible
    # trial 1 is on it, showing its violation 0.5 (Optuna's own best_trials is [0])
    assert [t["number"] for t in detail["best_trials"]] == [0, 1]
