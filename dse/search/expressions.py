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
MAX_INTEGER_BITS = 256
"""Integers stay below 2**256 (~1e77): `((9**64)**64)**64` grows an integer by a factor
of 64 in digits per step and would hang; no quantity of a design needs more."""
MAX_STRING_CHARS = 1_000
"""Strings stay short: `'ab' * 2**40` would ask for a terabyte."""
MAX_STEPS = 10_000
"""Nodes one evaluation may visit; an expression of 500 characters needs a few hundred."""


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


class OverBudget(ExpressionError):
    """An evaluation that would exceed the step or value-size budget."""


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
        except (RecursionError, MemoryError, ValueError):
            raise ExpressionError(f"cannot parse {text!r}: nested too deeply") from None
        names: set[str] = set()
        try:
            _check(tree, names)
        except RecursionError:
            raise ExpressionError(f"cannot parse {text!r}: nested too deeply") from None
        return cls(text=text, names=frozenset(names), _tree=tree)

    def evaluate(self, namespace: Mapping[str, Value]) -> Value:
        """The value of the expression; names are looked up in `namespace` as dotted strings.

        Raises ExpressionError for anything that fails, including a result beyond the
        size budget (`MAX_INTEGER_BITS`, `MAX_STRING_CHARS`, `MAX_STEPS`), which is
        checked before the work is done, so a hostile expression fails fast.
        """
        try:
            return _Evaluation(namespace).run(self._tree.body)
        except OverBudget as exc:
            raise OverBudget(f"{self.text!r}: {exc} (refused before computing it)") from None
        except ExpressionError:
            raise
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise ExpressionError(f"{self.text!r}: {exc}") from None
        except (RecursionError, MemoryError):
            raise ExpressionError(f"{self.text!r}: too large to evaluate") from None

    def __str__(self) -> str:
        return self.text


def _bits(value: Any) -> int:
    """Bits of an integer operand (bools count as 1); 0 for anything else."""
    return abs(value).bit_length() if isinstance(value, int) else 0


def _check_binary(op: ast.operator, left: Any, right: Any) -> None:
    """Refuse an operation whose result would break the size budget, before doing it."""
    if isinstance(op, ast.Pow):
        exponent = abs(float(right)) if isinstance(right, int | float) else 0.0
        if exponent > MAX_POWER_EXPONENT:
            raise ExpressionError(f"exponent {_short(right)} is larger than {MAX_POWER_EXPONENT:g}")
        if (
            isinstance(left, int) and isinstance(right, int) and right > 0
            and _bits(left) * right > MAX_INTEGER_BITS + right
        ):
            raise OverBudget(f"result larger than 2**{MAX_INTEGER_BITS}")
    elif isinstance(op, ast.Mult):
        text, times = (left, right) if isinstance(left, str) else (right, left)
        if isinstance(text, str) and isinstance(times, int):
            if len(text) * max(times, 0) > MAX_STRING_CHARS:
                raise OverBudget(f"string longer than {MAX_STRING_CHARS} characters")
        elif (
            isinstance(left, int) and isinstance(right, int)
            and _bits(left) + _bits(right) > MAX_INTEGER_BITS + 1
        ):
            raise OverBudget(f"result larger than 2**{MAX_INTEGER_BITS}")
    elif isinstance(op, ast.Mod) and isinstance(left, str):
        # NOTE: `'%s' % x` is printf formatting (`'%999999999d' % 1` asks for a gigabyte).
        raise ExpressionError("% on a string (formatting) is not allowed")


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, int) or _bits(value) < 200 else "<huge integer>"
    return text if len(text) <= 40 else text[:37] + "..."


class _Evaluation:
    """One walk over an expression tree with a budget of steps and value sizes."""

    __slots__ = ("namespace", "steps")

    def __init__(self, namespace: Mapping[str, Value]) -> None:
        self.namespace = namespace
        self.steps = 0

    def run(self, node: ast.AST) -> Any:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise OverBudget(f"more than {MAX_STEPS} evaluation steps")
        value = self._node(node)
        if isinstance(value, complex):
            # NOTE: `(-8) ** 0.5` is a complex number in Python; no design quantity is.
            raise ExpressionError("a complex number (a fractional power of a negative number?)")
        if not isinstance(value, int | float | str):  # bool is an int
            raise ExpressionError(f"{_short(value)} is not a number or string")
        if isinstance(value, int) and _bits(value) > MAX_INTEGER_BITS:
            raise OverBudget(f"result larger than 2**{MAX_INTEGER_BITS}")
        if isinstance(value, str) and len(value) > MAX_STRING_CHARS:
            raise OverBudget(f"string longer than {MAX_STRING_CHARS} characters")
        return value

    def _node(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name | ast.Attribute):
            dotted = _dotted_name(node)
            assert dotted is not None  # checked at parse time
            if dotted in _LITERAL_NAMES:
                return _LITERAL_NAMES[dotted]
            try:
                return self.namespace[dotted]
            except KeyError:
                raise ExpressionError(f"unknown name {dotted!r}") from None
        if isinstance(node, ast.BinOp):
            left = self.run(node.left)
            right = self.run(node.right)
            _check_binary(node.op, left, right)
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](self.run(node.operand))
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                return all(bool(self.run(value)) for value in node.values)
            return any(bool(self.run(value)) for value in node.values)
        if isinstance(node, ast.Compare):
            left = self.run(node.left)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = self.run(comparator)
                if not _COMPARE[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.run(node.body if self.run(node.test) else node.orelse)
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            arguments = [self.run(argument) for argument in node.args]
            if node.func.id == "round" and len(arguments) > 1:
                # NOTE: round(x, n) with a huge n builds a huge decimal string.
                digits = arguments[1]
                if not isinstance(digits, int) or isinstance(digits, bool) or abs(digits) > 64:
                    raise ExpressionError("round(x, digits) takes digits between -64 and 64")
            return FUNCTIONS[node.func.id](*arguments)
        raise ExpressionError(f"{type(node).__name__} is not allowed in an expression")
