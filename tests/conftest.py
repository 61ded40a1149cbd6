"""Shared test fixtures: one real local Ray cluster per test session, started lazily.

- `ray_cluster`: the shared cluster (2 CPUs), started on first use and started again if
  a test shut it down. Never `ray stop`: it would kill every Ray process on the machine.
- `isolated_ray`: a cluster of its own for fault-injection tests (worker deaths); the
  shared one is shut down first and comes back lazily afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("OMP_NUM_THREADS", "1")

RAY_TEST_CPUS = 2


def _start_ray() -> None:
    import ray

    ray.init(
        address="local",
        num_cpus=RAY_TEST_CPUS,
        include_dashboard=False,
        logging_level="ERROR",
        log_to_driver=False,
    )


@pytest.fixture(scope="session")
def _ray_session() -> Iterator[None]:
    yield
    import ray

    if ray.is_initialized():
        ray.shutdown()


@pytest.fixture
def ray_cluster(_ray_session: None) -> Iterator[None]:
    """The session's shared local Ray cluster (started on first use)."""
    import ray

    if not ray.is_initialized():
        _start_ray()
    yield


@pytest.fixture
def isolated_ray(_ray_session: None) -> Iterator[None]:
    """A fresh cluster for one fault-injection test; shut down after it."""
    import ray

    if ray.is_initialized():
        ray.shutdown()
    _start_ray()
    try:
        yield
    finally:
        ray.shutdown()
