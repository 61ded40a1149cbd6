"""The `dse` Typer application and the one place user errors become exit codes.

Command modules (one per command group, beside this file) register on `app`; they stay
thin: parse arguments, call the library, print.
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from dse.errors import ConfigError, ResultsFolderWarning

app = typer.Typer(
    name="dse",
    help="Design-space exploration for AI accelerators.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# NOTE: emoji codes are off: a description such as "uses :fire: units" is user text and
# must print as written. Markup stays on for the CLI's own styling, so every piece of
# user text (names, descriptions, units, choices, reasons, paths) goes through `plain`.
console = Console(emoji=False)
error_console = Console(stderr=True, emoji=False)

EXIT_USAGE = 2

def plain(text: object) -> str:
    """`text` as rich shows it literally: `[` that would open markup is escaped.

    Without it "ratio [/] of" raises a MarkupError and "[bold]x" loses its brackets.
    """
    return escape(str(text))


def _strict(value: Any) -> Any:
    """`value` with every non-finite number as None and numpy scalars as Python ones."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_strict(v) for v in value]
    if getattr(value, "ndim", 0) and callable(getattr(value, "tolist", None)):  # an array
        return _strict(value.tolist())
    if callable(getattr(value, "item", None)):  # a numpy scalar or 0-d array
        return _strict(value.item())
    return str(value)


def json_text(value: Any) -> str:
    """`value` as strict JSON (RFC 8259) for every `--json` output.

    NOTE: Python's json writes NaN and Infinity, which are not JSON: `jq`, browsers and
    `json.loads(..., parse_constant=...)` refuse them. A missing or unbounded figure (an
    infeasible design's throughput, an infinite break-even volume) is `null` instead.
    """
    return json.dumps(_strict(value), indent=2, allow_nan=False)


_python_showwarning = warnings.showwarning


def _show_warning(message, category, filename, lineno, file=None, line=None):  # type: ignore[no-untyped-def]
    """A results folder's warning (a skipped part) is one `warning:` line, no source line."""
    if issubclass(category, ResultsFolderWarning):
        print(f"warning: {message}", file=sys.stderr)
        return
    _python_showwarning(message, category, filename, lineno, file, line)


warnings.showwarning = _show_warning

P = ParamSpec("P")
R = TypeVar("R")


def report_config_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn ConfigError into one line per problem on stderr and exit code 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            for problem in exc.problems:
                print(f"error: {problem}", file=sys.stderr)
            raise typer.Exit(EXIT_USAGE) from None

    return wrapper
