"""`dse pareto / show / compare / report / browse` end to end through the real Typer app.

(Kept beside the other browse tests rather than in tests/cli/, which another engineer owns.)
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner

from dse.cli import app

runner = CliRunner()


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args])


def brute_force_front(values: np.ndarray, maximise: list[bool]) -> np.ndarray:
    better = values * np.where(maximise, 1.0, -1.0)
    return np.array(
        [
            not ((better >= row).all(axis=1) & (better > row).any(axis=1)).any()
            for row in better
        ]
    )


def test_pareto_json_agrees_with_brute_force_over_the_parquet_rows(small_results):
    frame = ds.dataset(small_results / "trials", format="parquet").to_table().to_pandas()
    frame = frame[(frame["state"] == "complete") & frame["feasible"]]
    names = ["throughput_score", "power_w", "unit_cost_usd"]
    values = frame[[f"objective_{n}" for n in names]].to_numpy()
    expected = frame[brute_force_front(values, [True, False, False])]

    result = invoke("pareto", small_results, "--format", "json")

    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert sorted(r["trial_number"] for r in rows) == sorted(expected["trial_number"].tolist())
    by_number = expected.set_index("trial_number")
    for row in rows:
        assert row["objective_power_w"] == by_number.loc[row["trial_number"], "objective_power_w"]
        assert row["param_memory_route"] == by_number.loc[row["trial_number"], "param_memory_route"]


def test_pareto_table_and_csv_carry_units(small_results):
    table = invoke(
        "pareto", small_results, "--objectives", "throughput_score,power_w", "--top", "4"
    )
    assert table.exit_code == 0, table.output
    # an 80-column terminal (CliRunner's): headers wrap with their units, nothing is cut
    lines = table.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in table.stdout
    for piece in ("power_w", "[W]", "unit_", "cost_usd", "[USD]"):
        assert piece in table.stdout
    assert "Pareto front over throughput_score, power_w" in " ".join(lines[:3])
    # what does not fit is named on stderr
    assert "more columns do not fit 80 characters" in table.stderr

    as_csv = invoke("pareto", small_results, "--format", "csv", "--where", "hbm_stacks >= 4")
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    # objectives first, then their bands (none here), parameters, derived figures
    assert rows[0][:7] == ["trial_number", "trials", "throughput_score", "power_w [W]",
                           "unit_cost_usd [USD]", "sram_mib [MiB]", "hbm_stacks"]
    assert len(rows) > 2 and all(int(r[6]) >= 4 for r in rows[1:])


def test_pareto_columns_picks_and_orders_what_is_shown(small_results):
    result = invoke("pareto", small_results, "--columns", "hbm_stacks,power_w,trials",
                    "--format", "json", "--top", "3")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [list(r) for r in records] == [["trial_number", "param_hbm_stacks",
                                           "objective_power_w", "trials"]] * 3
    table = invoke("pareto", small_results, "--columns", "hbm_stacks,power_w")
    assert table.exit_code == 0 and "more columns" not in table.stderr
    wrong = invoke("pareto", small_results, "--columns", "hbm_stack")
    assert wrong.exit_code == 2
    assert "--columns: hbm_stack: no such column" in wrong.stderr and "hbm_stacks" in wrong.stderr


def test_show_prints_the_breakdown_beside_a_reference(small_results):
    result = invoke("show", small_results, "17", "--reference", "nvidia-h100-sxm")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for text in ("trial 17", "nvidia-h100-sxm", "gpt3-175b-train", "llama2-70b-infer",
                 "bound_by", "interconnect", "die_area_mm2", "step_time_s"):
        assert text in out

    as_json = json.loads(invoke("show", small_results, "17", "--format", "json").stdout)
    assert [d["label"] for d in as_json] == ["trial 17", "nvidia-a100-sxm"]  # first reference
    alone = json.loads(
        invoke("show", small_results, "17", "--reference", "none", "--format", "json").stdout
    )
    assert [d["label"] for d in alone] == ["trial 17"]


def test_compare_puts_designs_and_chips_side_by_side(small_results):
    result = invoke(
        "compare", small_results, "3", "5", "--hardware", "nvidia-a100-sxm",
        "--hardware", "nvidia-h100-sxm", "--format", "json",
    )
    assert result.exit_code == 0, result.output
    assert [d["label"] for d in json.loads(result.stdout)] == [
        "trial 3", "trial 5", "nvidia-a100-sxm", "nvidia-h100-sxm",
    ]
    table = invoke("compare", small_results, "3", "5")
    header_line = next(line for line in table.stdout.splitlines() if "trial 3" in line)
    assert "trial 5" in header_line


def _assert_usage_error(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.stderr
    assert all(line.startswith("error: ") for line in result.stderr.strip().splitlines())


def test_unusable_input_exits_2_with_one_line_per_problem(tmp_path, small_results, writer):
    _assert_usage_error(invoke("pareto", tmp_path / "missing"), "no such results folder")
    _assert_usage_error(invoke("pareto", tmp_path), "empty folder")
    old = tmp_path / "old"
    old.mkdir()
    (old / "metadata.json").write_text(json.dumps(writer.metadata(format_version=0)))
    _assert_usage_error(invoke("show", old, "1"), "results format 0")
    _assert_usage_error(invoke("pareto", small_results, "--where", "nonsense >"), "--where")
    _assert_usage_error(invoke("pareto", small_results, "--objectives", "speed"), "speed")
    _assert_usage_error(invoke("show", small_results, "12345"), "trial 12345")
    _assert_usage_error(
        invoke("compare", small_results, "1", "--hardware", "tpu-v9"),
        "tpu-v9", "presets: ", "references of this search: nvidia-a100-sxm",
    )


def test_report_output_that_is_a_folder_or_unwritable_is_one_line(small_results, tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    result = invoke("report", small_results, "-o", folder)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.splitlines() == [
        f"error: {folder}: is a folder: -o takes the HTML file to write, e.g. "
        f"-o {folder / 'report.html'}"
    ]
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = invoke("report", small_results, "-o", blocker / "report.html")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.splitlines() == [
        f"error: {blocker / 'report.html'}: cannot write the report: File exists"
    ]
    assert blocker.read_text() == "not a folder" and list(folder.iterdir()) == []


def test_running_search_without_trials_says_so(tmp_path, writer):
    (tmp_path / "metadata.json").write_text(json.dumps(writer.metadata("running")))
    result = invoke("pareto", tmp_path, "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    assert "no finished trials yet (search running)" in result.stderr


def test_report_writes_one_self_contained_file(small_results, tmp_path):
    out = tmp_path / "deep" / "report.html"
    result = invoke("report", small_results, "-o", out)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.count("<script") == 3  # plotly.js, the data, the page script: all inline
    assert not re.search(r"<script[^>]+src=", text)
    assert not re.search(r"<link[^>]+href=", text)
    data = text.split('<script type="application/json" id="dse-data">', 1)[1]
    data = json.loads(data.split("</script>", 1)[0])
    assert data["counts"]["trials"] == 300


def test_browse_serves_on_localhost_until_interrupted(small_results):
    process = subprocess.Popen(
        [sys.executable, "-c", "from dse.cli import main; main()", "browse",
         str(small_results), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line + (process.stderr.read() if process.stderr else "")
        page = urllib.request.urlopen(match.group(0), timeout=30).read().decode()
        assert "dse results" in page and 'id="dse-data"' in page
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    assert process.returncode == 0


def test_browse_refuses_an_unusable_folder_before_serving(tmp_path: Path):
    _assert_usage_error(invoke("browse", tmp_path / "nope", "--port", "0"), "no such")


def test_a_real_search_browses_and_agrees_with_brute_force(real_search_results):
    frame = ds.dataset(real_search_results / "trials", format="parquet").to_table().to_pandas()
    meta = json.loads((real_search_results / "metadata.json").read_text())
    names = [o["name"] for o in meta["objectives"]]
    maximise = [o["direction"] == "maximize" for o in meta["objectives"]]
    feasible = frame[(frame["state"] == "complete") & frame["feasible"]]
    values = feasible[[f"objective_{n}" for n in names]].to_numpy(dtype=float)
    expected = feasible["trial_number"][brute_force_front(values, maximise)]
    assert len(frame) == 30 and len(expected) > 0

    result = invoke("pareto", real_search_results, "--format", "json")
    assert result.exit_code == 0, result.output
    assert sorted(r["trial_number"] for r in json.loads(result.stdout)) == sorted(expected)

    # power_w is both an objective and a derived column there; the bare name still works.
    capped = invoke("pareto", real_search_results, "--where", "power_w < 550", "--format", "json")
    assert capped.exit_code == 0, capped.output
    rows = json.loads(capped.stdout)
    assert rows and all(r["objective_power_w"] < 550 for r in rows)

    best = int(expected.iloc[0])
    shown = invoke("show", real_search_results, str(best))
    assert shown.exit_code == 0, shown.output
    evals = ds.dataset(real_search_results / "evaluations", format="parquet").to_table()
    workloads = set(evals.to_pandas().query("trial_number == @best")["workload"])
    assert workloads and all(w in shown.stdout for w in workloads)
    assert "bound_by" in shown.stdout and meta["references"][0] in shown.stdout


def test_compare_evaluates_presets_the_search_did_not(real_search_results):
    meta = json.loads((real_search_results / "metadata.json").read_text())
    stored = meta["references"][-1]
    result = invoke(
        "compare", real_search_results, "0", "--hardware", "google-tpu-v4",
        "--hardware", stored, "--format", "json",
    )
    assert result.exit_code == 0, result.output
    trial, tpu, ref = json.loads(result.stdout)
    assert tpu["label"] == "google-tpu-v4 (evaluated now)"
    assert ref["label"] == stored
    assert {w["workload"] for w in tpu["workloads"]} == {w["workload"] for w in trial["workloads"]}
    assert all(w["bound_by"] for w in tpu["workloads"] if w["feasible"])
    # the search stored its reference chips' per-workload rows too, not only their objectives
    assert {w["workload"] for w in ref["workloads"]} == {w["workload"] for w in trial["workloads"]}
    assert all(w["bound_by"] for w in ref["workloads"] if w["feasible"])
    # The same preset evaluated now agrees with the search's stored reference row.
    from dse.browse.presets import evaluate_presets
    from dse.browse.results import open_results

    again = evaluate_presets(open_results(real_search_results), [stored])[0]
    stored_objectives = {f["name"]: f["value"] for f in ref["objectives"]}
    for figure in again.objectives:
        assert figure.value == pytest.approx(stored_objectives[figure.name], rel=1e-9)


def test_the_search_prints_the_front_dse_pareto_prints(real_search_results):
    """`dse search --format json` writes only the front to stdout (progress and summary go
    to stderr), and it is `dse pareto --format json`'s front: one front size everywhere."""
    printed = json.loads((real_search_results.parent / "search_stdout.json").read_text())
    result = invoke("pareto", real_search_results, "--format", "json")
    assert result.exit_code == 0, result.output
    assert printed == json.loads(result.stdout)
    assert len({json.dumps(r["trials"]) for r in printed}) == len(printed)


def test_show_breaks_each_workloads_time_down_by_phase_and_operator_class(
        real_search_results):
    """`dse show` evaluates the trial and its reference again with breakdowns: by phase
    (prefill, decode, the serving framework's host time) and by operator class, each adding
    up to the stored request time; in a table and in JSON."""
    import pyarrow.dataset as ds

    trials = ds.dataset(real_search_results / "trials", format="parquet").to_table()
    trial = max((t for t in trials.to_pylist() if t["feasible"]),
                key=lambda t: t["objective_score"])["trial_number"]
    result = invoke("show", real_search_results, str(trial), "--format", "json")
    assert result.exit_code == 0, result.output
    design, reference = json.loads(result.stdout)
    checked = 0
    for detail in (design, reference):
        for workload in detail["workloads"]:
            if not workload["feasible"]:
                continue
            metrics = {m["name"]: m["value"] for m in workload["metrics"]}
            total = metrics["request_latency_s"]
            phases = {f["name"]: f["value"] for f in workload["time_by_phase_s"]}
            classes = {f["name"]: f["value"] for f in workload["time_by_operator_class_s"]}
            assert {"gemm", "attention"} <= set(classes), classes
            assert sum(phases.values()) == pytest.approx(total, rel=1e-9)
            assert sum(classes.values()) == pytest.approx(total, rel=1e-9)
            assert workload["breakdown_matches"] is True
            if metrics.get("time_to_first_token_s") is None:  # an encoder: one forward pass
                assert set(phases) - {"serving_framework_host"} == {"forward"}, phases
                continue
            assert {"prefill", "decode"} <= set(phases), phases
            # the first token waits for the prefill (on every stage) and one framework step
            assert phases["prefill"] == pytest.approx(
                metrics["time_to_first_token_s"] - metrics["serving_host_s_per_step"],
                rel=1e-9)
            checked += 1
    assert checked >= 2

    table = invoke("show", real_search_results, str(trial)).stdout
    assert "By phase" in table and "By operator class" in table
    assert "decode" in table and "gemm" in table
    rows = invoke("show", real_search_results, str(trial), "--format", "csv").stdout
    assert "\ntime by phase,llama" in rows and "\ntime by operator class," in rows
