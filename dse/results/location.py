"""Where a results folder may go: a relative `--out` inside a Ray job is refused.

`ray job submit --working-dir . -- dse search … --out results/x` runs the entrypoint in
Ray's temporary copy of the working directory
(`/tmp/ray/session_*/runtime_resources/working_dir_files/…`): a relative folder lands
there, is reported as "results in results/x", and goes with the session. Inside a job
the folder must be an absolute path (on storage the submitter can reach, e.g. a shared
disk) or a URI (`s3://bucket/prefix`).

This module imports neither ray nor pyarrow: the check runs before anything starts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from dse.errors import ConfigError, Problem

RAY_JOB_ENV = "RAY_JOB_CONFIG_JSON_ENV_VAR"
"""Set by Ray's job supervisor for a job's entrypoint process (and inherited by its
children), holding the job's runtime env and metadata as JSON.

# NOTE: the evidence is Ray 2.60's `dashboard/modules/job/job_supervisor.py`
# (`_get_driver_env_vars`): the supervisor sets this variable, `RAY_ADDRESS` (the GCS
# address) and `PYTHONUNBUFFERED` for the entrypoint only, not in the runtime env of its
# tasks. `RAY_ADDRESS` alone is no proof of a job: users export it to reach a cluster.
"""


def ray_job_submission_id(environ: dict[str, str] | None = None) -> str | None:
    """The submission id of the Ray job this process runs in, "" when unknown, None outside."""
    env = os.environ if environ is None else environ
    raw = env.get(RAY_JOB_ENV)
    if raw is None:
        return None
    try:
        document = json.loads(raw)
    except ValueError:
        return ""
    metadata = document.get("metadata") if isinstance(document, dict) else None
    submission = metadata.get("job_submission_id") if isinstance(metadata, dict) else None
    return str(submission) if submission else ""


def is_uri(out: str) -> bool:
    """`s3://…`, `gs://…`, `file://…`: a location with a scheme, not a path."""
    return "://" in out


def is_relative_location(out: str) -> bool:
    """A local path that depends on the current directory (`results/x`, `./x`, `x`)."""
    if is_uri(out):
        return False
    return not Path(out).expanduser().is_absolute()


def check_out_in_ray_job(out: str | None, default: str, environ: dict[str, str] | None = None
                         ) -> None:
    """Refuse a relative `--out` (or none: the default is relative) inside a Ray job.

    Raises ConfigError with one problem saying what to give instead; does nothing
    outside a Ray job or for an absolute path or URI.
    """
    submission = ray_job_submission_id(environ)
    if submission is None:
        return
    given = out if out is not None else default
    if not is_relative_location(given):
        return
    job = f"Ray job {submission}" if submission else "a Ray job"
    what = (
        f"{given} is relative" if out is not None
        else f"not given, and its default {given} is relative"
    )
    raise ConfigError(
        Problem(
            "--out",
            "",
            f"{what}, but this search runs inside {job}, whose working directory is a "
            "temporary copy Ray deletes: give an absolute path on storage you can reach "
            "after the job (e.g. --out /mnt/shared/dse/NAME) or a URI "
            "(e.g. --out s3://BUCKET/dse/NAME)",
        )
    )
