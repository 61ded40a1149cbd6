"""Every command that prints JSON prints strict JSON, and a test reads it strictly."""

from __future__ import annotations

import math
from pathlib import Path

from typer.main import get_command

from dse.cli import app
from dse.cli._app import json_text
from tests.cli.strict_json import loads_strict

TESTS = Path(__file__).resolve().parent.parent

# command -> the test module that runs it with --json and reads the output strictly
CHECKED_BY = {
    "calibrate": "cli/test_calibrate.py",
    "economics": "cli/test_economics.py",
    "evaluate": "cli/test_evaluate.py",
    "validate kernels": "cli/test_evaluate.py",
    "validate published": "cli/test_validate_published.py",
    "validate end-to-end": "cli/test_validate_end_to_end.py",
    # --format json of the reading commands: the tables' own tests, and the --help
    # examples run on a real search (browse/test_help_examples.py)
    "pareto": "browse/test_help_examples.py",
}


def json_commands() -> set[str]:
    """Commands with a `--json` flag or a `json` choice of `--format`."""
    found: set[str] = set()

    def walk(command, path: str) -> None:  # type: ignore[no-untyped-def]
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}".strip())
        for param in getattr(command, "params", ()):
            choices = getattr(getattr(param, "type", None), "choices", ()) or ()
            if "--json" in param.opts or ("--format" in param.opts and "json" in choices):
                found.add(path)

    walk(get_command(app), "")
    return found


def test_every_json_command_is_read_strictly_by_a_test() -> None:
    commands = json_commands()
    assert {"economics", "evaluate", "validate published"} <= commands
    unchecked = commands - set(CHECKED_BY) - {"show", "compare"}  # tables: tests/browse
    assert not unchecked, f"add a strict --json test for: {sorted(unchecked)}"
    for command, module in CHECKED_BY.items():
        text = (TESTS / module).read_text(encoding="utf-8")
        assert "loads_strict" in text or "parse_constant" in text, module
        assert f'"{command.split()[-1]}"' in text, (command, module)


def test_json_text_writes_null_for_what_json_cannot_hold() -> None:
    import numpy as np

    text = json_text({"nan": math.nan, "inf": [math.inf, -np.inf], "n": np.int64(3),
                      "x": np.float32(0.5), "array": np.array([1.0, np.nan]), "ok": True})
    assert loads_strict(text) == {"nan": None, "inf": [None, None], "n": 3, "x": 0.5,
                                  "array": [1.0, None], "ok": True}
