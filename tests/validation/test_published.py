"""Predictions against published training and inference results (issue 3 acceptance)."""

from __future__ import annotations

import pytest

from dse.validation.published import (
    CASES,
    CHIP_PRESETS,
    EXCLUDED,
    FIT_PRESETS,
    TARGET_MEDIAN_ABS_ERROR,
    case_role,
    case_serving,
    compare_all,
    fit_serving_overheads,
    group_summaries,
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


def test_serving_constants_are_the_nvidia_only_fit() -> None:
    """evaluators/serving.py holds what fit_serving_overheads() finds (re-run and copy
    them when the core changes)."""
    from evaluators.serving import SERVING_OVERHEADS

    fits = fit_serving_overheads()
    assert set(fits) == {"vllm-2024", "tensorrt-llm-2024", "tensorrt-llm-2025"}
    for family, fit in fits.items():
        constant = SERVING_OVERHEADS[family]
        assert constant.per_step_s == pytest.approx(fit.overhead.per_step_s, rel=0.02,
                                                    abs=2e-6), family
        assert constant.per_sequence_s == pytest.approx(fit.overhead.per_sequence_s,
                                                        rel=0.02, abs=2e-7), family
        for row_id in fit.rows:
            assert CHIP_PRESETS[published_rows()[row_id]["chip"]] in FIT_PRESETS
    assert SERVING_OVERHEADS["deepspeed"].per_step_s == 0.0  # no NVIDIA row to fit on


def test_fit_rows_are_nvidia_serving_rows_only() -> None:
    for case in CASES:
        preset = CHIP_PRESETS[published_rows()[case.row_id]["chip"]]
        if case_role(case) == "fit":
            assert preset in FIT_PRESETS and case_serving(case)
            assert case.quantity == "output_tokens_per_s_per_chip"
        if preset not in FIT_PRESETS:
            assert case_role(case) == "held-out"
    assert case_serving(next(c for c in CASES if c.row_id == "M091")) == "vllm-rocm-2024"
    assert case_serving(next(c for c in CASES if c.row_id == "M087")) == "vllm-2024"
    assert case_serving(next(c for c in CASES if c.row_id == "M074")) == "tensorrt-llm-2025"
    assert case_serving(next(c for c in CASES if c.row_id == "M093")) == "deepspeed"


def test_held_out_serving_rows_are_reported_apart(comparisons) -> None:  # type: ignore[no-untyped-def]
    groups = group_summaries(comparisons)
    held_out = groups["held-out serving (non-NVIDIA)"]
    assert held_out.rows == 8  # four MI300X vLLM rows, four Gaudi2 DeepSpeed rows
    assert groups["fit (serving overhead, NVIDIA)"].rows >= 10
    assert held_out.median_abs_error < 0.35
    # the fitted vLLM overhead brings MI300X at batch 1 within 20 %, from +196 % ideal
    m091 = next(c for c in comparisons if c.row_id == "M091")
    assert abs(m091.error) < 0.20
