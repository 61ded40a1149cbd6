"""`dse validate end-to-end` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dse.cli import app
from tests.cli.strict_json import loads_strict

runner = CliRunner()

DEVICE = "NVIDIA H100 80GB HBM3"
PARAMS = [("layer-decode", "decoder_layer", {"mode": "decode", "model": "llama3-8b",
                                             "batch": 64, "seq": 2048, "precision": "bf16"},
           0.0004),
          ("resnet-train", "resnet50", {"mode": "train", "batch": 128, "precision": "bf16"},
           0.04)]
ROWS = "id,workload,params,measured_s,device,torch\n" + "".join(
    f'{i},{w},"{json.dumps(p).replace(chr(34), chr(34) * 2)}",{m},{DEVICE},2.11.0\n'
    for i, w, p, m in PARAMS)


def test_measured_rows_are_compared(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(ROWS)
    result = runner.invoke(app, ["validate", "end-to-end", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = loads_strict(result.stdout)
    assert [r["id"] for r in report["rows"]] == ["layer-decode", "resnet-train"]
    for r in report["rows"]:
        assert r["predicted_s"] > 0
        assert r["error"] == r["predicted_s"] / r["measured_s"] - 1
    table = runner.invoke(app, ["validate", "end-to-end", str(path)])
    assert table.exit_code == 0 and "median |error|" in table.stdout


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "end-to-end", str(tmp_path / "none.csv")])
    assert result.exit_code == 2
    assert "none.csv: cannot read" in result.output
    assert "Traceback" not in result.output


def test_without_a_file_the_shipped_h100_rows_are_compared() -> None:
    result = runner.invoke(app, ["validate", "end-to-end", "--json"])
    assert result.exit_code == 0, result.output
    report = loads_strict(result.stdout)
    assert len(report["rows"]) == 10
    assert {r["role"] for r in report["rows"]} == {"fit", "held-out"}
    assert sum(r["role"] == "fit" for r in report["rows"]) == 2
    assert report["median_abs_error"] <= 0.15
    assert report["held_out_median_abs_error"] <= 0.15
