"""Results on S3-compatible storage: a real S3 API server (moto) on loopback, no mocks.

The search, `dse pareto`, `dse show` and `--resume` go through the real `dse` commands
with the endpoint given the way a user gives it: in the URI's query
(`?endpoint_override=HOST:PORT&scheme=http`), which pyarrow reads.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pyarrow.fs as pafs
import pytest
from typer.testing import CliRunner

from dse.browse.results import open_results
from dse.cli import app
from dse.results import read_metadata, read_trials

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "search_spaces" / "quickstart.yaml"
BUCKET = "dse-results"

runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as handle:
        handle.bind(("127.0.0.1", 0))
        return int(handle.getsockname()[1])


@pytest.fixture
def s3_endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 with one empty bucket; yields HOST:PORT."""
    from moto.server import ThreadedMotoServer

    # credentials as a user's environment gives them; moto accepts any
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # journal cache and results mirror
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"127.0.0.1:{port}"
    try:
        s3 = pafs.S3FileSystem(endpoint_override=endpoint, scheme="http", region="us-east-1",
                               allow_bucket_creation=True)
        s3.create_dir(BUCKET)
        yield endpoint
    finally:
        server.stop()


def _invoke(*args: str):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_a_search_written_to_s3_is_read_back_and_resumed(s3_endpoint: str, ray_cluster: None,
                                                         tmp_path: Path) -> None:
    uri = f"s3://{BUCKET}/searches/quickstart?endpoint_override={s3_endpoint}&scheme=http"
    _invoke("search", str(QUICKSTART), "--out", uri, "--trials", "24", "--quiet")

    # the objects are on the server, listed by a client of its own
    s3 = pafs.S3FileSystem(endpoint_override=s3_endpoint, scheme="http", region="us-east-1")
    stored = {i.path.removeprefix(f"{BUCKET}/searches/quickstart/")
              for i in s3.get_file_info(pafs.FileSelector(f"{BUCKET}/searches/quickstart",
                                                          recursive=True))
              if i.type == pafs.FileType.File}
    assert {"metadata.json", "space.yaml", "study.journal", "references.parquet"} <= stored
    assert any(name.startswith("trials/part-") for name in stored)
    assert not any(name.rsplit("/", 1)[-1].startswith(".") for name in stored)  # no temporaries
    assert read_metadata(uri)["status"] == "finished"
    trials = read_trials(uri)
    assert trials["trial_number"].tolist() == list(range(24))

    front = json.loads(_invoke("pareto", uri, "--format", "json").stdout)
    assert front, "a search of 24 trials has a feasible front"
    by_number = trials.set_index("trial_number")
    for row in front:
        assert row["objective_power_w"] == pytest.approx(by_number.loc[row["trial_number"]]
                                                         ["objective_power_w"])
    best = front[0]["trial_number"]
    shown = json.loads(_invoke("show", uri, str(best), "--format", "json").stdout)
    assert shown[0]["trial_number"] == best
    assert {w["workload"] for w in shown[0]["workloads"]}  # per-workload rows came along

    # a second session continues the same folder on S3 to a larger budget
    _invoke("search", str(QUICKSTART), "--out", uri, "--trials", "40", "--resume", "--quiet")
    assert read_trials(uri)["trial_number"].tolist() == list(range(40))
    front = json.loads(_invoke("pareto", uri, "--format", "json").stdout)
    assert all(0 <= row["trial_number"] < 40 for row in front)
    # the readers' local mirror caught up: every trials part on the server, and no other
    remote_parts = sorted(
        i.base_name for i in s3.get_file_info(
            pafs.FileSelector(f"{BUCKET}/searches/quickstart/trials"))
        if i.base_name.endswith(".parquet"))
    opened = open_results(uri)
    assert sorted(Path(p).name for p in opened.trial_files) == remote_parts
    assert len(remote_parts) >= 2  # the first session's parts and the resumed session's
