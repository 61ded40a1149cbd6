"""`dse search` submitted as a Ray job to a real cluster started with `ray start --head`.

The cluster is this test module's own: a head node on loopback ports chosen free at start,
its own temp dir, started with `--block` in a session of its own and ended by signalling
that session's processes (never `ray stop`: it kills every Ray process on the machine).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dse.errors import ConfigError
from dse.results import read_metadata, read_trials
from dse.results.location import RAY_JOB_ENV, check_out_in_ray_job, ray_job_submission_id

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TRIALS = 40


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            handle = socket.socket()
            handle.bind(("127.0.0.1", 0))
            sockets.append(handle)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for handle in sockets:
            handle.close()


def _session_members(session: int) -> list[int]:
    """Pids of the live processes in session `session` (Linux /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == session and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def _processes_naming(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in command:
            found.append(int(entry.name))
    return found


def _kill(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


@dataclass(frozen=True)
class HeadNode:
    dashboard_url: str
    env: dict[str, str]


@pytest.fixture(scope="module")
def head_node() -> Iterator[HeadNode]:
    (gcs, dashboard, client, node_manager, object_manager, agent_http, agent_grpc,
     metrics, runtime_env_agent) = _free_ports(9)
    # NOTE: a short temp dir of our own: Ray's socket paths must stay under 107 bytes,
    # and this cluster must not touch /tmp/ray, which other local clusters use.
    temp_dir = tempfile.mkdtemp(prefix="dsejob-", dir="/tmp")
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0",
           "OMP_NUM_THREADS": "1",
           # the job's entrypoint runs with the PATH of the process that started Ray
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("RAY_ADDRESS", None)
    env.pop(RAY_JOB_ENV, None)
    log = open(f"{temp_dir}.log", "wb")  # noqa: SIM115  (closed at teardown)
    head = subprocess.Popen(
        [str(BIN / "ray"), "start", "--head", "--block", "--node-ip-address=127.0.0.1",
         f"--port={gcs}", "--include-dashboard=true", "--dashboard-host=127.0.0.1",
         f"--dashboard-port={dashboard}", f"--ray-client-server-port={client}",
         f"--node-manager-port={node_manager}", f"--object-manager-port={object_manager}",
         f"--dashboard-agent-listen-port={agent_http}",
         f"--dashboard-agent-grpc-port={agent_grpc}", f"--metrics-export-port={metrics}",
         f"--runtime-env-agent-port={runtime_env_agent}", "--num-cpus=2",
         "--object-store-memory=200000000", f"--temp-dir={temp_dir}",
         "--disable-usage-stats"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    url = f"http://127.0.0.1:{dashboard}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/version", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if head.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(
                    "ray start --head did not come up:\n" + Path(f"{temp_dir}.log").read_text()
                )
            time.sleep(0.5)
        yield HeadNode(url, env)
    finally:
        # every process of the cluster is in the head's session (workers have process
        # groups of their own, not sessions); SIGTERM lets Ray shut down cleanly, and
        # what is left after a few seconds is killed (the temp dir goes anyway)
        _kill(_session_members(head.pid), signal.SIGTERM)
        deadline = time.monotonic() + 5
        while _session_members(head.pid) and time.monotonic() < deadline:
            time.sleep(0.25)
        _kill(_session_members(head.pid) + _processes_naming(temp_dir), signal.SIGKILL)
        head.wait(timeout=10)
        log.close()
        shutil.rmtree(temp_dir, ignore_errors=True)
        Path(f"{temp_dir}.log").unlink(missing_ok=True)


def _submit(head: HeadNode, working_dir: Path, *command: str) -> str:
    """`ray job submit --working-dir . -- COMMAND` as a user types it; the submission id.

    # NOTE: --no-wait, then the job REST API for the end and the logs: the CLI's waiting
    # mode follows the logs over a websocket, which broke once here under heavy load.
    """
    deadline = time.monotonic() + 120
    while True:
        result = subprocess.run(
            [str(BIN / "ray"), "job", "submit", "--no-wait", "--address", head.dashboard_url,
             "--working-dir", ".", "--", *command],
            cwd=working_dir, env=head.env, capture_output=True, text=True, timeout=180,
        )
        # NOTE: the dashboard answers before the node's dashboard agent has registered;
        # a submission then gets "500: No available agent to submit job, please try again
        # later" (seen here on a loaded machine), so it is tried again, as Ray asks.
        busy = "No available agent" in result.stdout + result.stderr
        if result.returncode == 0 or not busy or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    assert result.returncode == 0, result.stdout + result.stderr
    found = re.search(r"Job '(raysubmit_\w+)' submitted", result.stdout + result.stderr)
    assert found, result.stdout + result.stderr
    return found.group(1)


def _finish(head: HeadNode, submission: str) -> tuple[str, str, str]:
    """Wait for a job's end (job REST API); its status, status message and logs."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{head.dashboard_url}/api/jobs/{submission}",
                                    timeout=30) as reply:
            job = json.loads(reply.read())
        if job["status"] in ("SUCCEEDED", "FAILED", "STOPPED"):
            with urllib.request.urlopen(f"{head.dashboard_url}/api/jobs/{submission}/logs",
                                        timeout=30) as reply:
                logs = json.loads(reply.read())["logs"]
            return str(job["status"]), str(job.get("message") or ""), str(logs)
        time.sleep(0.5)
    raise AssertionError(f"job {submission} did not end within 300 s")


@pytest.mark.slow
def test_a_search_submitted_as_a_ray_job_keeps_its_results(head_node: HeadNode,
                                                           tmp_path: Path) -> None:
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    shutil.copy(ROOT / "search_spaces" / "quickstart.yaml", job_dir / "quickstart.yaml")
    out = tmp_path / "shared" / "quickstart"
    # both jobs run at once: the cluster has 2 CPUs, the refused one needs none
    kept = _submit(head_node, job_dir, "dse", "search", "quickstart.yaml", "--out", str(out),
                   "--trials", str(TRIALS), "--quiet")
    refused = _submit(head_node, job_dir, "dse", "search", "quickstart.yaml",
                      "--out", "results/quickstart", "--quiet")
    kept_status, kept_message, kept_log = _finish(head_node, kept)
    refused_status, refused_message, refused_log = _finish(head_node, refused)

    assert kept_status == "SUCCEEDED", f"{kept_message}\n{kept_log}"
    assert str(out) in kept_log
    # the folder is where the job was told to write, outside Ray's working-dir copy
    trials = read_trials(out)
    assert trials["trial_number"].tolist() == list(range(TRIALS))
    assert read_metadata(out)["status"] == "finished"
    # read back by a user from another folder, as after any search
    pareto = subprocess.run(
        [str(BIN / "dse"), "pareto", str(out), "--format", "json"],
        capture_output=True, text=True, cwd=tmp_path, env=head_node.env, timeout=120,
    )
    assert pareto.returncode == 0, pareto.stderr
    front = json.loads(pareto.stdout)
    assert 1 <= len(front) <= TRIALS
    by_number = trials.set_index("trial_number")
    for row in front:  # the front is made of the job's own trials, figures unchanged
        stored = by_number.loc[row["trial_number"]]
        assert row["objective_score"] == pytest.approx(stored["objective_score"])
        assert bool(stored["feasible"])

    assert refused_status == "FAILED", f"{refused_message}\n{refused_log}"
    assert "failed with exit code 2" in refused_message
    error_lines = [line for line in refused_log.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, refused_log
    assert "results/quickstart is relative" in error_lines[0]
    assert f"inside Ray job {refused}" in error_lines[0]
    assert "absolute path" in error_lines[0] and "s3://" in error_lines[0]
    assert "Traceback" not in refused_log


def test_job_detection_needs_the_job_supervisors_variable_not_ray_address() -> None:
    job = {RAY_JOB_ENV: json.dumps({"runtime_env": {},
                                    "metadata": {"job_submission_id": "raysubmit_abc"}})}
    assert ray_job_submission_id(job) == "raysubmit_abc"
    assert ray_job_submission_id({"RAY_ADDRESS": "127.0.0.1:6379"}) is None
    assert ray_job_submission_id({RAY_JOB_ENV: "not json"}) == ""
    # outside a job anything goes; inside, only absolute paths and URIs
    check_out_in_ray_job("results/x", "results/q", {"RAY_ADDRESS": "auto"})
    for allowed in ("/mnt/shared/x", "s3://bucket/x?endpoint_override=h:9000", "~/x",
                    "file:///data/x"):
        check_out_in_ray_job(allowed, "results/q", job)
    for refused, shown in (("results/x", "results/x is relative"), ("./x", "./x is relative"),
                           (None, "not given, and its default results/q is relative")):
        with pytest.raises(ConfigError) as caught:
            check_out_in_ray_job(refused, "results/q", job)
        (problem,) = caught.value.problems
        assert shown in problem.message and "raysubmit_abc" in problem.message
