"""Kill the driver with SIGKILL mid-search, resume it, and find exactly the budget."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from dse.results import read_evaluations, read_metadata, read_trials
from dse.search.study import storage_for

ROOT = Path(__file__).resolve().parents[2]
DSE = str(Path(sys.executable).parent / "dse")
BUDGET = 600


def _search(out: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    return subprocess.Popen(
        [DSE, "search", str(ROOT / "search_spaces" / "quickstart.yaml"), "--out", str(out),
         "--trials", str(BUDGET), "--quiet", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        start_new_session=True,
    )


def _descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc (Linux)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in parents.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _kill_tree(process: subprocess.Popen[str]) -> None:
    """SIGKILL the driver, then the Ray processes it started (by pid, nothing else)."""
    children = _descendants(process.pid)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)


def test_sigkill_mid_search_then_resume_finishes_the_budget(tmp_path: Path) -> None:
    out = tmp_path / "out"
    driver = _search(out)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            parts = list((out / "trials").glob("part-*.parquet")) if out.exists() else []
            if len(parts) >= 3:
                break
            assert driver.poll() is None, driver.stdout.read() if driver.stdout else ""
            time.sleep(0.02)
        else:
            raise AssertionError("the search never committed a trial")
    finally:
        _kill_tree(driver)

    before = read_trials(out)
    assert 0 < len(before) < BUDGET, "killed too late to test a resume"
    assert read_metadata(out)["status"] == "running"  # killed: never marked finished
    assert (out / ".dse-driver.lock").exists()  # left behind by the dead driver

    resumed = _search(out, "--resume")
    output, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, output
    assert "Pareto front" in output

    trials = read_trials(out)
    assert trials["trial_number"].tolist() == list(range(BUDGET))  # none lost, none twice
    assert set(trials["state"]) <= {"complete", "failed"}
    # rows committed before the kill are kept as they were
    kept = trials.set_index("trial_number").loc[before["trial_number"]]
    assert (kept["evaluated_at"].to_numpy() == before["evaluated_at"].to_numpy()).all()
    evaluations = read_evaluations(out)
    assert not evaluations.duplicated(["trial_number", "workload"]).any()
    # every evaluated trial has its workload rows; a trial killed inside `ask` (its
    # parameters incomplete) is a failed row with no workload rows
    complete = set(trials.loc[trials["state"] == "complete", "trial_number"])
    assert set(evaluations["trial_number"]) == complete
    failed = trials[trials["state"] == "failed"]
    assert failed["error"].str.contains("killed before").all()
    assert len(failed) <= 1

    study = optuna.load_study(storage=storage_for(out / "study.journal"),
                              study_name="quickstart")
    states = [t.state for t in study.trials]
    assert TrialState.RUNNING not in states
    assert len(states) == BUDGET
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["status"] == "finished"
    assert not (out / ".dse-driver.lock").exists()


def test_ctrl_c_marks_the_search_failed_releases_the_folder_and_resume_finishes(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    driver = _search(out)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if out.exists() and len(list((out / "trials").glob("part-*.parquet"))) >= 2:
            break
        time.sleep(0.02)
    children = _descendants(driver.pid)
    driver.send_signal(signal.SIGINT)
    output, _ = driver.communicate(timeout=120)
    for child in children:  # whatever Ray left behind, by pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)
    if driver.returncode == 0:
        return  # finished before the signal landed: nothing to check here
    assert driver.returncode == 130, output
    assert read_metadata(out)["status"] == "failed"
    assert read_metadata(out)["trials_budget"] == BUDGET
    assert not (out / ".dse-driver.lock").exists()

    # the printed command keeps the budget (the file's own budget is 1,200)
    printed = shlex.split(output.split("continue with `")[1].split("`")[0])
    assert printed[-3:] == ["--trials", str(BUDGET), "--resume"], printed
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    # resumed without --trials, a search keeps the budget it was started with
    resumed = subprocess.Popen(
        [DSE, *printed[1:-3], "--resume", "--quiet"], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True,
    )
    output, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, output
    assert read_trials(out)["trial_number"].tolist() == list(range(BUDGET))
    assert read_metadata(out)["trials_budget"] == BUDGET
