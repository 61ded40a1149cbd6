"""The steady-state NSGA-II sampler: its parameter codec, its batch interface, and its
behaviour as a plain Optuna sampler (real studies, no mocks)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from dse.search import study as studies
from dse.search.evolution import (
    AsyncNSGA2Sampler,
    ParameterCodec,
    constrained_order,
    total_violation,
)
from dse.space import load_space

ROOT = Path(__file__).resolve().parents[2]

DISTRIBUTIONS = {
    "route": CategoricalDistribution(["hbm", "ddr"]),
    "flag": CategoricalDistribution([True, False]),
    "ratio": CategoricalDistribution([1, 2.5]),
    "stacks": IntDistribution(1, 8),
    "sram_mib": IntDistribution(16, 1024, step=16),
    "launches": IntDistribution(1, 100, log=True),
    "clock_ghz": FloatDistribution(1.0, 2.0),
    "launch_us": FloatDistribution(1.0, 20.0, log=True),
    "overhead": FloatDistribution(0.0, 0.5, step=0.05),
}


def test_codec_round_trips_every_kind_of_parameter() -> None:
    codec = ParameterCodec(DISTRIBUTIONS)
    rng = np.random.default_rng(0)
    columns = codec.decode(rng.random((500, codec.dimensions)))
    for name, dist in DISTRIBUTIONS.items():
        assert all(dist._contains(dist.to_internal_repr(v)) for v in columns[name]), name
    again = codec.decode(codec.encode(columns))
    continuous = {"clock_ghz", "launch_us"}
    assert {k: v for k, v in again.items() if k not in continuous} == {
        k: v for k, v in columns.items() if k not in continuous}
    for name in continuous:  # a continuous value comes back to the last bits
        np.testing.assert_allclose(again[name], columns[name], rtol=1e-12)
    # values read back from Parquet: 2.5 and 1.0 as floats, numpy booleans and ints
    parquet_like = {**columns, "ratio": [float(v) for v in columns["ratio"]],
                    "flag": [np.bool_(v) for v in columns["flag"]],
                    "stacks": [np.int64(v) for v in columns["stacks"]]}
    np.testing.assert_array_equal(codec.encode(parquet_like), codec.encode(columns))
    internal = codec.internal(columns)
    assert internal["route"][0] == DISTRIBUTIONS["route"].choices.index(columns["route"][0])
    assert internal["stacks"][0] == float(columns["stacks"][0])
    # every value of a discrete axis is reachable, each from an equal share of the cube
    stacks = codec.decode(np.tile(np.linspace(0, 1, 800, endpoint=False)[:, None],
                                  (1, codec.dimensions)))["stacks"]
    assert np.bincount(stacks)[1:].tolist() == [100] * 8


def test_constrained_order_ranks_feasible_fronts_before_violations() -> None:
    minimised = np.array([[1.0, 1.0], [0.0, 2.0], [2.0, 2.0], [0.0, 0.0], [5.0, 5.0],
                          [math.nan, math.nan]])
    violation = np.array([0.0, 0.0, 0.0, 0.5, 0.1, math.inf])
    rank, crowding = constrained_order(minimised, violation)
    # two non-dominated feasible points, one dominated, then violations in order
    assert rank.tolist() == [0, 0, 1, 3, 2, 4]
    assert np.isinf(crowding[:2]).all()
    assert total_violation(np.array([[-0.1, 0.2], [math.nan, 0.0]])).tolist() == [0.2, math.inf]


def _toy(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ZDT1-like in the unit cube: two objectives, one constraint on the first axis."""
    g = 1 + 9 * x[:, 1:].mean(axis=1)
    f1 = x[:, 0]
    f2 = g * (1 - np.sqrt(f1 / g))
    return np.stack([f1, f2], axis=1), np.maximum(0.0, 0.05 - f1)


def _hypervolume(values: np.ndarray) -> float:
    from dse.search.pareto import hypervolume

    return hypervolume(values, ["minimize", "minimize"], [1.1, 11.0], [1.0, 1.0])


def test_batch_interface_breeds_better_points_than_random_with_many_in_flight() -> None:
    space = {f"x{i}": FloatDistribution(0.0, 1.0) for i in range(8)}
    sampler = AsyncNSGA2Sampler(space, directions=["minimize"] * 2, population_size=32,
                                seed=3)
    rng = np.random.default_rng(3)
    in_flight: list[np.ndarray] = []
    found = []
    for _round in range(40):  # 2,000 points, 200 in flight, told 50 at a time
        in_flight.append(sampler.propose(50))
        if len(in_flight) > 4:
            unit = in_flight.pop(0)
            values, violation = _toy(unit)
            sampler.tell_batch(unit, values, violation)
            found.append(values[violation <= 0])
    assert sampler.archive_size == 32 and sampler.told == 1800
    random_values, random_violation = _toy(rng.random((1800, 8)))
    bred = _hypervolume(np.concatenate(found))
    assert bred > 1.05 * _hypervolume(random_values[random_violation <= 0])
    # no point is proposed twice
    proposed = np.concatenate([sampler.propose(500) for _ in range(4)])
    assert len(np.unique(proposed, axis=0)) == len(proposed)


def test_plain_optuna_optimize_with_constraints() -> None:
    space = load_space(ROOT / "search_spaces" / "quickstart.yaml")
    sampler = studies.make_sampler(space, seed=1, batch_size=16)
    assert isinstance(sampler, AsyncNSGA2Sampler) and sampler.population_size == 16
    dists = studies.distributions(space)

    def objective(trial: optuna.Trial) -> tuple[float, float]:
        sram = trial.suggest_int("sram_capacity_mib", 16, 1024, step=16)
        stacks = trial.suggest_int("hbm_stacks", 1, 8)
        trial.set_constraint("big", (sram - 800) / 800)
        return float(stacks * 10 + sram / 100), float(9 - stacks + (1024 - sram) / 200)

    plain = AsyncNSGA2Sampler(population_size=16, seed=2)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=plain)
    study.optimize(objective, n_trials=120)
    assert len(study.trials) == 120 and plain.told > 80
    assert all(t.params["sram_capacity_mib"] % 16 == 0 for t in study.trials)
    # after the start-up trials, the archive learnt that sram > 800 violates
    late = [t.params["sram_capacity_mib"] for t in study.trials[60:]]
    assert np.mean(np.array(late) > 800) < 0.2
    # the file's sampler asks for the whole space
    trial = optuna.create_study(directions=["maximize"] * 3, sampler=sampler).ask(dists)
    assert set(trial.params) == set(dists)


def test_bad_population_is_refused() -> None:
    with pytest.raises(ValueError, match="population_size"):
        AsyncNSGA2Sampler(population_size=1)
