from __future__ import annotations

import json
import math
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from dse.search import study as studies
from dse.search.evaluation import TrialOutcome
from dse.space import load_space

ROOT = Path(__file__).resolve().parents[2]


def test_distributions_come_straight_from_the_file() -> None:
    space = load_space(ROOT / "search_spaces" / "sram_vs_hbm.yaml")
    dists = studies.distributions(space)
    assert dists["memory_route"] == CategoricalDistribution(["hbm", "ddr"])
    assert dists["sram_capacity_mib"] == IntDistribution(16, 1024, step=16)
    quick = studies.distributions(load_space(ROOT / "search_spaces" / "quickstart.yaml"))
    assert quick["sram_capacity_mib"] == FloatDistribution(32, 512, log=True)


@pytest.mark.parametrize("name", ["async_nsga2", "nsga2", "nsga3", "tpe", "random", "grid"])
def test_every_sampler_builds(name: str) -> None:
    space = load_space(ROOT / "search_spaces" / "sram_vs_hbm.yaml")
    spec = space.spec.model_copy(update={"sampler": space.spec.sampler.model_copy(
        update={"name": name, "settings": {}})})
    import dataclasses

    sampler = studies.make_sampler(dataclasses.replace(space, spec=spec))
    expected = {"async_nsga2": "AsyncNSGA2Sampler", "nsga2": "NSGAIISampler",
                "nsga3": "NSGAIIISampler", "tpe": "TPESampler", "random": "RandomSampler",
                "grid": "GridSampler"}[name]
    assert type(sampler).__name__ == expected


def _outcome(
    number: int, score: float, power: float, violation: float, cost: float = -0.5
) -> TrialOutcome:
    return TrialOutcome(
        trial_number=number, state="complete", feasible=violation <= 0, infeasible_reason="",
        error="", params={}, derived={}, objectives={"score": score, "power_w": power,
                                                     "unit_cost_usd": 1.0},
        constraints={"fits_workloads": violation, "max_unit_cost_usd": cost},
    )


def test_journal_study_tells_constraints_and_survives_a_torn_write(tmp_path: Path) -> None:
    space = load_space(ROOT / "search_spaces" / "sram_vs_hbm.yaml")
    journal = tmp_path / "study.journal"
    study = studies.create_study(space, journal)
    dists = studies.distributions(space)
    trials = studies.ask_batch(study, dists, 3)
    directions = [o.direction for o in space.objectives]
    studies.tell(study, trials[0], _outcome(trials[0].number, 2.0, 500.0, 0.0), directions)
    unbuildable_cost = _outcome(trials[1].number, 3.0, 400.0, 1.0, math.nan)
    studies.tell(study, trials[1], unbuildable_cost, directions)
    # a torn last record (a driver killed mid-write) is cut off, the rest survives
    with open(journal, "ab") as handle:
        handle.write(b'{"op_code": 5, "worker_id": "x", "trial_id": 2, "par')
    assert studies.repair_journal(journal) > 0
    assert journal.read_bytes().endswith(b"\n")
    again = studies.load_study(space, journal)
    states = [t.state for t in again.get_trials()]
    assert states == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.RUNNING]
    told = again.get_trials()[1]
    # unbuildable NaN constraint told as the large violation; relative values kept, by
    # name (Optuna 5) and as the list optuna-dashboard shows
    assert told.system_attrs["constraints:fits_workloads"] == 1.0
    assert told.system_attrs["constraints:max_unit_cost_usd"] == 1.0e6
    assert told.system_attrs["constraints"] == [1.0, 1.0e6]
    assert again.metric_names == ["score", "power_w", "unit_cost_usd"]
    assert again.user_attrs["constraint_names"] == ["fits_workloads", "max_unit_cost_usd"]
    assert [t.number for t in again.best_trials] == [0]
    running = studies.running_trials(again)
    assert [t.number for t in running] == [2]
    studies.tell(again, studies.trial_for(again, running[0]),
                 _outcome(2, 1.0, 300.0, 0.0), directions)
    assert studies.finished_count(again) == 3
    assert optuna.load_study(storage=studies.storage_for(journal),
                             study_name=space.name).trials[2].values == [1.0, 300.0, 1.0]


def test_only_a_steady_loop_journal_is_scanned_without_optuna(tmp_path: Path) -> None:
    from dse.search.study import scan_steady_journal

    def journal(*records: dict[str, object]) -> Path:
        path = tmp_path / f"j{len(list(tmp_path.iterdir()))}.journal"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        return path

    study = {"op_code": 0, "worker_id": "w", "study_name": "s", "directions": [1]}
    names = {"op_code": 3, "worker_id": "w", "study_id": 0,
             "system_attr": {"study:metric_names": ["a"]}}
    trial = {"op_code": 4, "worker_id": "w", "study_id": 0, "state": 1, "values": [1.0],
             "datetime_start": None}
    assert scan_steady_journal(journal(study, names, trial, {**trial, "state": 3})) == ("s", 2)
    # anything else goes through Optuna: a running trial, a per-trial op, a second study,
    # a damaged line
    assert scan_steady_journal(journal(study, {**trial, "state": 0})) is None
    assert scan_steady_journal(journal(study, trial, {"op_code": 6, "trial_id": 0})) is None
    assert scan_steady_journal(journal(study, {**study, "study_name": "t"})) is None
    bad = journal(study, trial)
    bad.write_text(bad.read_text() + "{not json\n")
    assert scan_steady_journal(bad) is None
