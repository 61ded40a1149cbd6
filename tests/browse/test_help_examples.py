"""Examples in `--help` text run: on a real search's folder, as a reader would paste them.

Every `e.g. "..."` in the help of an option of a command that reads a results folder is
passed to that command on the session's real quickstart search (tests/browse/conftest.py)
and must exit 0. (`sram_mib > 64` once stood here and failed with a duckdb binder error:
no real space has a `sram_mib` column.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from dse.cli import app

EXAMPLE = re.compile(r'e\.g\.\s+"([^"]+)"')


def help_examples() -> list[tuple[str, str, str]]:
    """(command, option, example) for each `e.g. "..."` in an option's help."""
    found = []
    root = get_command(app)
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        arguments = [p.name for p in command.params if not p.name.startswith("-")
                     and getattr(p, "param_type_name", "") == "argument"]
        if arguments[:1] != ["results"]:
            continue
        for param in command.params:
            for example in EXAMPLE.findall(" ".join((getattr(param, "help", "") or "").split())):
                found.append((name, param.opts[0], example))
    return found


EXAMPLES = help_examples()


def test_help_examples_are_found() -> None:
    assert ("pareto", "--where", "sram_capacity_mib > 64 AND hbm_stacks <= 4") in EXAMPLES


@pytest.mark.parametrize(("command", "option", "example"), EXAMPLES)
def test_help_example_runs_on_a_real_search(real_search_results: Path, command: str,
                                            option: str, example: str) -> None:
    argv = [command, str(real_search_results), option, example]
    if command == "pareto":
        argv += ["--format", "json"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, (argv, result.output)
    if command == "pareto":
        rows = json.loads(result.stdout, parse_constant=lambda c: pytest.fail(c))
        assert rows, "the example selects nothing on the quickstart search"
