from __future__ import annotations

import math

import pytest

from dse.search.expressions import Expression, ExpressionError


def value(text: str, **names: object) -> object:
    return Expression.parse(text).evaluate(names)  # type: ignore[arg-type]


def test_arithmetic_follows_python_precedence() -> None:
    assert value("1 + 2 * 3 ** 2") == 19
    assert value("-(7 // 2) + 7 % 4") == 0
    assert value("10 / 4") == 2.5


def test_names_dotted_names_and_functions() -> None:
    expr = Expression.parse("floor((budget - sram * mm2) / base.compute.unit_mm2)")
    assert expr.names == {"budget", "sram", "mm2", "base.compute.unit_mm2"}
    got = expr.evaluate({"budget": 814.0, "sram": 100.0, "mm2": 0.256,
                         "base.compute.unit_mm2": 5.358})
    assert got == math.floor((814 - 25.6) / 5.358) == 147
    assert value("clip(x, 0, 10)", x=12) == 10
    assert value("max(1, 2, 3) + min(4, 5)") == 7
    assert value("log2(1024)") == 10


def test_conditionals_strings_and_booleans() -> None:
    assert value("'scratchpad' if route == 'ddr' else 'cache'", route="ddr") == "scratchpad"
    assert value("x > 2 and not y", x=3, y=False) is True
    assert value("1 < x <= 3", x=3) is True
    assert value("1 < x <= 3", x=4) is False
    assert value("true") is True


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "x.__class__",  # parsed as the dotted name `x.__class__`, then unknown
        "(1).real",
        "[1, 2][0]",
        "lambda: 1",
        "open('f')",
        "x[0]",
        "{'a': 1}",
        "f'{x}'",
    ],
)
def test_refuses_everything_outside_the_whitelist(text: str) -> None:
    with pytest.raises(ExpressionError):
        Expression.parse(text).evaluate({"x": 1})


def test_huge_powers_and_unknown_names_fail_cleanly() -> None:
    with pytest.raises(ExpressionError, match="exponent"):
        value("2 ** 2 ** 100")
    with pytest.raises(ExpressionError, match="unknown name 'nope'"):
        value("nope + 1")
    with pytest.raises(ExpressionError, match="division by zero"):
        value("1 / x", x=0)
    with pytest.raises(ExpressionError, match="syntax"):
        Expression.parse("1 +")


def test_numbers_and_booleans_from_yaml_are_expressions() -> None:
    assert Expression.parse(16).evaluate({}) == 16
    assert Expression.parse(0.5).evaluate({}) == 0.5
    assert Expression.parse(True).evaluate({}) is True
