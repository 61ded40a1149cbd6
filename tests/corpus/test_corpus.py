"""The malformed-input corpus: every case exits 2 with its one exact line, no traceback.

Cases live in tests/corpus/<kind>/ with their expected lines in expected.txt (see
harness.py for the layout and how to add a kind). Most run in this process through the
Typer app; a handful, the ones that used to hang or exhaust memory, run as real
processes under resource limits.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.corpus.harness import (
    COMMANDS,
    REPO,
    Case,
    Outcome,
    case_paths,
    cases,
    expected_lines,
    problems_with,
    run_in_process,
)

ALL_CASES = cases()


def test_the_corpus_is_large_and_every_case_has_one_expected_line() -> None:
    assert len(ALL_CASES) >= 100
    for kind in COMMANDS:
        on_disk, listed = set(case_paths(kind)), set(expected_lines(kind))
        assert on_disk == listed, f"{kind}: files without a line {sorted(on_disk - listed)}, " \
                                  f"lines without a file {sorted(listed - on_disk)}"
    for case in ALL_CASES:
        assert case.expected.startswith("error: ") and "\n" not in case.expected, case.id


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the table's paths (and a suite's include) are repo-relative


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda case: case.id)
def test_case_exits_2_with_its_one_line(case: Case) -> None:
    outcome = run_in_process(case.argv)
    assert not problems_with(outcome, case.expected), problems_with(outcome, case.expected)


# --------------------------------------------------------------------------------------
# Real processes under limits: the acceptance bound is 5 s and 500 MB per input.

CPU_LIMIT_S = 5
MEMORY_LIMIT_BYTES = 500 * 2**20
HANG_GUARD_S = 120
"""Wall-clock guard only: a loaded CI machine may queue a process for a while; the 5 s
bound is on CPU time (RLIMIT_CPU), which waiting does not use."""


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT_S, CPU_LIMIT_S))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def _run_limited(argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "dse.cli", *argv], cwd=REPO, env=env, capture_output=True,
        text=True, preexec_fn=_limited, timeout=HANG_GUARD_S, check=False,
    )


HOSTILE = [
    "hardware/yaml_alias_bomb",
    "hardware/yaml_deep_nesting",
    "hardware/yaml_huge_integer",
    "space/expression_exponent_tower",
    "space/expression_string_repeat",
    "space/grid_axis_too_long",
    "suite/includes_itself",
]


@pytest.mark.parametrize("case_id", HOSTILE)
def test_hostile_inputs_fail_fast_in_a_real_process(case_id: str) -> None:
    (case,) = [c for c in ALL_CASES if c.id == case_id]
    done = _run_limited(case.argv)
    # SIGXCPU (the CPU limit) or a MemoryError shows as another exit code or a traceback
    outcome = Outcome(done.returncode, done.stdout, done.stderr, None)
    assert not problems_with(outcome, case.expected), problems_with(outcome, case.expected)


def test_an_oversized_file_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("name: x\ndescription: '" + "x" * (2 * 2**20) + "'\n")
    done = _run_limited(["space", "check", str(big)])
    assert done.returncode == 2, done.stderr[-500:]
    assert done.stderr.rstrip("\n") == f"error: {big}: larger than 1 MiB"
