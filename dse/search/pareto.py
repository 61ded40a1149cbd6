"""Pareto fronts and hypervolume over objective tables (numpy; moocore for the geometry).

Objectives are turned into "smaller is better" and divided by a per-objective scale so
that throughput (x reference), watts and dollars weigh alike. The scale is the absolute
value of the hypervolume reference, or, where that is 0 (throughput counted from
nothing), the best value among the reference chips: hypervolume is then in units of
"reference chip" along each axis and comparable across searches of one space.
"""

from __future__ import annotations

from collections.abc import Sequence

import moocore
import numpy as np

FloatArray = np.ndarray

REFERENCE_MARGIN = 1.1
"""Default hypervolume reference of a minimised objective: this x the worst reference chip."""


def to_minimisation(values: FloatArray, directions: Sequence[str]) -> FloatArray:
    """Negate maximised columns of an (N, M) table."""
    signs = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    return np.asarray(values, dtype=float) * signs


def pareto_mask(values: FloatArray, directions: Sequence[str]) -> np.ndarray:
    """Boolean mask of the non-dominated rows (NaN rows are never on the front)."""
    values = np.asarray(values, dtype=float)
    mask = np.zeros(len(values), dtype=bool)
    finite = np.all(np.isfinite(values), axis=1) if values.size else mask
    if not finite.any():
        return mask
    # NOTE: keep_weakly: a repeated design (NSGA-II re-proposes parameter sets) has the
    # same objective values as its first trial; both are non-dominated, so both stay.
    mask[np.flatnonzero(finite)] = moocore.is_nondominated(
        to_minimisation(values[finite], directions), keep_weakly=True
    )
    return mask


def normalised(
    values: FloatArray,
    directions: Sequence[str],
    reference: Sequence[float],
    scale: Sequence[float] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Minimisation form divided by `scale` (default: |reference|, 1 where that is 0)."""
    minimised = to_minimisation(values, directions)
    ref = to_minimisation(np.asarray([reference], dtype=float), directions)[0]
    given = np.abs(ref) if scale is None else np.abs(np.asarray(scale, dtype=float))
    divisor = np.where(given > 0, given, 1.0)
    return minimised / divisor, ref / divisor


def default_scale(
    values: FloatArray, directions: Sequence[str], reference: Sequence[float]
) -> list[float]:
    """|reference| per objective, or the best reference-chip value where the reference is 0."""
    values = np.asarray(values, dtype=float)
    scale: list[float] = []
    for j, (direction, ref) in enumerate(zip(directions, reference, strict=True)):
        if ref != 0:
            scale.append(abs(float(ref)))
            continue
        column = values[:, j] if values.size else np.array([])
        column = np.abs(column[np.isfinite(column)])
        best = (column.max() if direction == "maximize" else column.min()) if column.size else 0
        scale.append(float(best) if best > 0 else 1.0)
    return scale


def hypervolume(
    values: FloatArray,
    directions: Sequence[str],
    reference: Sequence[float],
    scale: Sequence[float] | None = None,
) -> float:
    """Hypervolume dominated by `values` up to `reference`, in scaled units.

    Rows that do not strictly dominate the reference point contribute nothing.
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return 0.0
    values = values[np.all(np.isfinite(values), axis=1)]
    points, ref = normalised(values, directions, reference, scale)
    points = points[np.all(points < ref, axis=1)]
    if len(points) == 0:
        return 0.0
    return float(moocore.hypervolume(points, ref=ref))


def default_reference(
    values: FloatArray, directions: Sequence[str], given: Sequence[float | None]
) -> list[float]:
    """Hypervolume reference point: the file's value where given, else from `values`.

    # NOTE: without a given value, a maximised objective counts from 0 (no throughput)
    # and a minimised one from 10 % beyond the worst reference chip: the volume measures
    # designs in the neighbourhood of real chips. A looser point (2x was tried on
    # sram_vs_hbm) lets the cost axis, which varies by ~10 %, add a near-constant factor,
    # and random search then scored within 1 % of the dense front: no discrimination.
    # The point is fixed at search start, so hypervolume is comparable across progress.
    """
    values = np.asarray(values, dtype=float)
    reference: list[float] = []
    for j, (direction, fixed) in enumerate(zip(directions, given, strict=True)):
        if fixed is not None:
            reference.append(float(fixed))
            continue
        column = values[:, j] if values.size else np.array([])
        column = column[np.isfinite(column)]
        if direction == "maximize":
            reference.append(0.0)
        else:
            reference.append(float(REFERENCE_MARGIN * column.max()) if column.size else 1.0)
    return reference
