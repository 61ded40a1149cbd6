"""The `dse` Typer application and the one place user errors become exit codes.

Command modules (one per command group, beside this file) register on `app`; they stay
thin: parse arguments, call the library, print.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from dse.errors import ConfigError

app = typer.Typer(
    name="dse",
    help="Design-space exploration for AI accelerators.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
error_console = Console(stderr=True)

EXIT_USAGE = 2

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
