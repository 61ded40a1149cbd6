"""An asynchronous NSGA-II sampler that proposes thousands of points at once (numpy).

`AsyncNSGA2Sampler` is an Optuna `BaseSampler` (it works with plain `study.ask` and
`study.optimize`), and it also has a batch interface for the search driver:

    unit = sampler.propose(count)                  # (count, d) points of the unit cube
    columns = sampler.codec.decode(unit)           # parameter name -> external values
    sampler.tell_batch(unit, minimised, violation) # what the workers found

It is a steady-state ("asynchronous") NSGA-II: instead of one generation asked and told
at a time, it keeps an archive of the best `population_size` points told so far,
ranked by constrained Pareto dominance and crowding distance, and breeds every new
point from that archive (binary tournament, SBX crossover and uniform crossover,
polynomial or uniform-reset mutation). New results join the archive as they arrive,
whatever was proposed before them, so any number of points can be in flight.

# NOTE: why steady state: a generational sampler cannot have more points in flight than
# one generation (the driver must tell a whole generation before asking the next), so a
# 64-CPU cluster with a population of 40 waits on the slowest design of every
# generation; a steady-state archive breeds from whatever has been told (the
# "asynchronous" evolutionary algorithms of Durillo et al. and of DEAP/pymoo's steady
# state mode). Measured quality against generational NSGA-II: docs/search.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import moocore
import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.samplers import BaseSampler, RandomSampler
from optuna.search_space import IntersectionSearchSpace
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

FloatArray = np.ndarray

DEDUPLICATION_LIMIT = 4_000_000
"""Distinct points remembered to avoid proposing a point twice (about 60 B each)."""


class ParameterCodec:
    """Parameters <-> points of the unit cube [0, 1)^d, vectorised over points.

    A discrete dimension (int, stepped float, categorical) with L values maps value k to
    the middle of the k-th of L equal cells; a continuous float maps linearly (or in
    log space). `decode(encode(x)) == x` for every value the distribution allows.
    """

    def __init__(self, distributions: Mapping[str, BaseDistribution]) -> None:
        self.distributions = dict(distributions)
        self.names = list(distributions)
        self.levels = np.zeros(len(self.names), dtype=np.int64)
        """Number of values of a discrete dimension; 0 for a continuous one."""
        self.categorical = np.zeros(len(self.names), dtype=bool)
        for j, dist in enumerate(self.distributions.values()):
            if isinstance(dist, CategoricalDistribution):
                self.levels[j] = len(dist.choices)
                self.categorical[j] = True
            elif isinstance(dist, IntDistribution) and not dist.log:
                self.levels[j] = (dist.high - dist.low) // dist.step + 1
            elif isinstance(dist, FloatDistribution) and dist.step is not None:
                self.levels[j] = round((dist.high - dist.low) / dist.step) + 1
            elif not isinstance(dist, IntDistribution | FloatDistribution):
                raise TypeError(f"{self.names[j]}: unsupported distribution {dist!r}")

    @property
    def dimensions(self) -> int:
        return len(self.names)

    def _log_bounds(self, dist: IntDistribution | FloatDistribution) -> tuple[float, float]:
        if isinstance(dist, IntDistribution):  # log int: cells around each integer
            return math.log(dist.low - 0.5 if dist.low > 0.5 else dist.low), math.log(
                dist.high + 0.5
            )
        return math.log(dist.low), math.log(dist.high)

    def snap(self, unit: FloatArray) -> FloatArray:
        """The same points moved to the representation of the values they decode to
        (`encode(decode(unit))`, vectorised: the middle of a discrete value's cell)."""
        unit = np.clip(np.asarray(unit, dtype=float), 0.0, np.nextafter(1.0, 0.0))
        discrete = self.levels > 0
        if discrete.any():
            levels = self.levels[discrete]
            cells = np.minimum(np.floor(unit[:, discrete] * levels), levels - 1)
            unit[:, discrete] = (cells + 0.5) / levels
        for j, dist in enumerate(self.distributions.values()):
            if isinstance(dist, IntDistribution) and dist.log:
                name = self.names[j]
                column = self.decode(unit)[name]
                unit[:, j] = ParameterCodec({name: dist}).encode({name: column})[:, 0]
        return unit

    def _arrays(self, unit: FloatArray) -> list[np.ndarray]:
        """Per dimension: the choice index (categorical) or the value (numeric)."""
        unit = np.clip(np.asarray(unit, dtype=float), 0.0, np.nextafter(1.0, 0.0))
        arrays: list[np.ndarray] = []
        for j, dist in enumerate(self.distributions.values()):
            u = unit[:, j]
            if isinstance(dist, CategoricalDistribution):
                arrays.append(np.minimum((u * len(dist.choices)).astype(np.int64),
                                         len(dist.choices) - 1))
            elif isinstance(dist, IntDistribution):
                if dist.log:
                    low, high = self._log_bounds(dist)
                    values = np.rint(np.exp(low + u * (high - low))).astype(np.int64)
                    arrays.append(np.clip(values, dist.low, dist.high))
                else:
                    index = np.minimum((u * self.levels[j]).astype(np.int64), self.levels[j] - 1)
                    arrays.append(dist.low + index * dist.step)
            else:
                assert isinstance(dist, FloatDistribution)
                if dist.step is not None:
                    index = np.minimum((u * self.levels[j]).astype(np.int64), self.levels[j] - 1)
                    arrays.append(np.minimum(dist.low + index * dist.step, dist.high))
                elif dist.log:
                    low, high = self._log_bounds(dist)
                    arrays.append(np.clip(np.exp(low + u * (high - low)), dist.low, dist.high))
                else:
                    arrays.append(np.clip(dist.low + u * (dist.high - dist.low), dist.low,
                                          dist.high))
        return arrays

    def decode(self, unit: FloatArray) -> dict[str, list[Any]]:
        """(n, d) unit points -> {name: n external values} (Python scalars)."""
        columns: dict[str, list[Any]] = {}
        for (name, dist), array in zip(self.distributions.items(), self._arrays(unit),
                                       strict=True):
            if isinstance(dist, CategoricalDistribution):
                columns[name] = [dist.choices[k] for k in array.tolist()]
            else:
                columns[name] = array.tolist()
        return columns

    def internal_from_unit(self, unit: FloatArray) -> dict[str, list[float]]:
        """Optuna's internal representation of the values `unit` decodes to."""
        return {
            name: (array.tolist() if isinstance(dist, CategoricalDistribution)
                   else array.astype(float).tolist())
            for (name, dist), array in zip(self.distributions.items(), self._arrays(unit),
                                           strict=True)
        }

    def encode(self, columns: Mapping[str, Sequence[Any]]) -> FloatArray:
        """{name: n external values} -> (n, d) unit points (inverse of `decode`)."""
        count = len(next(iter(columns.values()))) if columns else 0
        unit = np.empty((count, self.dimensions))
        for j, (name, dist) in enumerate(self.distributions.items()):
            values = columns[name]
            if isinstance(dist, CategoricalDistribution):
                lookup = {_choice_key(c): k for k, c in enumerate(dist.choices)}
                index = np.array([lookup[_choice_key(v)] for v in values], dtype=float)
                unit[:, j] = (index + 0.5) / len(dist.choices)
                continue
            assert isinstance(dist, IntDistribution | FloatDistribution)
            x = np.asarray(values, dtype=float)
            if isinstance(dist, IntDistribution) and dist.log:
                low, high = self._log_bounds(dist)
                unit[:, j] = (np.log(x) - low) / (high - low)
            elif self.levels[j]:
                step = dist.step if dist.step is not None else 1
                index = np.rint((x - dist.low) / step)
                unit[:, j] = (index + 0.5) / self.levels[j]
            elif isinstance(dist, FloatDistribution) and dist.log:
                low, high = self._log_bounds(dist)
                unit[:, j] = (np.log(x) - low) / (high - low)
            else:
                unit[:, j] = (x - dist.low) / (dist.high - dist.low)
        return np.clip(unit, 0.0, np.nextafter(1.0, 0.0))

    def internal(self, columns: Mapping[str, Sequence[Any]]) -> dict[str, list[float]]:
        """Optuna's internal representation of each value (what its storage records)."""
        result: dict[str, list[float]] = {}
        for name, dist in self.distributions.items():
            if isinstance(dist, CategoricalDistribution):
                lookup = {_choice_key(c): k for k, c in enumerate(dist.choices)}
                result[name] = [lookup[_choice_key(v)] for v in columns[name]]
            else:
                result[name] = [float(v) for v in columns[name]]
        return result


def _choice_key(value: Any) -> tuple[str, Any]:
    """A categorical choice as read back from Parquet (4 may come back as 4.0, True as
    numpy.bool_) keyed like the choice it is."""
    if isinstance(value, bool | np.bool_):
        return ("bool", bool(value))
    if isinstance(value, int | float | np.integer | np.floating):
        return ("number", float(value))
    return ("text", str(value))


def constrained_order(
    minimised: FloatArray, violation: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """NSGA-II rank and crowding distance of each row, with constrained dominance.

    Feasible rows (violation <= 0, finite objectives) come first, ranked by Pareto
    front (0 best); infeasible rows follow, ranked by their total violation. Crowding
    distance (larger = more isolated) is computed within each feasible front.
    """
    n = len(minimised)
    rank = np.zeros(n, dtype=float)
    crowding = np.zeros(n, dtype=float)
    feasible = (violation <= 0) & np.all(np.isfinite(minimised), axis=1)
    index = np.flatnonzero(feasible)
    worst = 0
    if index.size:
        front_rank = moocore.pareto_rank(minimised[index])
        rank[index] = front_rank
        worst = int(front_rank.max()) + 1
        for r in range(worst):
            members = index[front_rank == r]
            crowding[members] = _crowding(minimised[members])
    others = np.flatnonzero(~feasible)
    if others.size:
        order = np.argsort(violation[others], kind="stable")
        rank[others[order]] = worst + np.arange(others.size)
    return rank, crowding


def _crowding(values: FloatArray) -> FloatArray:
    n, m = values.shape
    if n <= 2:
        return np.full(n, np.inf)
    distance = np.zeros(n)
    for k in range(m):
        order = np.argsort(values[:, k], kind="stable")
        column = values[order, k]
        span = column[-1] - column[0]
        distance[order[0]] = distance[order[-1]] = np.inf
        if span > 0:
            distance[order[1:-1]] += (column[2:] - column[:-2]) / span
    return distance


class AsyncNSGA2Sampler(BaseSampler):
    """Steady-state NSGA-II over an archive of `population_size` points; see the module.

    `search_space`: the distributions of every parameter (the driver passes the space
    file's); without it, the intersection of the study's finished trials is used, and
    parameters outside it are sampled at random, as Optuna's NSGA-II does.
    """

    def __init__(
        self,
        search_space: Mapping[str, BaseDistribution] | None = None,
        *,
        directions: Sequence[str] | None = None,
        population_size: int = 64,
        startup_trials: int | None = None,
        crossover_prob: float = 0.9,
        mutation_prob: float | None = None,
        seed: int | None = None,
    ) -> None:
        if population_size < 2:
            raise ValueError("population_size must be at least 2")
        self.population_size = int(population_size)
        self.startup_trials = (
            self.population_size if startup_trials is None else int(startup_trials)
        )
        self.crossover_prob = float(crossover_prob)
        self.mutation_prob = mutation_prob
        self._rng = np.random.default_rng(seed)
        self._random = RandomSampler(seed=seed)
        self._fixed_space = dict(search_space) if search_space is not None else None
        self._intersection = IntersectionSearchSpace()
        self.codec = ParameterCodec(self._fixed_space or {})
        self._signs: FloatArray | None = (
            None if directions is None else _signs(directions)
        )
        self.told = 0
        self._archive_unit = np.empty((0, self.codec.dimensions))
        self._archive_minimised = np.empty((0, 0))
        self._archive_violation = np.empty(0)
        self._rank = np.empty(0)
        self._crowding = np.empty(0)
        self._pending: list[tuple[FloatArray, FloatArray, FloatArray]] = []
        self._seen: set[int] = set()
        self._key_weights = np.random.default_rng(20261202).integers(
            1, 2**62, size=self.codec.dimensions, dtype=np.int64) | 1
        self._synced_numbers: set[int] = set()
        self._open_numbers: set[int] = set()
        self._watermark = 0

    # -- the batch interface ---------------------------------------------------------

    def tell_batch(self, unit: FloatArray, minimised: FloatArray, violation: FloatArray) -> None:
        """Results of proposed points: objectives turned to minimisation (NaN: unknown)
        and the summed positive constraint violation (0 feasible; inf for a failure)."""
        unit = np.asarray(unit, dtype=float).reshape(-1, self.codec.dimensions)
        if not len(unit):
            return
        minimised = np.asarray(minimised, dtype=float).reshape(len(unit), -1)
        violation = np.where(np.isnan(violation), np.inf, np.asarray(violation, dtype=float))
        self._pending.append((unit, minimised, violation))
        self.told += len(unit)

    def propose(self, count: int) -> FloatArray:
        """`count` new points of the unit cube (decode with `self.codec`)."""
        self._merge_pending()
        d = self.codec.dimensions
        if count <= 0 or d == 0:
            return np.empty((max(count, 0), d))
        if len(self._archive_unit) < min(self.startup_trials, self.population_size) or (
            self.told < self.startup_trials
        ):
            children = self._latin_hypercube(count)
        else:
            children = self._breed(count)
        children = self.codec.snap(children)
        return self._deduplicate(children)

    def in_flight_limit(self, cluster_limit: int) -> int:
        """Points worth having in flight now: `cluster_limit` (what keeps the workers
        fed), ramped up from two populations by twice the results told so far.

        # NOTE: a point proposed before any result is told is a random point, so a search
        # that starts with a cluster's worth in flight spends that much budget on random
        # search. On sram_vs_hbm, population 32, chunks of 16, 3 seeds, share of the
        # dense front's hypervolume at 250/500/1,000/2,000 trials: 1,024 in flight from
        # the start 0.942/0.964/0.979/0.994 (random search: 0.942/0.959/0.973/0.987);
        # with this ramp 0.949/0.974/0.984/0.993; NSGA-II with one generation of 32 in
        # flight 0.959/0.984/0.989/0.991. The ramp reaches a cluster's width after about
        # cluster_limit / 2 results told.
        """
        return max(1, min(cluster_limit, 2 * self.population_size + 2 * self.told))

    def _latin_hypercube(self, count: int) -> FloatArray:
        d = self.codec.dimensions
        strata = np.argsort(self._rng.random((d, count)), axis=1).T
        return (strata + self._rng.random((count, d))) / count

    def _tournament(self, count: int) -> np.ndarray:
        size = len(self._archive_unit)
        a = self._rng.integers(0, size, count)
        b = self._rng.integers(0, size, count)
        a_wins = (self._rank[a] < self._rank[b]) | (
            (self._rank[a] == self._rank[b]) & (self._crowding[a] >= self._crowding[b])
        )
        return np.where(a_wins, a, b)

    def _breed(self, count: int) -> FloatArray:
        d = self.codec.dimensions
        first = self._archive_unit[self._tournament(count)]
        second = self._archive_unit[self._tournament(count)]
        child = first.copy()
        cross = self._rng.random(count) < self.crossover_prob
        numeric = ~self.codec.categorical
        # SBX (simulated binary crossover, eta 15) on numeric dimensions, each taken
        # with probability 0.5; uniform crossover on categorical ones.
        eta_c = 15.0
        u = self._rng.random((count, d))
        beta = np.where(
            u <= 0.5, (2 * u) ** (1 / (eta_c + 1)), (1 / (2 * (1 - u))) ** (1 / (eta_c + 1))
        )
        sbx = 0.5 * ((1 + beta) * first + (1 - beta) * second)
        sbx_other = 0.5 * ((1 - beta) * first + (1 + beta) * second)
        sbx = np.where(self._rng.random((count, d)) < 0.5, sbx, sbx_other)
        take = cross[:, None] & (self._rng.random((count, d)) < 0.5)
        child = np.where(take & numeric, sbx, child)
        child = np.where(take & ~numeric, second, child)
        # mutation: each dimension with probability 1/d; half of the mutations are
        # polynomial (eta 20, a local step), half a uniform reset of the dimension.
        # NOTE: a local step alone rarely leaves the cell of a discrete dimension with
        # few values (1-8 HBM stacks), and a reset alone (Optuna's NSGA-II) cannot
        # refine a continuous one; half and half does both.
        probability = self.mutation_prob if self.mutation_prob is not None else 1.0 / d
        mutate = self._rng.random((count, d)) < probability
        reset = mutate & ((self._rng.random((count, d)) < 0.5) | ~numeric)
        local = mutate & ~reset
        eta_m = 20.0
        r = self._rng.random((count, d))
        delta = np.where(
            r < 0.5,
            (2 * r) ** (1 / (eta_m + 1)) - 1,
            1 - (2 * (1 - r)) ** (1 / (eta_m + 1)),
        )
        child = np.where(local, child + delta, child)
        child = np.where(reset, self._rng.random((count, d)), child)
        return np.clip(child, 0.0, np.nextafter(1.0, 0.0))

    def _keys(self, unit: FloatArray) -> list[int]:
        """A 64-bit key per point (a random linear hash of its 2^-24 grid cell)."""
        cells = np.rint(np.asarray(unit, dtype=float) * 2.0**24).astype(np.int64)
        with np.errstate(over="ignore"):
            return (cells * self._key_weights).sum(axis=1).tolist()

    def _deduplicate(self, unit: FloatArray) -> FloatArray:
        """Re-draw (up to 3 times, one dimension reset each time) points already proposed."""
        for _attempt in range(4):
            keys = self._keys(unit)
            repeated = []
            batch: set[int] = set()
            for i, key in enumerate(keys):
                if key in self._seen or key in batch:
                    repeated.append(i)
                batch.add(key)
            if not repeated or _attempt == 3:
                break
            rows = np.asarray(repeated)
            dims = self._rng.integers(0, self.codec.dimensions, len(rows))
            unit[rows, dims] = self._rng.random(len(rows))
            unit[rows] = self.codec.snap(unit[rows])
        if len(self._seen) < DEDUPLICATION_LIMIT:
            self._seen.update(self._keys(unit))
        return unit

    def remember(self, unit: FloatArray) -> None:
        """Points proposed elsewhere (a resumed search's committed trials)."""
        if len(self._seen) < DEDUPLICATION_LIMIT:
            self._seen.update(self._keys(np.asarray(unit, dtype=float)))

    def _merge_pending(self) -> None:
        if not self._pending:
            return
        units = [self._archive_unit, *(p[0] for p in self._pending)]
        values = [p[1] for p in self._pending]
        if self._archive_minimised.size:
            values.insert(0, self._archive_minimised)
        violations = [self._archive_violation, *(p[2] for p in self._pending)]
        self._pending = []
        unit = np.concatenate(units)
        minimised = np.concatenate(values)
        violation = np.concatenate(violations)
        rank, crowding = constrained_order(minimised, violation)
        if len(unit) > self.population_size:
            # NSGA-II survival: by front, the last front cut by crowding distance; the
            # survivors keep the rank and crowding of the merged set for the tournaments
            # (as NSGA-II's next generation does)
            keep = np.lexsort((-crowding, rank))[: self.population_size]
            unit, minimised, violation = unit[keep], minimised[keep], violation[keep]
            rank, crowding = rank[keep], crowding[keep]
        self._archive_unit, self._archive_minimised = unit, minimised
        self._archive_violation, self._rank, self._crowding = violation, rank, crowding

    @property
    def archive_size(self) -> int:
        self._merge_pending()
        return len(self._archive_unit)

    # -- the Optuna sampler interface ------------------------------------------------

    def reseed_rng(self) -> None:
        self._rng = np.random.default_rng()
        self._random.reseed_rng()

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        if self._fixed_space is not None:
            return dict(self._fixed_space)
        space = {
            name: dist
            for name, dist in self._intersection.calculate(study).items()
            if not dist.single()
        }
        if space != self.codec.distributions:
            self._reset(space)
        return space

    def _reset(self, space: Mapping[str, BaseDistribution]) -> None:
        self.codec = ParameterCodec(space)
        self._archive_unit = np.empty((0, self.codec.dimensions))
        self._archive_minimised = np.empty((0, 0))
        self._archive_violation = np.empty(0)
        self._pending, self._synced_numbers, self.told = [], set(), 0
        self._open_numbers, self._watermark = set(), 0
        self._key_weights = np.random.default_rng(20261202).integers(
            1, 2**62, size=self.codec.dimensions, dtype=np.int64) | 1

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space:
            return {}
        self._sync(study)
        columns = self.codec.decode(self.propose(1))
        return {name: values[0] for name, values in columns.items() if name in search_space}

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        """A trial told in this process is learnt at once (others by `_sync`)."""
        if state in (TrialState.COMPLETE, TrialState.FAIL) and trial.number not in (
            self._synced_numbers
        ):
            self._learn(study, [trial], [values if state == TrialState.COMPLETE else None])

    def _sync(self, study: Study) -> None:
        """Learn the study's finished trials not seen yet (plain Optuna use).

        Looks only at trials created since the last call and at those still unfinished
        then, so an ask costs in proportion to the trials in flight, not the study."""
        trials = study.get_trials(deepcopy=False)
        candidates = [trials[n] for n in sorted(self._open_numbers) if n < len(trials)]
        candidates += trials[self._watermark :]
        self._watermark = len(trials)
        new = []
        for t in candidates:
            if t.number in self._synced_numbers:
                self._open_numbers.discard(t.number)
            elif t.state in (TrialState.COMPLETE, TrialState.FAIL):
                new.append(t)
                self._open_numbers.discard(t.number)
            else:
                self._open_numbers.add(t.number)
        if new:
            self._learn(study, new, [t.values if t.state == TrialState.COMPLETE else None
                                     for t in new])

    def _learn(self, study: Study, trials: Sequence[FrozenTrial],
               values: Sequence[Sequence[float] | None]) -> None:
        if self._signs is None:
            self._signs = np.array(
                [-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in study.directions]
            )
        names = self.codec.names
        usable = [i for i, t in enumerate(trials) if all(n in t.params for n in names)]
        self._synced_numbers.update(t.number for t in trials)
        if not usable or not names:
            return
        picked = [trials[i] for i in usable]
        unit = self.codec.encode({n: [t.params[n] for t in picked] for n in names})
        minimised = np.array(
            [values[i] if values[i] else [math.nan] * len(self._signs) for i in usable],
            dtype=float,
        ) * self._signs
        violation = np.array(
            [
                sum(max(0.0, v) for v in trials[i].constraints.values())
                if values[i] else math.inf
                for i in usable
            ]
        )
        self.tell_batch(unit, minimised, violation)
        self.remember(unit)


def _signs(directions: Sequence[str]) -> FloatArray:
    return np.array([-1.0 if str(d).lower() == "maximize" else 1.0 for d in directions])


def minimised_objectives(values: FloatArray, directions: Sequence[str]) -> FloatArray:
    """(n, m) objective values with maximised columns negated (NaN kept)."""
    return np.asarray(values, dtype=float) * _signs(directions)


def total_violation(constraints: FloatArray) -> FloatArray:
    """Summed positive relative violations per row; NaN (unbuildable) counts as inf."""
    constraints = np.asarray(constraints, dtype=float)
    if constraints.ndim != 2 or constraints.shape[1] == 0:
        return np.zeros(len(constraints))
    positive = np.where(np.isnan(constraints), np.inf, np.maximum(constraints, 0.0))
    return positive.sum(axis=1)
