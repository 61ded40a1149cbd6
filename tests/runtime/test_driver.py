"""The driver on the session's real Ray cluster, real journal storage and real Parquet."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import optuna
import pyarrow.parquet as pq
import pytest
from optuna.trial import TrialState

from dse.browse.results import open_results
from dse.errors import ConfigError
from dse.results import FolderExists, read_evaluations, read_metadata, read_references, read_trials
from dse.runtime import SearchOptions, run_search
from dse.search.pareto import hypervolume, pareto_mask
from dse.search.study import distributions, journal_trials, scan_steady_journal, storage_for
from dse.space import SearchSpace, load_space

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "search_spaces" / "quickstart.yaml"


def _with_sampler(space: SearchSpace, name: str) -> SearchSpace:
    spec = space.spec.model_copy(update={"sampler": space.spec.sampler.model_copy(
        update={"name": name, "settings": {}})})
    return dataclasses.replace(space, spec=spec)


def _study(out: Path, name: str) -> optuna.Study:
    return optuna.load_study(storage=storage_for(out / "study.journal"), study_name=name)


def test_search_commits_exactly_its_budget(ray_cluster: None, tmp_path: Path) -> None:
    space = load_space(QUICKSTART)
    out = tmp_path / "out"
    progress = []
    summary = run_search(
        space, SearchOptions(out=str(out), trials=90, batch_size=20, designs_per_task=10),
        progress.append,
    )
    trials = read_trials(out)
    assert trials["trial_number"].tolist() == list(range(90))
    assert summary.done == 90 and summary.complete + summary.failed == 90
    assert set(trials["state"]) == {"complete"}
    study = _study(out, "quickstart")
    states = [t.state for t in study.trials]
    assert states.count(TrialState.COMPLETE) == 90 and len(states) == 90
    # every Optuna value is the Parquet value
    for t in study.trials[:10]:
        row = trials.loc[trials["trial_number"] == t.number].iloc[0]
        assert t.values[0] == pytest.approx(row["objective_score"])
        assert t.params["hbm_stacks"] == row["param_hbm_stacks"]

    evaluations = read_evaluations(out)
    assert len(evaluations) == 90 * 4
    assert not evaluations.duplicated(["trial_number", "workload"]).any()

    references = read_references(out)
    assert references["reference"].tolist() == ["nvidia-a100-80gb", "nvidia-h100-sxm"]
    assert references["trial_number"].tolist() == [-1, -2]
    assert references["objective_score"].iloc[0] == pytest.approx(1.0)

    metadata = read_metadata(out)
    assert metadata["status"] == "finished" and metadata["finished_at"]
    assert metadata["trials_budget"] == 90 and metadata["space_sha256"] == space.sha256
    assert (out / "space.yaml").read_text() == QUICKSTART.read_text()

    # the summary's front and hypervolume are those of the committed rows
    feasible = trials[trials["feasible"]]
    names = [f"objective_{o.name}" for o in space.objectives]
    directions = [o.direction for o in space.objectives]
    values = feasible[names].to_numpy()
    mask = pareto_mask(values, directions)
    assert sorted(feasible["trial_number"][mask]) == list(summary.front_trial_numbers)
    assert hypervolume(values, directions, summary.hypervolume_reference,
                       summary.hypervolume_scale) == pytest.approx(summary.hypervolume)
    assert summary.hypervolume > 0
    # the front cache written at the end holds exactly those rows, and the readers use it
    cached = pq.read_table(out / metadata["front"]["file"]).to_pandas()
    assert cached["trial_number"].tolist() == list(summary.front_trial_numbers)
    assert metadata["front"]["trials"] == 90
    assert metadata["front"]["feasible"] == feasible.shape[0]
    assert open_results(out).front is not None
    # the steady loop's journal is read without Optuna's replay, to the same trials
    assert scan_steady_journal(out / "study.journal") == ("quickstart", 90)
    assert journal_trials(out / "study.journal", str(out)) == {t.number: True for t in study.trials}
    assert progress[-1].done == 90 and progress[-1].front_size == len(summary.front_trial_numbers)
    assert np.isclose(progress[-1].feasible_share, feasible.shape[0] / 90)


def test_existing_folder_needs_resume_and_the_same_space(ray_cluster: None,
                                                         tmp_path: Path) -> None:
    space = load_space(QUICKSTART)
    out = tmp_path / "out"
    run_search(space, SearchOptions(out=str(out), trials=30, batch_size=15))
    with pytest.raises(FolderExists, match="--resume"):
        run_search(space, SearchOptions(out=str(out), trials=30))
    other = load_space(ROOT / "search_spaces" / "reconfigurable.yaml")
    with pytest.raises(ConfigError, match="differs from the search-space file"):
        run_search(other, SearchOptions(out=str(out), resume=True))
    # resumed without --trials, a search keeps the budget it was started with (30, not
    # the file's 1,200)
    again = run_search(space, SearchOptions(out=str(out), resume=True))
    assert again.budget == 30 and again.done == 30 and again.evaluated_here == 0
    assert read_metadata(out)["trials_budget"] == 30
    # resuming a finished search with a larger budget continues the same study
    summary = run_search(space, SearchOptions(out=str(out), trials=50, resume=True,
                                              batch_size=10))
    trials = read_trials(out)
    assert trials["trial_number"].tolist() == list(range(50))
    assert summary.done == 50 and summary.evaluated_here <= 20
    assert read_metadata(out)["trials_budget"] == 50


def test_a_folder_left_before_any_metadata_starts_afresh(ray_cluster: None,
                                                         tmp_path: Path) -> None:
    # a driver killed between creating the folder and writing metadata.json
    import json
    import socket
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    out = tmp_path / "out"
    (out / "trials").mkdir(parents=True)
    (out / "evaluations").mkdir()
    (out / ".dse-driver.lock").write_text(
        json.dumps({"pid": int(dead.stdout), "host": socket.gethostname()})
    )
    summary = run_search(load_space(QUICKSTART), SearchOptions(out=str(out), trials=20))
    assert summary.done == 20 and read_metadata(out)["status"] == "finished"
    assert read_trials(out)["trial_number"].tolist() == list(range(20))


def test_resume_finishes_trials_a_killed_driver_left_running(ray_cluster: None,
                                                             tmp_path: Path) -> None:
    # the per-trial path (Optuna's own samplers): trials are RUNNING while in flight
    space = _with_sampler(load_space(QUICKSTART), "nsga2")
    out = tmp_path / "out"
    run_search(space, SearchOptions(out=str(out), trials=20, batch_size=10))
    # what a driver killed mid-batch leaves: asked trials that were never told, one of
    # them killed inside `ask` with only some of its parameters stored
    study = optuna.load_study(storage=storage_for(out / "study.journal"),
                              study_name="quickstart")
    whole = study.ask(distributions(space))
    partial = study.ask()
    partial.suggest_int("hbm_stacks", 2, 8)
    summary = run_search(space, SearchOptions(out=str(out), trials=30, resume=True,
                                              batch_size=10))
    assert summary.resumed_trials == 2
    trials = read_trials(out).set_index("trial_number")
    assert trials.index.tolist() == list(range(30))
    assert trials.loc[whole.number, "state"] == "complete"
    assert trials.loc[whole.number, "param_hbm_stacks"] == whole.params["hbm_stacks"]
    assert trials.loc[partial.number, "state"] == "failed"
    assert "killed before" in trials.loc[partial.number, "error"]
    states = [t.state for t in _study(out, "quickstart").trials]
    assert TrialState.RUNNING not in states and len(states) == 30


def test_steady_resume_appends_the_journal_records_a_killed_driver_never_wrote(
    ray_cluster: None, tmp_path: Path
) -> None:
    space = load_space(QUICKSTART)
    out = tmp_path / "out"
    run_search(space, SearchOptions(out=str(out), trials=40, designs_per_task=8))
    journal = out / "study.journal"
    study = _study(out, "quickstart")
    told = {t.number: t.values for t in study.trials}
    # what a driver killed after the Parquet commit but during the journal append
    # leaves: the last 15 trial records missing and a torn one
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines[:-15]) + lines[-15][:40])
    assert len(_study(out, "quickstart").trials) == 25
    summary = run_search(space, SearchOptions(out=str(out), trials=60, resume=True,
                                              designs_per_task=8))
    assert summary.resumed_trials == 15 and summary.evaluated_here == 20
    trials = read_trials(out)
    assert trials["trial_number"].tolist() == list(range(60))
    again = _study(out, "quickstart").trials
    assert [t.number for t in again] == list(range(60))
    assert all(t.state == TrialState.COMPLETE for t in again)
    # the records rebuilt from the rows are those the first session wrote
    for number in range(40):
        assert again[number].values == pytest.approx(told[number])
    for t in again[::7]:
        row = trials.loc[trials["trial_number"] == t.number].iloc[0]
        assert t.values[1] == pytest.approx(row["objective_power_w"])
        assert t.params["compute_units"] == row["param_compute_units"]


def test_steady_search_rebuilds_a_lost_journal_from_the_rows(ray_cluster: None,
                                                             tmp_path: Path) -> None:
    space = load_space(QUICKSTART)
    out = tmp_path / "out"
    run_search(space, SearchOptions(out=str(out), trials=20, designs_per_task=10))
    (out / "study.journal").unlink()
    run_search(space, SearchOptions(out=str(out), trials=30, resume=True))
    study = _study(out, "quickstart")
    assert [t.number for t in study.trials] == list(range(30))
    assert study.metric_names == ["score", "power_w", "unit_cost_usd"]
    assert read_trials(out)["trial_number"].tolist() == list(range(30))


def test_progress_counts_distinct_designs_on_the_front() -> None:
    """Trials that differ only in the route not taken are one design in the progress
    line's front, as in `dse pareto` (the SRAM-vs-HBM space)."""
    from dse.runtime.driver import _Tracker

    space = load_space(Path(__file__).resolve().parents[2] / "search_spaces" / "sram_vs_hbm.yaml")
    tracker = _Tracker(space, [0.0, 1000.0, 50000.0], [1.0, 1.0, 1.0])
    params = {
        "memory_route": ["hbm", "hbm", "ddr", "ddr"],
        "sram_capacity_mib": [64, 64, 512, 512],
        "clock_mhz": [1500, 1500, 1500, 1500],
        "hbm_stacks": [5, 5, 2, 7],
        "ddr_channels": [8, 28, 16, 16],
    }
    objectives = np.array([[1.0, 500, 2e4], [1.0, 500, 2e4], [0.8, 300, 1.5e4], [0.8, 300, 1.5e4]])
    tracker.add(np.arange(4), objectives, np.ones(4, bool), np.zeros(4, bool), params=params)
    assert len(tracker.front) == 4
    assert tracker.front_designs == 2
    # a later trial that dominates one design drops both of its trials
    tracker.add(np.array([4]), np.array([[1.2, 400, 1.9e4]]), np.ones(1, bool),
                np.zeros(1, bool), params={k: [v[0]] for k, v in params.items()}
                | {"sram_capacity_mib": [128]})
    assert tracker.front_designs == 2
    assert set(tracker.front) == {2, 3, 4}
