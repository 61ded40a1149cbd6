"""A tiny, safe arithmetic language for search-space files.

Search-space files compute derived quantities (`compute_units` from an area budget),
hardware fields (`hbm.capacity_gib: hbm_stacks * gib_per_stack`), objectives and
constraints from names. The language is a whitelisted subset of Python expression
syntax, parsed with `ast` and walked by hand, never passed to `eval`:

- numbers, strings, `true`/`false` (`True`/`False`), names and dotted names
  (`base.compute.clock_mhz`, `workloads.gpt3_175b_train.step_time_s`);
- `+ - * / // % **`, unary `-`/`+`/`not`, comparisons, `and`/`or`,
  `a if condition else b`;
- the functions in `FUNCTIONS` (min, max, floor, ceil, round, sqrt, log, log2, exp,
  abs, clip).

Anything else (attribute access on values, subscripts, lambdas, comprehensions,
calls to other names) is refused when the file is checked, with the offending text.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Value = float | int | str | bool

MAX_EXPRESSION_CHARS = 500
MAX_POWER_EXPONENT = 64.0
"""`2 ** 2 ** 100` would hang on integers; exponents beyond this are refused at run time."""


def _clip(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


FUNCTIONS: Mapping[str, Callable[..., Any]] = {
    "min": min,
    "max": max,
    "floor": math.floor,
    "ceil": math.ceil,
    "round": round,
    "sqrt": math.sqrt,
    "log": math.log,
    "log2": math.log2,
    "exp": math.exp,
    "abs": abs,
    "clip": _clip,
}

_BINARY: Mapping[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: Mapping[type, Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}
_COMPARE: Mapping[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_LITERAL_NAMES: Mapping[str, bool] = {
    "true": True,
    "false": False,
    "True": True,
    "False": False,
}


class ExpressionError(ValueError):
    """An expression that cannot be parsed, uses something not allowed, or fails to run."""


def _dotted_name(node: ast.AST) -> str | None:
    """`a.b.c` as a string, or None when `node` is not a plain dotted name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _check(node: ast.AST, names: set[str]) -> None:
    """Refuse every node outside the whitelist; collect the names used."""
    if isinstance(node, ast.Expression):
        _check(node.body, names)
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, int | float | str | bool):
            raise ExpressionError(f"constant {node.value!r} is not a number or string")
    elif isinstance(node, ast.Name | ast.Attribute):
        dotted = _dotted_name(node)
        if dotted is None:
            raise ExpressionError("only plain names and dotted names can be used")
        if dotted not in _LITERAL_NAMES:
            names.add(dotted)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise ExpressionError(f"operator {type(node.op).__name__} is not allowed")
        _check(node.left, names)
        _check(node.right, names)
    elif isinstance(node, ast.UnaryOp):
        if type(node.op) not in _UNARY:
            raise ExpressionError(f"operator {type(node.op).__name__} is not allowed")
        _check(node.operand, names)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, names)
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise ExpressionError(f"comparison {type(op).__name__} is not allowed")
        _check(node.left, names)
        for comparator in node.comparators:
            _check(comparator, names)
    elif isinstance(node, ast.IfExp):
        _check(node.test, names)
        _check(node.body, names)
        _check(node.orelse, names)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            allowed = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(f"only these functions can be called: {allowed}")
        if node.keywords:
            raise ExpressionError("functions take positional arguments only")
        for argument in node.args:
            _check(argument, names)
    else:
        raise ExpressionError(f"{type(node).__name__} is not allowed in an expression")


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed, checked expression; `evaluate(namespace)` computes it."""

    text: str
    names: frozenset[str]
    """Every (dotted) name the expression reads."""
    _tree: ast.Expression

    @classmethod
    def parse(cls, text: str | float | int | bool) -> Expression:
        """Parse `text` (a YAML scalar); raise ExpressionError saying what is wrong."""
        if isinstance(text, bool):
            text = "true" if text else "false"
        elif isinstance(text, int | float):
            text = repr(text)
        if not isinstance(text, str) or not text.strip():
            raise ExpressionError("an expression must be a non-empty string or a number")
        if len(text) > MAX_EXPRESSION_CHARS:
            raise ExpressionError(f"longer than {MAX_EXPRESSION_CHARS} characters")
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"syntax error in {text!r}: {exc.msg}") from None
        names: set[str] = set()
        _check(tree, names)
        return cls(text=text, names=frozenset(names), _tree=tree)

    def evaluate(self, namespace: Mapping[str, Value]) -> Value:
        """The value of the expression; names are looked up in `namespace` as dotted strings."""
        try:
            return _evaluate(self._tree.body, namespace)
        except ExpressionError:
            raise
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise ExpressionError(f"{self.text!r}: {exc}") from None

    def __str__(self) -> str:
        return self.text


def _evaluate(node: ast.AST, namespace: Mapping[str, Value]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name | ast.Attribute):
        dotted = _dotted_name(node)
        assert dotted is not None  # checked at parse time
        if dotted in _LITERAL_NAMES:
            return _LITERAL_NAMES[dotted]
        try:
            return namespace[dotted]
        except KeyError:
            raise ExpressionError(f"unknown name {dotted!r}") from None
    if isinstance(node, ast.BinOp):
        left = _evaluate(node.left, namespace)
        right = _evaluate(node.right, namespace)
        if isinstance(node.op, ast.Pow) and abs(float(right)) > MAX_POWER_EXPONENT:
            raise ExpressionError(f"exponent {right} is larger than {MAX_POWER_EXPONENT}")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_evaluate(node.operand, namespace))
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(bool(_evaluate(value, namespace)) for value in node.values)
        return any(bool(_evaluate(value, namespace)) for value in node.values)
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, namespace)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, namespace)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        branch = node.body if _evaluate(node.test, namespace) else node.orelse
        return _evaluate(branch, namespace)
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        arguments = [_evaluate(argument, namespace) for argument in node.args]
        return FUNCTIONS[node.func.id](*arguments)
    raise ExpressionError(f"{type(node).__name__} is not allowed in an expression")
