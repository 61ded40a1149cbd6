"""Search-space files: checking (all problems at once), building designs, the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dse.errors import ConfigError
from dse.space import load_space, points_iter, space_from_text, summarise

ROOT = Path(__file__).resolve().parents[1]
SPACES = sorted((ROOT / "search_spaces").glob("*.yaml"))

MINIMAL = """\
name: tiny
base: nvidia-h100-sxm
suite: llm-serving
budget: {trials: 10}
parameters:
  sram_capacity_mib: {kind: float, unit: MiB, low: 32, high: 512, log: true}
hardware:
  sram.capacity_mib: sram_capacity_mib
objectives:
  - {name: score, direction: maximize}
"""


def test_every_shipped_space_checks() -> None:
    names = {p.stem for p in SPACES}
    assert {"quickstart", "sram_vs_hbm", "interaction_wall", "reconfigurable",
            "llm_serving_cost"} <= names
    for path in SPACES:
        space = load_space(path)
        assert space.name == path.stem
        for constant in space.spec.constants.values():
            assert constant.source.strip()
        midpoint = space.build(space.midpoint(), "midpoint")
        assert midpoint.hardware is not None, (path, midpoint.infeasible_reasons)


def test_bad_file_reports_every_problem_with_its_key_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        MINIMAL.replace("low: 32, high: 512", "low: 512, high: 32")
        .replace("budget: {trials: 10}", "budget: {trials: 0}")
        + "derived:\n  x: nope * 2\n"
        + "sampler: {name: nsga2, settings: {populaton_size: 10}}\n"
        + "bogus: 1\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_space(bad)
    paths = {p.key_path for p in caught.value.problems}
    # pydantic-level problems come first, in one report
    assert {"parameters.sram_capacity_mib", "budget.trials", "bogus"} <= paths
    assert all(p.source == str(bad) for p in caught.value.problems)

    bad.write_text(
        MINIMAL + "derived:\n  x: nope * 2\n"
        "sampler: {name: nsga2, settings: {populaton_size: 10}}\n"
        "constraints:\n  c: {expression: __import__('os'), max: 1}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_space(bad)
    by_path = {p.key_path: p.message for p in caught.value.problems}
    assert "unknown name 'nope'" in by_path["derived.x"]
    assert "unknown setting" in by_path["sampler.settings.populaton_size"]
    assert "only these functions" in by_path["constraints.c.expression"]


def test_unknown_hardware_path_is_a_file_error() -> None:
    text = MINIMAL.replace("sram.capacity_mib:", "sram.capacity_mb:")
    with pytest.raises(ConfigError) as caught:
        space_from_text(text, "t.yaml", ROOT)
    assert [(p.key_path, p.message) for p in caught.value.problems] == [
        ("hardware.sram.capacity_mb", "unknown key; did you mean 'capacity_mib'?")
    ]


def test_unknown_base_and_reference_are_reported_together() -> None:
    text = MINIMAL.replace("base: nvidia-h100-sxm", "base: no-such-chip") + (
        "references: [nvidia-a100-80gb, nor-this-one]\n"
    )
    with pytest.raises(ConfigError) as caught:
        space_from_text(text, "t.yaml", ROOT)
    paths = [p.key_path for p in caught.value.problems]
    assert "base" in paths and "references[1]" in paths


def test_sram_vs_hbm_area_budget_trades_sram_for_compute_units() -> None:
    space = load_space(ROOT / "search_spaces" / "sram_vs_hbm.yaml")
    small = space.build(
        {"memory_route": "hbm", "sram_capacity_mib": 64, "hbm_stacks": 5, "ddr_channels": 8,
         "clock_mhz": 1500},
        "small",
    )
    large = space.build(
        {"memory_route": "ddr", "sram_capacity_mib": 896, "hbm_stacks": 5, "ddr_channels": 8,
         "clock_mhz": 1500},
        "large",
    )
    assert small.hardware is not None and large.hardware is not None
    # 814 mm2 - 64 MiB x 0.2559 - (18.5 + 5 x 12) mm2 = 719.1 mm2 -> 134 units of 5.358 mm2
    assert small.hardware.compute.compute_units == 134
    # 814 - 896 x 0.2559 - (18.5 + 8 x 4) = 534.2 mm2 -> 99 units
    assert large.hardware.compute.compute_units == 99
    assert large.hardware.hbm is None and large.hardware.ddr is not None
    assert small.hardware.ddr is None and small.hardware.hbm is not None
    assert small.hardware.hbm.capacity_bytes == 5 * 16 * 2**30
    assert large.hardware.ddr.bandwidth_byte_per_s == pytest.approx(8 * 38.4e9)
    assert large.hardware.sram.management == "scratchpad"
    assert small.hardware.sram.management == "cache"
    # peak scales with units x clock: 989.4 TFLOP/s x 99 / 132 x 1500 / 1980
    assert large.hardware.compute.peak_flop_per_s["bf16"] == pytest.approx(
        989.4e12 * 99 / 132 * 1500 / 1980
    )
    assert large.hardware.compute.clock_hz == 1.5e9
    assert large.derived["used_die_area_mm2"] <= 814
    assert large.hardware.technology.die_area_m2 == pytest.approx(
        large.derived["used_die_area_mm2"] * 1e-6
    )


def test_unbuildable_points_come_back_with_reasons() -> None:
    text = MINIMAL.replace("high: 512", "high: 4096") + (
        "derived:\n  units: floor((200 - sram_capacity_mib * 0.25) / 5)\n"
    ).replace("hardware:", "hardware:")
    text = text.replace(
        "hardware:\n  sram.capacity_mib: sram_capacity_mib\n",
        "hardware:\n  sram.capacity_mib: sram_capacity_mib\n  compute.compute_units: units\n",
    )
    space = space_from_text(text, "t.yaml", ROOT)
    built = space.build({"sram_capacity_mib": 2048.0}, "too-much-sram")
    assert built.hardware is None
    assert built.derived["units"] == math.floor((200 - 512) / 5)
    assert any("compute.compute_units" in r for r in built.infeasible_reasons)


def test_summary_says_what_each_parameter_maps_to() -> None:
    space = load_space(ROOT / "search_spaces" / "sram_vs_hbm.yaml")
    rows = {row.name: row for row in summarise(space)}
    assert rows["sram_capacity_mib"].cardinality == 64
    assert "sram.capacity_mib" in rows["sram_capacity_mib"].maps_to
    # through the area budget, SRAM reaches the compute units and the peak
    assert "compute.compute_units" in rows["sram_capacity_mib"].maps_to
    assert "remove hbm" in rows["memory_route"].maps_to
    assert space.cardinality() == 2 * 64 * 8 * 8 * 9
    assert len(list(points_iter(space, 3))) == 2 * 64 * 8 * 8 * 9



def test_cli_space_check_schema_and_new(tmp_path: Path) -> None:
    from dse.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["space", "check", str(ROOT / "search_spaces/sram_vs_hbm.yaml")])
    assert result.exit_code == 0, result.output
    assert "5 parameters" in result.output and "73,728 designs" in result.output

    result = runner.invoke(app, ["space", "schema"])
    schema = json.loads(result.output)
    assert {"parameters", "objectives", "budget", "sampler"} <= set(schema["properties"])

    result = runner.invoke(app, ["space", "new", "mine", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    load_space(tmp_path / "mine.yaml")  # the template is itself a valid space
    result = runner.invoke(app, ["space", "new", "mine", "--dir", str(tmp_path)])
    assert result.exit_code == 2


def test_cli_space_check_bad_file_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    from dse.cli import app

    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.replace("kind: float", "kind: real") + "extra: 1\n")
    result = CliRunner().invoke(app, ["space", "check", str(bad)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 2
    assert any("parameters.sram_capacity_mib.kind" in line for line in lines)
    assert "Traceback" not in result.output


def test_suite_and_metric_names_are_checked_against_the_suite() -> None:
    text = MINIMAL.replace("suite: llm-serving", "suite: no-such-suite")
    with pytest.raises(ConfigError) as caught:
        space_from_text(text, "t.yaml", ROOT)
    assert [p.key_path for p in caught.value.problems] == ["suite"]
    assert "llm-serving" in caught.value.problems[0].message  # lists the known suites

    text = MINIMAL + (
        "  - {name: e, expression: workloads.llama3_8b_serving.energy_per_token_jj,"
        " direction: minimize}\n"
        "  - {name: f, expression: workloads.llama9_serving.power_w, direction: minimize}\n"
        "  - {name: g, expression: mean.power_w, direction: minimize}\n"
    )
    with pytest.raises(ConfigError) as caught:
        space_from_text(text, "t.yaml", ROOT)
    messages = {p.key_path: p.message for p in caught.value.problems}
    assert set(messages) == {"objectives[1].expression", "objectives[2].expression"}
    assert "energy_per_output_token_j" in messages["objectives[1].expression"]
    assert "llama3_8b_serving" in messages["objectives[2].expression"]


def test_cli_space_check_prints_user_text_literally_not_as_rich_markup(tmp_path: Path) -> None:
    from dse.cli import app

    text = MINIMAL.replace(
        "name: tiny\n",
        "name: tiny\ndescription: 'ratio [/] of [bold]SRAM[/bold] :fire: per \\\\'\n",
    ).replace(
        "  sram_capacity_mib: {kind: float, unit: MiB, low: 32, high: 512, log: true}\n",
        "  sram_capacity_mib: {kind: float, unit: '[red]MiB', low: 32, high: 512, log: true}\n"
        "  route: {kind: categorical, unit: '-', choices: ['ratio [/] of', '[b]x[/b]']}\n",
    )
    path = tmp_path / "markup.yaml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["space", "check", str(path)], env={"COLUMNS": "200"})
    # "[/]" used to raise rich's MarkupError; "[bold]" used to vanish silently
    assert result.exit_code == 0, result.output
    for literal in ("ratio [/] of [bold]SRAM[/bold] :fire: per \\", "[red]MiB",
                    "{ratio [/] of, [b]x[/b]}"):
        assert literal in result.output, literal


def test_a_grid_and_a_midpoint_probe_accept_the_reachable(tmp_path: Path) -> None:
    # a constraint the base design breaks but the low corner meets is not refused
    text = MINIMAL.replace(
        "  sram_capacity_mib: {kind: float, unit: MiB, low: 32, high: 512, log: true}\n",
        "  sram_capacity_mib: {kind: float, unit: MiB, low: 32, high: 512, step: 32}\n"
        "  compute_units: {kind: int, unit: count, low: 8, high: 132, step: 4}\n",
    ).replace("hardware:\n", "hardware:\n  compute.compute_units: compute_units\n"
              "  compute.peak_dense_tflops.bf16: base.compute.peak_dense_tflops.bf16 * "
              "compute_units / 132\n") + (
        "constraints:\n  small: {expression: die_area_mm2, max: 800, unit: mm2}\n"
        "sampler: {name: grid}\n"
    ).replace("remove: {}\n", "") + "remove: {technology.die_area_mm2: true}\n"
    path = tmp_path / "reachable.yaml"
    path.write_text(text.replace("suite: llm-serving", f"suite: {ROOT}/evaluators/suites/"
                                 "llm-serving.yaml"))
    space = load_space(path)  # base 814 mm2; the low corner ~794
    assert space.cardinality() == 16 * 32
    path.write_text(path.read_text().replace("max: 800", "max: 700"))
    with pytest.raises(ConfigError, match="no design checked meets <= 700 mm2"):
        load_space(path)
    # re-reading a recorded space (a results folder) skips the pre-search checks
    assert space_from_text(path.read_text(), str(path), tmp_path).name == "tiny"
