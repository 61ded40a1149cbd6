"""Fault injection on a Ray cluster of its own: worker deaths and evaluators that raise."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import optuna
import ray
from optuna.trial import TrialState

from dse.hardware import Hardware
from dse.results import read_trials
from dse.runtime import SearchOptions, run_search
from dse.search.evaluation import default_suite_evaluator
from dse.search.study import storage_for
from dse.space import load_space
from evaluators.api import SuiteResult

ROOT = Path(__file__).resolve().parents[2]


class DieOnceInWorker:
    """Kills the worker process (os._exit) the first time it runs anywhere."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __call__(self, designs: Sequence[Hardware], suite: str) -> list[SuiteResult]:
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return default_suite_evaluator(designs, suite)
        os.close(fd)
        os._exit(1)  # a real process death, not an exception


class RaiseOnHbmStacks:
    """An evaluator bug that hits every design with a given number of HBM stacks."""

    def __call__(self, designs: Sequence[Hardware], suite: str) -> list[SuiteResult]:
        if any(d.hbm is not None and d.hbm.stacks == 3 for d in designs):
            raise RuntimeError("evaluator bug on 3 stacks")
        return default_suite_evaluator(designs, suite)


def _by_value() -> None:
    # workers import modules by name; this test module is not importable there
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


def test_a_worker_that_dies_is_retried(isolated_ray: None, tmp_path: Path) -> None:
    _by_value()
    space = load_space(ROOT / "search_spaces" / "quickstart.yaml")
    marker = tmp_path / "died"
    summary = run_search(space, SearchOptions(
        out=str(tmp_path / "out"), trials=40, batch_size=20, designs_per_task=10,
        suite_evaluator=DieOnceInWorker(str(marker)),
    ))
    assert marker.exists()  # a worker really died
    trials = read_trials(tmp_path / "out")
    assert trials["trial_number"].tolist() == list(range(40))
    assert set(trials["state"]) == {"complete"}  # the dead worker's task was re-run
    assert summary.failed == 0


def test_a_design_that_raises_is_recorded_as_failed(isolated_ray: None, tmp_path: Path) -> None:
    _by_value()
    space = load_space(ROOT / "search_spaces" / "quickstart.yaml")
    run_search(space, SearchOptions(
        out=str(tmp_path / "out"), trials=60, batch_size=20, designs_per_task=10,
        suite_evaluator=RaiseOnHbmStacks(),
    ))
    trials = read_trials(tmp_path / "out")
    assert len(trials) == 60
    failed = trials[trials["state"] == "failed"]
    assert len(failed) > 0
    assert set(failed["param_hbm_stacks"]) == {3}
    assert failed["error"].str.startswith("RuntimeError: evaluator bug on 3 stacks").all()
    complete = trials[trials["state"] == "complete"]
    assert (complete["param_hbm_stacks"] != 3).all() and complete["objective_score"].gt(0).all()
    study = optuna.load_study(storage=storage_for(tmp_path / "out" / "study.journal"),
                              study_name="quickstart")
    fails = [t.number for t in study.trials if t.state == TrialState.FAIL]
    assert sorted(fails) == sorted(failed["trial_number"])
