"""Running malformed-input cases through the real `dse` command line.

A *kind* is a folder under tests/corpus/ holding cases (`<case>.yaml`, or any other file
or folder whose name does not start with `_`), support files (`_name`), and
`expected.txt`: one line per case, `<case name><TAB><the exact stderr line>`, where
`{file}` stands for the path the case was passed as (relative to the repository root)
and `{root}` for the repository root's absolute path; `{any}` matches any text on the
line (for a figure the cost model computes, which changes when the physics does).
`COMMANDS` says how each kind is run: the argv after `dse`, with `{file}` for the case.

To add a kind (results-folder corruptions, say), add its folder and expected.txt and
one entry to COMMANDS; cases that must be built at test time (a folder made by a real
search, then damaged) can live in their own test module and call `run_in_process`
and `assert_one_line_error` from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from dse.cli import app

CORPUS = Path(__file__).parent
REPO = CORPUS.parent.parent
EXIT_USAGE = 2

COMMANDS: dict[str, list[str]] = {
    "hardware": ["evaluate", "--hardware", "{file}", "--workload",
                 "tests/corpus/hardware/_ops.yaml"],
    "operator_workload": ["evaluate", "--hardware", "nvidia-h100-sxm", "--workload", "{file}"],
    "model_workload": ["evaluate", "--hardware", "nvidia-h100-sxm", "--workload", "{file}"],
    "suite": ["evaluate", "--hardware", "nvidia-h100-sxm", "--suite", "{file}"],
    "space": ["space", "check", "{file}"],
    "economics": ["economics", "--economics-file", "{file}"],
}


@dataclass(frozen=True)
class Case:
    kind: str
    name: str
    path: str
    """As passed on the command line: relative to the repository root."""
    expected: str
    """The one line the command must print on stderr, `{file}` filled in."""

    @property
    def argv(self) -> list[str]:
        return [part.replace("{file}", self.path) for part in COMMANDS[self.kind]]

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.name}"


def case_paths(kind: str) -> dict[str, Path]:
    """Every case of `kind` by name (file stem, or folder name)."""
    folder = CORPUS / kind
    return {
        (entry.stem if entry.is_file() else entry.name): entry
        for entry in sorted(folder.iterdir())
        if not entry.name.startswith(("_", ".")) and entry.name != "expected.txt"
    }


def expected_lines(kind: str) -> dict[str, str]:
    table: dict[str, str] = {}
    text = (CORPUS / kind / "expected.txt").read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, tab, message = line.partition("\t")
        if not tab or not message:
            raise ValueError(f"{kind}/expected.txt line {number}: want '<case><TAB><line>'")
        if name in table:
            raise ValueError(f"{kind}/expected.txt line {number}: {name} listed twice")
        table[name] = message
    return table


def cases() -> list[Case]:
    found = []
    for kind in COMMANDS:
        paths = case_paths(kind)
        for name, message in expected_lines(kind).items():
            path = paths[name].relative_to(REPO).as_posix() if name in paths else f"<{name}>"
            line = message.replace("{root}", str(REPO)).replace("{file}", path)
            found.append(Case(kind, name, path, line))
    return found


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str
    uncaught: BaseException | None


def run_in_process(argv: list[str]) -> Outcome:
    """`dse ARGV` through the Typer app in this process (cwd must be the repo root)."""
    result = CliRunner().invoke(app, argv)
    uncaught = result.exception if not isinstance(result.exception, SystemExit) else None
    return Outcome(result.exit_code, result.stdout, result.stderr, uncaught)


def problems_with(outcome: Outcome, expected: str) -> list[str]:
    """What is wrong with `outcome` for a case expecting the one stderr line `expected`."""
    wrong = []
    if outcome.uncaught is not None:
        wrong.append(f"uncaught {type(outcome.uncaught).__name__}: {outcome.uncaught}")
    if outcome.exit_code != EXIT_USAGE:
        wrong.append(f"exit code {outcome.exit_code}, want {EXIT_USAGE}")
    if "Traceback" in outcome.stdout + outcome.stderr:
        wrong.append("a traceback was printed")
    pattern = ".*?".join(re.escape(part) for part in expected.split("{any}"))
    if not re.fullmatch(pattern, outcome.stderr.rstrip("\n")):
        wrong.append(f"stderr {outcome.stderr!r}, want {expected!r}")
    return wrong
