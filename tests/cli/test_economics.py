"""`dse economics`: the essay's arithmetic, a design's report, and bad input (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dse.cli import app
from dse.config import load_hardware
from dse.core.economics import chip_economics
from tests.cli.strict_json import loads_strict

runner = CliRunner()


def test_no_arguments_reproduce_the_essay() -> None:
    result = runner.invoke(app, ["economics"])
    assert result.exit_code == 0, result.output
    assert "$150.0M / $10,000 per A100 card" in result.output
    assert "15,000 A100 cards" in result.output
    assert "750 servers (6,000 GPUs)" in result.output


def test_essay_as_json() -> None:
    result = runner.invoke(app, ["economics", "--json"])
    document = loads_strict(result.output)
    assert document["equivalent_cards"] == pytest.approx(15_000)
    assert document["equivalent_servers"] == pytest.approx(750)


def test_hardware_report_as_json() -> None:
    result = runner.invoke(
        app,
        [
            "economics",
            "--hardware",
            "nvidia-h100-sxm",
            "--volume",
            "20000",
            "--years",
            "5",
            "--power-price-usd-kwh",
            "0.1",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    document = loads_strict(result.output)
    expected = chip_economics(load_hardware("nvidia-h100-sxm"), volume=20_000)
    assert document["economics"]["unit_cost_usd"] == pytest.approx(expected.unit_cost_usd)
    assert document["economics"]["die_area_m2"] == pytest.approx(814e-6)
    energy = 700 * 5 * 365.25 * 24 / 1000 * 1.58 * 0.1
    assert document["energy_cost_usd"] == pytest.approx(energy)
    assert document["tco_usd"] == pytest.approx(expected.unit_cost_usd + energy)
    assert document["versus"]["name"] == "a100-essay"
    assert document["performance_ratio"] == pytest.approx(989.4 / 312)
    simple = expected.nre_usd / (10_000 - expected.variable_cost_usd)
    assert document["break_even_volume_simple"] == pytest.approx(simple)


def test_hardware_report_table_versus_a_preset() -> None:
    result = runner.invoke(
        app,
        ["economics", "--hardware", "nvidia-a100-80gb", "--versus", "nvidia-h100-sxm"],
    )
    assert result.exit_code == 0, result.output
    assert "versus nvidia-h100-sxm at $25,000" in result.output
    assert "break-even volume" in result.output


def test_unknown_preset_is_one_line_and_exit_2() -> None:
    result = runner.invoke(app, ["economics", "--hardware", "no-such-chip"])
    assert result.exit_code == 2
    assert "error:" in result.output
    assert "Traceback" not in result.output


def test_versus_without_price_is_a_config_error() -> None:
    result = runner.invoke(
        app, ["economics", "--hardware", "nvidia-h100-sxm", "--versus", "nvidia-h200"]
    )
    assert result.exit_code == 2
    assert "no purchase price" in result.output
    priced = runner.invoke(
        app,
        [
            "economics",
            "--hardware",
            "nvidia-h100-sxm",
            "--versus",
            "nvidia-h200",
            "--versus-price-usd",
            "33821",
        ],
    )
    assert priced.exit_code == 0, priced.output


def test_bad_economics_file_reports_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "economics.yaml"
    bad.write_text("essay: {}\nwafer: {diameter_mm: -300}\n")
    result = runner.invoke(app, ["economics", "--economics-file", str(bad)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert any("wafer.diameter_mm" in line for line in lines)
    assert any("essay.a100_card_price_usd" in line for line in lines)
    assert len(lines) > 5
