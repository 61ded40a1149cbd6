from __future__ import annotations

import numpy as np
import pytest

from dse.search.pareto import default_reference, default_scale, hypervolume, pareto_mask

DIRECTIONS = ["maximize", "minimize"]


def test_pareto_mask_respects_directions_and_skips_nan() -> None:
    values = np.array([[2.0, 100.0], [1.0, 50.0], [1.0, 120.0], [np.nan, 1.0], [2.0, 100.0]])
    assert pareto_mask(values, DIRECTIONS).tolist() == [True, True, False, False, True]


def test_hypervolume_of_known_rectangles() -> None:
    # maximise x from 0, minimise y up to 200; scale 2 (x) and 200 (y)
    values = np.array([[2.0, 100.0], [1.0, 50.0]])
    hv = hypervolume(values, DIRECTIONS, reference=[0.0, 200.0], scale=[2.0, 200.0])
    # union of [0,1]x[0.5,1] and [0,0.5]x[0.25,1] in scaled units = 0.5 + 0.5*0.25
    assert hv == pytest.approx(0.5 + 0.125)
    # a point beyond the reference adds nothing
    more = np.vstack([values, [[3.0, 250.0]]])
    assert hypervolume(more, DIRECTIONS, [0.0, 200.0], [2.0, 200.0]) == pytest.approx(hv)
    assert hypervolume(np.empty((0, 2)), DIRECTIONS, [0.0, 200.0]) == 0.0


def test_default_reference_and_scale_come_from_the_reference_chips() -> None:
    chips = np.array([[1.0, 400.0], [2.26, 700.0]])
    reference = default_reference(chips, DIRECTIONS, [None, None])
    assert reference == [0.0, pytest.approx(770.0)]
    assert default_reference(chips, DIRECTIONS, [0.5, None]) == [0.5, pytest.approx(770.0)]
    assert default_scale(chips, DIRECTIONS, reference) == [2.26, pytest.approx(770.0)]
