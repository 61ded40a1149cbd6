"""`dse search --address` on a (simulated) multi-node Ray cluster, unchanged code path."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray
from ray.cluster_utils import Cluster

from dse.results import read_trials
from dse.runtime.cluster import ray_connection

ROOT = Path(__file__).resolve().parents[2]
DSE = str(Path(sys.executable).parent / "dse")


@pytest.fixture
def two_node_cluster() -> Iterator[Cluster]:
    """A head and one worker node in this machine (ray.cluster_utils), its own processes."""
    if ray.is_initialized():
        ray.shutdown()  # the shared session cluster comes back lazily
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    try:
        yield cluster
    finally:
        cluster.shutdown()


def test_search_runs_unchanged_on_a_cluster_by_address(two_node_cluster: Cluster,
                                                       tmp_path: Path) -> None:
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    result = subprocess.run(
        [DSE, "search", str(ROOT / "search_spaces" / "quickstart.yaml"), "--out",
         str(tmp_path / "out"), "--trials", "60", "--quiet",
         "--address", two_node_cluster.address],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=240,
    )
    assert result.returncode == 0, result.stderr
    # the driver saw both nodes' CPUs and did not start a Ray of its own
    assert "on 2 Ray worker(s) (" + two_node_cluster.address + ")" in result.stdout.replace(
        "\n", " ")
    assert read_trials(tmp_path / "out")["trial_number"].tolist() == list(range(60))


def test_connecting_leaves_a_cluster_it_did_not_start_running(two_node_cluster: Cluster) -> None:
    with ray_connection(two_node_cluster.address) as connection:
        assert connection.initialised_here and connection.workers == 2
    # a connection is closed, the cluster itself keeps running
    assert two_node_cluster.remaining_processes_alive()
