"""Folders that cannot be browsed give a clear ConfigError; a running search is browsable."""

from __future__ import annotations

import json
import shutil

import pyarrow as pa
import pytest

from dse.browse.pareto import pareto_front
from dse.browse.results import header, open_results
from dse.errors import ConfigError


def message(excinfo: pytest.ExceptionInfo[ConfigError]) -> str:
    return "\n".join(str(p) for p in excinfo.value.problems)


def test_missing_folder(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        open_results(tmp_path / "nope")
    assert "no such results folder" in message(excinfo)


def test_empty_folder(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        open_results(tmp_path)
    assert "empty folder" in message(excinfo)


def test_folder_without_metadata_is_not_a_results_folder(tmp_path):
    (tmp_path / "trials").mkdir()
    with pytest.raises(ConfigError) as excinfo:
        open_results(tmp_path)
    assert "no metadata.json" in message(excinfo)


def test_half_written_metadata(tmp_path):
    (tmp_path / "metadata.json").write_text('{"format_version": 1, "objectives": [')
    with pytest.raises(ConfigError) as excinfo:
        open_results(tmp_path)
    assert "not valid JSON" in message(excinfo)
    assert str(tmp_path / "metadata.json") in message(excinfo)


def test_older_format_version(tmp_path, writer):
    (tmp_path / "metadata.json").write_text(json.dumps(writer.metadata(format_version=0)))
    with pytest.raises(ConfigError) as excinfo:
        open_results(tmp_path)
    text = message(excinfo)
    assert "format_version" in text and "results format 0" in text


def test_metadata_missing_fields_lists_every_one(tmp_path):
    (tmp_path / "metadata.json").write_text(json.dumps({"format_version": 1}))
    with pytest.raises(ConfigError) as excinfo:
        open_results(tmp_path)
    keys = {p.key_path for p in excinfo.value.problems}
    assert {"objectives", "parameters", "status"} <= keys


def test_running_search_with_no_trials_yet_gives_an_empty_front(tmp_path, writer):
    (tmp_path / "metadata.json").write_text(json.dumps(writer.metadata("running")))
    (tmp_path / "trials").mkdir()
    table = pareto_front(open_results(tmp_path))
    assert table.rows == () and table.trials_total == 0 and table.status == "running"


def test_hidden_temp_parts_are_ignored(tmp_path, writer):
    root = writer.write_results(tmp_path / "r", writer.synthesize(60, seed=2), parts=2)
    shutil.copy(root / "trials" / "part-00000.parquet", root / "trials" / ".part-9.parquet.tmp")
    (root / "trials" / ".part-00009.parquet").write_bytes(b"PAR1 half written")
    assert pareto_front(open_results(root)).trials_total == 60


def test_damaged_part_is_a_clear_error(tmp_path, writer):
    root = writer.write_results(tmp_path / "r", writer.synthesize(60, seed=2), parts=2)
    (root / "trials" / "part-00001.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(ConfigError) as excinfo:
        pareto_front(open_results(root))
    assert message(excinfo) == (
        f"{root / 'trials' / 'part-00001.parquet'}: 18 bytes, but manifest.jsonl lists "
        f"{_listed_bytes(root, 'trials/part-00001.parquet')} (cut short, or replaced by "
        "another file)"
    )


def test_damaged_part_of_a_folder_without_manifest_is_named(tmp_path, writer):
    root = writer.write_results(tmp_path / "r", writer.synthesize(60, seed=2), parts=2,
                                manifest=False)
    (root / "trials" / "part-00001.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(ConfigError) as excinfo:
        pareto_front(open_results(root))
    assert message(excinfo) == (
        f"{root / 'trials' / 'part-00001.parquet'}: not a readable Parquet file (cut short "
        "or damaged?); move it out of the folder"
    )


def _listed_bytes(root, name):  # type: ignore[no-untyped-def]
    for line in (root / "manifest.jsonl").read_text().splitlines()[1:]:
        entry = json.loads(line)["commit"].get(name)
        if entry:
            return entry["bytes"]
    raise KeyError(name)


def test_parts_missing_promised_columns_are_named(tmp_path, writer):
    root = writer.write_results(tmp_path / "r", writer.synthesize(30, seed=2), parts=1,
                                manifest=False)
    old = pa.table({"trial_number": pa.array([0, 1], pa.int64()),
                    "state": ["complete", "complete"], "feasible": [True, True]})
    shutil.rmtree(root / "trials")
    writer.write_atomically(old, root / "trials" / "part-00000.parquet")
    with pytest.raises(ConfigError) as excinfo:
        pareto_front(open_results(root))
    keys = {p.key_path for p in excinfo.value.problems}
    assert "objective_power_w" in keys and "param_sram_mib" in keys


def test_headers_carry_units(small_results):
    results = open_results(small_results)
    assert header(results, "objective_power_w") == "power_w [W]"
    assert header(results, "param_sram_mib") == "sram_mib [MiB]"
    assert header(results, "derived_die_area_mm2") == "die_area_mm2 [mm²]"
    assert header(results, "param_hbm_stacks") == "hbm_stacks"


def test_reading_while_a_search_writes_parts(tmp_path, writer):
    """A writer thread adds parts atomically while pareto_front reads: never an error,
    and the count of trials seen only grows until it reaches the total."""
    import threading

    import pyarrow.parquet as pq

    data = writer.synthesize(400, seed=9, with_evaluations=False)
    full = writer.write_results(tmp_path / "full", data, parts=20, with_references=False)
    live = tmp_path / "live"
    live.mkdir()
    (live / "metadata.json").write_text(json.dumps(writer.metadata("running")))
    parts = sorted((full / "trials").glob("part-*.parquet"))

    def write_parts() -> None:
        for part in parts:
            writer.write_atomically(pq.read_table(part), live / "trials" / part.name)

    thread = threading.Thread(target=write_parts)
    seen = [0]
    thread.start()
    try:
        while thread.is_alive():
            seen.append(pareto_front(open_results(live)).trials_total)
    finally:
        thread.join()
    seen.append(pareto_front(open_results(live)).trials_total)
    assert seen == sorted(seen)
    assert seen[-1] == 400
    assert all(count % 20 == 0 for count in seen)  # whole parts only, never a partial file
