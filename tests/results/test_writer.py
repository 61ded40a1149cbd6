from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dse.results import FolderInUse, ResultsFolder, read_evaluations, read_trials
from dse.results.layout import LOCK_FILE
from dse.search.evaluation import PointToEvaluate, evaluate_points
from dse.space import load_space

ROOT = Path(__file__).resolve().parents[2]


def _outcomes(first: int, count: int):  # type: ignore[no-untyped-def]
    space = load_space(ROOT / "search_spaces" / "quickstart.yaml")
    points = [PointToEvaluate(first + i, {"sram_capacity_mib": 64.0 + i, "hbm_stacks": 5,
                                          "compute_units": 132}) for i in range(count)]
    return space, evaluate_points(space, points)


def test_parts_are_written_whole_and_read_back(tmp_path: Path) -> None:
    folder = ResultsFolder.open(tmp_path / "out")
    folder.makedirs()
    space, outcomes = _outcomes(0, 3)
    folder.write_outcomes(space, outcomes)
    space, more = _outcomes(3, 2)
    folder.write_outcomes(space, more)
    leftovers = [p.name for p in (tmp_path / "out").rglob(".*")]
    assert leftovers == []  # no temporaries left behind
    trials = read_trials(tmp_path / "out")
    assert trials["trial_number"].tolist() == [0, 1, 2, 3, 4]
    evaluations = read_evaluations(tmp_path / "out")
    assert len(evaluations) == 5 * 4
    assert set(evaluations["trial_number"]) == {0, 1, 2, 3, 4}


def test_orphaned_evaluations_and_temporaries_are_removed(tmp_path: Path) -> None:
    folder = ResultsFolder.open(tmp_path)
    folder.makedirs()
    space, outcomes = _outcomes(0, 1)
    folder.write_outcomes(space, outcomes)  # one committed batch, kept
    manifest = (tmp_path / "manifest.jsonl").read_bytes()
    space, outcomes = _outcomes(1, 2)
    part = folder.write_outcomes(space, outcomes)
    # a crash after both parts, with the manifest's commit line half written
    committed = (tmp_path / "manifest.jsonl").read_bytes()
    (tmp_path / "manifest.jsonl").write_bytes(committed[: len(manifest) + 30])
    (tmp_path / "trials" / ".part-x.parquet.1234.tmp").write_bytes(b"half")
    with pytest.warns(UserWarning, match="not in manifest.jsonl, ignored"):
        assert read_trials(tmp_path)["trial_number"].tolist() == [0]  # uncommitted: unseen
    removed = folder.remove_orphans()
    assert f"evaluations/{part}" in removed and f"trials/{part}" in removed
    assert len(list((tmp_path / "evaluations").iterdir())) == 1
    assert read_trials(tmp_path)["trial_number"].tolist() == [0]
    assert (tmp_path / "manifest.jsonl").read_bytes() == manifest  # torn line cut off


def test_lock_refuses_a_live_driver_and_takes_over_a_dead_one(tmp_path: Path) -> None:
    folder = ResultsFolder.open(tmp_path)
    folder.makedirs()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        import socket

        (tmp_path / LOCK_FILE).write_text(
            json.dumps({"pid": sleeper.pid, "host": socket.gethostname()})
        )
        with pytest.raises(FolderInUse, match=str(sleeper.pid)):
            folder.acquire_lock()
    finally:
        sleeper.kill()
        sleeper.wait()
    folder.acquire_lock()  # the holder is dead now: taken over
    assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
    folder.release_lock()
    assert not (tmp_path / LOCK_FILE).exists()


def test_any_pyarrow_filesystem_works_through_the_same_writer(tmp_path: Path,
                                                              monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Arrow's in-memory "mock" filesystem stands in for s3:// or gs:// (same code path:
    # no local paths, no fsync, rename through the filesystem API)
    monkeypatch.setenv("HOME", str(tmp_path))  # the local journal cache goes here
    folder = ResultsFolder.open("mock:///bucket/search")
    assert not folder.is_local and not folder.has_results()
    space, outcomes = _outcomes(0, 3)
    folder.start(space, {"format_version": 1, "status": "running", "finished_at": None})
    part = folder.write_outcomes(space, outcomes)
    assert folder.part_names("trials") == [part]
    assert read_trials(folder)["trial_number"].tolist() == [0, 1, 2]
    assert len(read_evaluations(folder)) == 12
    folder.journal_path.write_text('{"op_code": 0}\n')
    folder.upload_journal()
    assert folder.read_bytes("study.journal") == b'{"op_code": 0}\n'
    folder.finish("finished")
    assert folder.read_json("metadata.json")["status"] == "finished"
    assert folder.read_bytes("space.yaml").decode() == space.text
    assert folder.has_results()
