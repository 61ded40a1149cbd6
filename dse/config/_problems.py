"""Turning pydantic validation errors into `Problem`s with plain key paths and messages."""

from __future__ import annotations

import reprlib
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from dse.errors import Problem


def key_path(location: Sequence[str | int], prefix: str = "") -> str:
    """`("ops", 3, "m")` -> `ops[3].m`; a `prefix` (itself a key path) goes in front."""
    path = prefix
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


_REPR = reprlib.Repr()
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlevel = 2


def shown(value: Any) -> str:
    """A bounded repr of a user's value for an error message.

    NOTE: `repr()` of a whole input before cutting it is unbounded work (an alias-heavy
    document, a 10^5-digit integer); reprlib stops after a few items and characters.
    """
    if isinstance(value, bool):
        return "true" if value else "false"  # as the YAML file spells it
    if isinstance(value, int) and value.bit_length() > 200:
        return f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"
    text = _REPR.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _bound(value: Any) -> str:
    """A limit as a person writes it: 0 rather than 0.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _message(error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    got = shown(error.get("input"))
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "greater_than":
        return f"must be > {_bound(ctx['gt'])}, got {got}"
    if kind == "greater_than_equal":
        return f"must be >= {_bound(ctx['ge'])}, got {got}"
    if kind == "less_than":
        return f"must be < {_bound(ctx['lt'])}, got {got}"
    if kind == "less_than_equal":
        return f"must be <= {_bound(ctx['le'])}, got {got}"
    if kind == "literal_error":
        return f"must be one of {ctx['expected']}, got {got}"
    if kind == "not_a_number":
        return f"must be a number, got {got}"
    if kind in ("int_type", "int_parsing", "int_from_float", "not_a_whole_number"):
        return f"must be a whole number, got {got}"
    if kind == "finite_number":
        return f"must be a finite number, got {got}"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, got {got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, got {got}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping (key: value), got {got}"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, got {got}"
    if kind in ("string_type",):
        return f"must be a string, got {got}"
    if kind == "string_too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else (
            f"must be at least {ctx.get('min_length')} characters"
        )
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length', 1)} entries"
    message = str(error.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    if isinstance(error.get("input"), Mapping):
        return message  # a check across keys: the whole section would say nothing more
    return f"{message}, got {got}"


def problems_from_validation_error(
    exc: ValidationError, source: str, prefix: str = ""
) -> list[Problem]:
    """One `Problem` per pydantic error, keyed by the YAML key path (aliases, not field names)."""
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        location = list(error["loc"])
        message = _message(error)
        if location and location[-1] == "[key]":
            # NOTE: pydantic marks a bad dict key with a trailing "[key]"; the key itself
            # is the last real element, so say which keys are allowed instead.
            location.pop()
            ctx = error.get("ctx") or {}
            allowed = ctx.get("expected", "")
            message = f"unknown key; allowed: {allowed}" if allowed else message
        problems.append(Problem(source, key_path(location, prefix), message))
    return problems
