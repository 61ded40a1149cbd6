"""Fit splits: stated, stable, and the same row lands on the same side in any file."""

from __future__ import annotations

import pytest

from dse.errors import ConfigError
from dse.validation.kernels import kernel_cases
from dse.validation.splits import STANDARD_SPLIT, FitSplit, parse_fit_split


def test_split_texts_round_trip() -> None:
    assert parse_fit_split("standard") == STANDARD_SPLIT
    assert parse_fit_split("all") == FitSplit("all")
    split = parse_fit_split("random:0.25:7")
    assert split == FitSplit("random", 0.25, 7)
    assert parse_fit_split(str(split)) == split
    assert parse_fit_split("random:0.5") == FitSplit("random", 0.5, 0)


@pytest.mark.parametrize("text", ["", "random", "random:1.5", "random:0", "random:x:1",
                                  "half", "random:0.3:1:2"])
def test_bad_split_texts_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_fit_split(text)
    assert "random:FRACTION[:SEED]" in str(info.value)


def test_standard_split_is_the_shipped_rule_and_all_holds_nothing_out() -> None:
    standard = kernel_cases()
    assert sum(c.held_out for c in standard) == 58  # 37 gemm, 11 attention, 4 memory, 6 host
    assert not any(c.held_out for c in kernel_cases(split=FitSplit("all")))


def test_random_split_holds_out_about_its_fraction_and_is_stable() -> None:
    split = FitSplit("random", 0.3, 1)
    first = [c.held_out for c in kernel_cases(split=split)]
    assert first == [c.held_out for c in kernel_cases(split=split)]
    assert 0.2 < sum(first) / len(first) < 0.4  # 134 rows, fraction 0.3
    other_seed = [c.held_out for c in kernel_cases(split=FitSplit("random", 0.3, 2))]
    assert other_seed != first
