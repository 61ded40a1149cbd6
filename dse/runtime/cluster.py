"""Connecting to Ray: an embedded local cluster by default, or an existing cluster.

- no address and no `RAY_ADDRESS`: start a local Ray in this process (`address="local"`,
  so a stale Ray current-cluster file is never attached to by accident);
- `--address auto` / `ray://host:10001` / `RAY_ADDRESS` (set inside a Ray job): connect;
- Ray already initialised by the caller (tests, notebooks): use it and leave it running.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import ray


@dataclass(frozen=True, slots=True)
class RayConnection:
    address: str
    """"local" for an embedded cluster, else the address connected to."""
    initialised_here: bool
    """This process called ray.init (and shuts its connection down at the end); an
    embedded cluster then goes with it, a cluster reached by address keeps running."""
    workers: int
    """CPUs the cluster offers to tasks (one evaluation task per CPU)."""


def _cluster_cpus() -> int:
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


@contextmanager
def ray_connection(
    address: str | None = None, num_cpus: int | None = None
) -> Iterator[RayConnection]:
    """Connect for the duration of a search; shut down only what was started here."""
    if ray.is_initialized():
        yield RayConnection("existing", False, _cluster_cpus())
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if address:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        shown = address
    else:
        # NOTE: Ray 2.60 turns on token authentication and writes ~/.ray/auth_token on
        # first init; an embedded cluster that only this process talks to needs neither.
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        ray.init(
            address="local",
            num_cpus=num_cpus,
            include_dashboard=False,
            logging_level=logging.WARNING,
            log_to_driver=False,
            # NOTE: numpy in the cost core must not start one BLAS thread per core in
            # every worker: on 2 cores two workers would fight over four threads.
            runtime_env={"env_vars": {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}},
        )
        shown = "local"
    try:
        yield RayConnection(shown, True, _cluster_cpus())
    finally:
        ray.shutdown()
