"""`dse validate published` from the command line."""

from __future__ import annotations

from typer.testing import CliRunner

from dse.cli import app
from tests.cli.strict_json import loads_strict

runner = CliRunner()


def test_one_chip_as_json() -> None:
    result = runner.invoke(app, ["validate", "published", "--chip", "intel-gaudi2", "--json"])
    assert result.exit_code == 0, result.output
    report = loads_strict(result.stdout)
    assert report["summary"]["chips"] == ["intel-gaudi2"]
    assert report["summary"]["rows"] == len(report["rows"]) >= 5
    row = report["rows"][0]
    assert row["error"] == row["predicted"] / row["published"] - 1
    assert "M068" in report["excluded"]


def test_table_prints_a_row_per_result_with_its_error() -> None:
    result = runner.invoke(app, ["validate", "published", "--chip", "nvidia-h200"])
    assert result.exit_code in (0, 1)
    for row_id in ("M075", "M078", "M081"):
        assert row_id in result.stdout
    assert "median |error|" in result.stdout


def test_unknown_chip_is_a_usage_error() -> None:
    result = runner.invoke(app, ["validate", "published", "--chip", "no-such-chip"])
    assert result.exit_code == 2


def test_json_separates_fit_and_held_out_rows() -> None:
    result = runner.invoke(app, ["validate", "published", "--chip", "amd-mi300x", "--json"])
    report = loads_strict(result.stdout)
    assert {row["role"] for row in report["rows"]} == {"held-out"}
    assert {row["serving"] for row in report["rows"]} == {"vllm-rocm-2024"}
    assert report["groups"]["held-out serving (non-NVIDIA)"]["rows"] == 4
    assert (result.exit_code == 1) == (report["summary"]["rows_beyond_2x"] > 0)
    assert {r["preset"] for r in report["llm_inference_bench_runs"]} == {"amd-mi300x"}
    rocm = report["llm_inference_bench_runs"][0]
    assert rocm["serving"] == "vllm-rocm-2024"
    assert rocm["fit"]["runs"] == 40 and rocm["held_out"]["runs"] == 185
