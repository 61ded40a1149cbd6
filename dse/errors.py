"""The two kinds of trouble dse distinguishes.

`ConfigError` is bad user input: stop, explain every problem at once, exit non-zero,
no traceback. `InfeasibleDesign` is an expected outcome of exploring a design space:
record it as data with its reasons and go on.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a user-supplied file: where, what value, and what is wrong."""

    source: str  # file path or "<preset name>"
    key_path: str  # dotted path inside the document, e.g. "ops[3].m"
    message: str

    def __str__(self) -> str:
        where = f"{self.source}: {self.key_path}" if self.key_path else self.source
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """Bad user input. Carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem] | Problem | str, source: str = "") -> None:
        if isinstance(problems, str):
            problems = [Problem(source, "", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InfeasibleDesign(Exception):
    """A design that cannot run a workload (does not fit, breaks a cap).

    Raised only inside library code that has no array to put the answer in; search and
    evaluators catch it and record `reasons` as data.
    """

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("; ".join(self.reasons))


class ResultsFolderWarning(UserWarning):
    """A results folder is read, but not all of it: a part skipped (not in its manifest)
    or parts read unchecked (a folder written before manifests)."""
