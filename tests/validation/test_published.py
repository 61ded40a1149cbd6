"""Predictions against published training and inference results (issue 3 acceptance)."""

from __future__ import annotations

import pytest

from dse.validation.published import (
    CASES,
    CHIP_PRESETS,
    EXCLUDED,
    TARGET_MEDIAN_ABS_ERROR,
    compare_all,
    published_rows,
    summarise,
)


@pytest.fixture(scope="module")
def comparisons():  # type: ignore[no-untyped-def]
    return compare_all()


def test_every_case_is_a_row_of_the_published_csv() -> None:
    rows = published_rows()
    for case in CASES:
        assert case.row_id in rows
        assert rows[case.row_id]["chip"] in CHIP_PRESETS
    assert not {c.row_id for c in CASES} & set(EXCLUDED)


def test_at_least_30_rows_spanning_five_chips(comparisons) -> None:  # type: ignore[no-untyped-def]
    summary = summarise(comparisons)
    assert summary.rows >= 30
    assert set(summary.chips) == set(CHIP_PRESETS.values())


def test_median_error_within_target(comparisons) -> None:  # type: ignore[no-untyped-def]
    summary = summarise(comparisons)
    assert summary.median_abs_error <= TARGET_MEDIAN_ABS_ERROR


def test_megatron_scaling_rows_within_20_percent(comparisons) -> None:  # type: ignore[no-untyped-def]
    """The Megatron A100 rows restate their plans exactly; the model must track them."""
    megatron = [c for c in comparisons if c.quantity.startswith("megatron")]
    assert len(megatron) >= 14
    assert all(abs(c.error) < 0.20 for c in megatron), [
        (c.row_id, round(c.error, 3)) for c in megatron if abs(c.error) >= 0.20]


def test_board_power_rows_within_15_percent(comparisons) -> None:  # type: ignore[no-untyped-def]
    power = [c for c in comparisons if c.quantity == "power_w"]
    assert power and all(abs(c.error) < 0.15 for c in power)


def test_errors_are_signed_relative(comparisons) -> None:  # type: ignore[no-untyped-def]
    c = comparisons[0]
    assert c.error == pytest.approx(c.predicted / c.published - 1)
    assert c.ratio >= 1.0
