"""Turning pydantic validation errors into `Problem`s with plain key paths and messages."""

from __future__ import annotations

import difflib
import re
import reprlib
import types
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

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


def closest(word: str, names: Iterable[str]) -> str | None:
    """The allowed name `word` was most likely meant to be, or None (see `did_you_mean`).

    NOTE: a name that `word` begins (the shortest) wins over difflib's ratio:
    `nvidia-h100` is `nvidia-h100-sxm` cut short, though `nvidia-h200` differs in one
    character and scores higher.
    """
    names = list(names)
    if len(word) >= 3:
        started = sorted((n for n in names if n.lower().startswith(word.lower())), key=len)
        if started:
            return started[0]
    found = difflib.get_close_matches(word, names, n=1) or [
        n for n in names if n.lower() == word.lower()
    ]
    return found[0] if found else None


def did_you_mean(word: str, allowed: Iterable[str], always_list: bool = False) -> str:
    """`; did you mean 'stacks'?` for the closest allowed name, else the allowed names.

    NOTE: difflib's ratio with its default cutoff (0.6): `stack` -> `stacks`,
    `capacity_mb` -> `capacity_mib`, `compute_unit` -> `compute`; a word nothing like
    any allowed name gets the whole list instead, so the author is never left guessing.
    `always_list` adds the list after a suggestion too: for a fixed vocabulary (the
    precisions) where the nearest name (`fp4` -> `fp8`) may not be what was meant.
    """
    names = list(dict.fromkeys(allowed))
    if not names:
        return ""
    close = closest(word, names)
    listed = "allowed: " + ", ".join(names)
    if close is not None:
        return f"; did you mean {close!r}?" + (f" {listed}" if always_list else "")
    return f"; {listed}"


def unknown_key(key: str, allowed: Iterable[str], always_list: bool = False) -> str:
    """The message for a key a config section does not have (every config file alike)."""
    return "unknown key" + did_you_mean(key, allowed, always_list)


def _members(annotation: Any) -> list[Any]:
    """The alternatives of `annotation`: Annotated, Optional and unions unwrapped."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _members(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [m for arg in get_args(annotation) for m in _members(arg)]
    return [annotation]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _field_keys(model: type[BaseModel]) -> dict[str, Any]:
    """The keys a model's section accepts (aliases where set) -> their annotations."""
    return {
        (info.alias or name): info.annotation for name, info in model.model_fields.items()
    }


def allowed_keys(model: type[BaseModel], location: Sequence[str | int]) -> list[str]:
    """The keys allowed in the section at `location` (a pydantic error's `loc`) of `model`.

    Follows fields, list items, dict values and the branch labels pydantic puts in a
    union's location (`model.InlineTransformer.layerz`); [] when the section is not a
    model (free-form, or the walk cannot tell).
    """
    current: list[Any] = [model]
    for part in location:
        following: list[Any] = []
        for member in (m for c in current for m in _members(c)):
            if _is_model(member):
                if isinstance(part, str) and part == member.__name__:
                    following.append(member)  # the union-branch label of this model
                elif isinstance(part, str) and part in _field_keys(member):
                    following.append(_field_keys(member)[part])
            elif get_origin(member) in (list, tuple, Sequence) and isinstance(part, int):
                following.extend(get_args(member)[:1])
            elif get_origin(member) in (dict, Mapping):
                following.extend(get_args(member)[1:2])
        current = following
    keys: set[str] = set()
    for member in (m for c in current for m in _members(c)):
        if _is_model(member):
            keys.update(_field_keys(member))
    return sorted(keys)


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
    exc: ValidationError, source: str, prefix: str = "", model: type[BaseModel] | None = None
) -> list[Problem]:
    """One `Problem` per pydantic error, keyed by the YAML key path (aliases, not field names).

    `model` is the model `exc` came from: with it, an unknown key gets the closest
    allowed key ("did you mean") or the list of allowed keys.
    """
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        location = list(error["loc"])
        message = _message(error)
        if location and location[-1] == "[key]":
            # NOTE: pydantic marks a bad dict key with a trailing "[key]"; the key itself
            # is the last real element, so say which keys are allowed instead.
            location.pop()
            ctx = error.get("ctx") or {}
            allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
            if allowed and location:
                message = unknown_key(str(location[-1]), allowed, always_list=True)
        elif error["type"] == "extra_forbidden" and model is not None and location:
            message = unknown_key(str(location[-1]), allowed_keys(model, location[:-1]))
        problems.append(Problem(source, key_path(location, prefix), message))
    return problems
