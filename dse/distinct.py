"""Which trials are the same design: the hardware they build, not the numbers sampled.

A search space samples every parameter on every trial, also the ones the design's route
does not use: an HBM-route design of `sram_vs_hbm.yaml` still carries a `ddr_channels`
that its `remove: {ddr: ...}` drops. Trials that differ only there build the same chip,
evaluate to the same figures, and are one design. This module says so, in one place
that the search's progress line, `dse search`'s summary, `dse pareto`, `dse show` and the
page all use, so all of them count the same front.

- `DesignKeys(space)`: `key(params)` is the built hardware (its YAML form without its
  name) as canonical JSON, or None when the point does not build; `acting(params)` the
  parameters that change that hardware when moved, found by moving each one.
- `group_by_design(numbers, keys)`: first trial number of each design and all its trials.

Only `dse.space` and the hardware format are imported: the driver uses it too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from dse.search.expressions import ExpressionError
from dse.space import ParameterSpec, SearchSpace


def _plain(value: Any) -> Any:
    """A numpy scalar as its Python value (Parquet and Optuna hand back either)."""
    return value.item() if hasattr(value, "item") else value


class DesignKeys:
    """Hardware keys of sampled points of one space, cached by parameter values."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self._keys: dict[tuple[Any, ...], str | None] = {}

    def _point(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(_plain(params[name]) for name in self.space.parameters)

    def key(self, params: Mapping[str, Any]) -> str | None:
        """The design `params` build, as canonical JSON; None when it does not build."""
        point = self._point(params)
        if point not in self._keys:
            self._keys[point] = self._build_key(dict(zip(self.space.parameters, point,
                                                         strict=True)))
        return self._keys[point]

    def _build_key(self, params: Mapping[str, Any]) -> str | None:
        """The space's assignments that survive its `remove:` conditions, and what those
        conditions removed: everything by which one built design differs from another
        of the same space (they share the base design).

        # NOTE: the hardware document is not copied and validated per point
        # (`SearchSpace.build`, about 2.4 ms): the difference to the shared base is the
        # same information at about a fifth of the cost, which keeps a 600-design front
        # under half a second. Numbers are compared at 12 significant digits, as
        # `hardware_to_dict` writes them, so 5 and 5.0 are one value.
        """
        space = self.space
        try:
            namespace = space.values(params)
            removed = sorted(
                path for path, condition in space.remove_conditions.items()
                if condition.evaluate(namespace)
            )
            kept = {
                path: _canonical(expression.evaluate(namespace))
                for path, expression in space.hardware_expressions.items()
                if not any(path == r or path.startswith(r + ".") for r in removed)
            }
        except (ExpressionError, KeyError, TypeError, ValueError, ZeroDivisionError):
            return None
        return json.dumps([kept, removed], sort_keys=True)

    def acting(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        """Parameters that act on the design `params` build: moving one to another value
        of its range changes the built hardware (or whether it builds at all).

        # NOTE: found from the built hardware, not from a hand list of which parameter
        # belongs to which route: `remove:` conditions, expressions that ignore a
        # parameter on one branch and derived values all show up in the hardware.
        """
        own = self.key(params)
        acting = []
        for name, spec in self.space.parameters.items():
            for other in _other_values(spec, _plain(params[name])):
                if self.key({**params, name: other}) != own:
                    acting.append(name)
                    break
        return tuple(acting)


def _other_values(spec: ParameterSpec, value: Any) -> list[Any]:
    """A few other values of a parameter's range: every other choice, or the bounds and
    a point just beside `value` for a number."""
    if spec.kind == "categorical":
        return [c for c in (spec.choices or []) if c != value]
    low, high = spec.low, spec.high
    if low is None or high is None:
        return []
    candidates: list[Any] = [low, high]
    if spec.kind == "int":
        step = int(spec.step or 1)
        candidates += [int(value) - step, int(value) + step]
        candidates = [int(c) for c in candidates if low <= c <= high]
    else:
        span = float(high) - float(low)
        candidates += [float(value) + 0.01 * span, float(value) - 0.01 * span]
        candidates = [float(c) for c in candidates if low <= c <= high]
    return [c for c in dict.fromkeys(candidates) if c != value]


def _canonical(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return float(f"{float(value):.12g}")


def group_by_design(
    numbers: Sequence[int], keys: Sequence[Hashable | None]
) -> dict[int, tuple[int, ...]]:
    """First trial number of each design -> every trial number that built it, in order.

    Trials whose key is None (unbuildable, or no space to build from) are each their own
    design.
    """
    groups: dict[Hashable, list[int]] = {}
    for number, key in sorted(zip(numbers, keys, strict=True), key=lambda item: item[0]):
        groups.setdefault(("trial", number) if key is None else key, []).append(int(number))
    return {members[0]: tuple(members) for members in groups.values()}


def params_key(params: Mapping[str, Any]) -> tuple[Any, ...]:
    """Fallback key when the space cannot be rebuilt: the sampled values themselves
    (NaN made comparable)."""
    return tuple(
        (name, None if isinstance(v := _plain(value), float) and math.isnan(v) else v)
        for name, value in sorted(params.items())
    )
