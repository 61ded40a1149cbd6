"""Parameter importance for the results page, from Optuna's PED-ANOVA evaluator.

The study's finished trials (the rows of `trials/`, which are the study's trials: the
search tells Optuna exactly these parameters and objective values) are told to an
in-memory Optuna study with the space file's distributions, and
`optuna.importance.get_param_importances` with `PedAnovaImportanceEvaluator` ranks the
parameters for each objective and for reaching the Pareto front. A parameter that does
not act on a trial's design is left out of that trial (a conditional parameter), so it is
ranked only over the trials where it acts.

# NOTE: the journal (`study.journal`) is not replayed: replaying a 100,000-trial journal
# takes minutes, while the Parquet rows hold the same parameters and values and are read in
# milliseconds. At most `MAX_IMPORTANCE_TRIALS` evenly spaced trials are used; PED-ANOVA is
# a closed-form quantile/KDE estimate (Watanabe et al., arXiv:2304.10255, 2601.20800), about
# 0.1 s per target on 2,000 trials on the 2-core development machine, where fANOVA's random
# forest takes seconds. Results are cached per folder state (see `importance_for`).
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import yaml

from dse.browse.pareto import FEASIBLE_SQL, inert_parameters
from dse.browse.results import Results, connect, quote_identifier, run_query

MAX_IMPORTANCE_TRIALS = 2_000
MIN_IMPORTANCE_TRIALS = 10
"""Fewer finished trials than this: no importance (PED-ANOVA's quantiles need a sample)."""


@dataclass(frozen=True, slots=True)
class Importance:
    """Normalised importances (sum 1 per target) of every parameter, per target."""

    targets: tuple[str, ...]
    """Objective names, then "front" (importance of reaching the Pareto front)."""
    parameters: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]
    """values[t][p]: importance of parameters[p] for targets[t]."""
    trials_used: int
    trials_total: int
    evaluator: str
    note: str = ""
    """Why there is no importance (too few trials, space file unreadable), else empty."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parameter_specs(results: Results) -> dict[str, Any]:
    """The space file's parameters (`dse.space.ParameterSpec`), or {} if it cannot be read."""
    from dse.space import ParameterSpec

    if not results.space_text:
        return {}
    try:
        document = yaml.safe_load(results.space_text)
        raw = document.get("parameters") or {}
        return {name: ParameterSpec.model_validate(raw[name]) for name in results.parameter_names}
    except Exception:  # a folder from an older or edited space file: no specs
        return {}


def log_parameters(results: Results) -> list[str]:
    """Parameters the space file samples on a log scale (`log: true`)."""
    return [name for name, spec in parameter_specs(results).items() if spec.log]


def _empty(results: Results, total: int, note: str) -> Importance:
    return Importance((), tuple(results.parameter_names), (), 0, total, "PedAnova", note)


def compute_importance(results: Results) -> Importance:
    """Importance of each parameter for each objective and for reaching the front."""
    import optuna
    from optuna.importance import PedAnovaImportanceEvaluator, get_param_importances
    from optuna.trial import create_trial

    from dse.search.study import distributions

    specs = parameter_specs(results)
    names = list(results.parameter_names)
    objectives = list(results.metadata.objectives)
    params = [f"param_{n}" for n in names]
    values_cols = [f"objective_{o.name}" for o in objectives]
    con = connect(results)
    try:
        selected = ", ".join(quote_identifier(c) for c in ["trial_number", *params, *values_cols])
        finite = " AND ".join(f"isfinite({quote_identifier(c)})" for c in values_cols) or "TRUE"
        rows = run_query(
            results, con,
            f"SELECT {selected} FROM trials WHERE ({FEASIBLE_SQL}) AND {finite} "
            "ORDER BY trial_number",
        ).fetchall()
    finally:
        con.close()
    total = len(rows)
    if len(specs) != len(names):
        return _empty(results, total, "the results folder's space.yaml cannot be read")
    if total < MIN_IMPORTANCE_TRIALS:
        return _empty(results, total, f"needs {MIN_IMPORTANCE_TRIALS} feasible finished trials")
    if total > MAX_IMPORTANCE_TRIALS:
        picks = np.unique(np.linspace(0, total - 1, MAX_IMPORTANCE_TRIALS).round().astype(int))
        rows = [rows[i] for i in picks]

    class _Space:  # what `distributions` reads of a SearchSpace
        parameters = specs

    dists = distributions(_Space)  # type: ignore[arg-type]
    study = optuna.create_study(directions=[o.direction for o in objectives])
    trials = []
    points = [dict(zip(names, row[1 : 1 + len(names)], strict=True)) for row in rows]
    # NOTE: a parameter that does not act on a trial's design (`ddr_channels` on an
    # HBM-route design of sram_vs_hbm) is left out of that trial, as a conditional
    # parameter Optuna never sampled: PED-ANOVA then measures it only in the regime
    # where it is present (arXiv:2601.20800, Algorithm 1; Optuna's `_partition_by_regime`).
    # Told as sampled, its value on the other route's trials rode along with that
    # route's power and cost and ranked it first for both.
    inert = inert_parameters(results, points) or [frozenset()] * len(points)
    for point, row, unused in zip(points, rows, inert, strict=True):
        if any(v is None for v in point.values()):
            continue
        acting = {n: v for n, v in point.items() if n not in unused}
        values = [float(v) for v in row[1 + len(names) :]]
        trials.append(create_trial(params=acting, distributions={n: dists[n] for n in acting},
                                   values=values))
    study.add_trials(trials)
    evaluator = PedAnovaImportanceEvaluator()
    targets: list[str] = []
    table: list[tuple[float, ...]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "quantiles select the same set": all zeros, shown
        for i, objective in enumerate(objectives):
            sign = -1.0 if objective.direction == "maximize" else 1.0  # PED-ANOVA minimises

            def target(t: Any, i: int = i, sign: float = sign) -> float:
                return float(sign * t.values[i])

            scores = get_param_importances(
                study, evaluator=evaluator, params=names, target=target, normalize=True
            )
            targets.append(objective.name)
            table.append(tuple(_finite(scores.get(n, 0.0)) for n in names))
        if len(objectives) > 1:
            scores = get_param_importances(study, evaluator=evaluator, params=names, normalize=True)
            targets.append("front")
            table.append(tuple(_finite(scores.get(n, 0.0)) for n in names))
    return Importance(
        tuple(targets), tuple(names), tuple(table), len(trials), total, "PedAnova"
    )


def _finite(value: float) -> float:
    return float(value) if math.isfinite(value) else 0.0


_CACHE: dict[tuple[str, tuple[str, ...]], Importance] = {}
_LOCK = threading.Lock()


def importance_for(results: Results) -> Importance:
    """`compute_importance`, cached per folder and set of committed parts.

    A running search commits new parts, which changes the key; a reload of a finished
    search answers from the cache.
    """
    key = (str(results.root), tuple(results.trial_files))
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    value = compute_importance(results)
    with _LOCK:
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = value
    return value


def importance_rows(importance: Importance) -> Sequence[dict[str, Any]]:
    """One row per parameter: {"parameter", <target>: importance, ...} (for tests, tools)."""
    return [
        {"parameter": p, **{t: importance.values[k][j] for k, t in enumerate(importance.targets)}}
        for j, p in enumerate(importance.parameters)
    ]
