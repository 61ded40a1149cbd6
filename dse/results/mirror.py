"""A local copy of a remote results folder (`s3://…`, `gs://…`), for the readers.

`dse pareto / show / compare / report / browse` query Parquet files with duckdb on a local
disk. For a folder behind a URI they read a mirror in the user's cache
(`$XDG_CACHE_HOME/dse/results/<hash of the URI>/`, default `~/.cache/…`), brought up to
date on every open: committed parts never change once written (the writer renames a
finished file into place), so a part already mirrored with the same size is kept, new
parts are fetched, parts gone from the folder are dropped, and the small files
(`metadata.json`, the copies of the input files) are fetched again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path

import pyarrow.fs as pafs

from dse.errors import ConfigError
from dse.results.layout import JOURNAL_FILE
from dse.results.location import is_uri
from dse.results.writer import ResultsFolder

IMMUTABLE_SUFFIX = ".parquet"
"""Committed Parquet files are written once; everything else is fetched on every open."""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dse" / "results"


def is_remote(location: str | os.PathLike[str]) -> bool:
    text = str(location)
    return is_uri(text) and not text.startswith("file://")


def mirror_path(uri: str) -> Path:
    return cache_root() / hashlib.sha256(uri.encode("utf-8")).hexdigest()[:16]


def local_mirror(uri: str) -> Path:
    """Bring the local copy of the results folder at `uri` up to date; return its path.

    The Optuna journal is not copied (no reader here needs it; optuna-dashboard can read
    the folder's own copy). A folder that cannot be reached is a ConfigError.
    """
    try:
        folder = ResultsFolder.open(uri)
        info = folder.filesystem.get_file_info(folder.root)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot open the results folder: {exc}", uri) from None
    if info.type == pafs.FileType.NotFound:
        raise ConfigError("no such results folder (nothing stored under this URI)", uri)
    try:
        entries = folder.filesystem.get_file_info(pafs.FileSelector(folder.root, recursive=True))
    except OSError as exc:
        raise ConfigError(f"cannot list the results folder: {exc}", uri) from None
    target = mirror_path(uri)
    target.mkdir(parents=True, exist_ok=True)
    prefix = folder.root.rstrip("/") + "/"
    wanted: set[Path] = set()
    for entry in entries:
        if entry.type != pafs.FileType.File or not entry.path.startswith(prefix):
            continue
        relative = entry.path[len(prefix):]
        parts = relative.split("/")
        if any(p.startswith(".") for p in parts) or relative == JOURNAL_FILE:
            continue  # hidden temporaries and locks, and the journal
        local = target.joinpath(*parts)
        wanted.add(local)
        unchanged = (
            relative.endswith(IMMUTABLE_SUFFIX)
            and local.is_file()
            and local.stat().st_size == entry.size
        )
        if unchanged:
            continue
        local.parent.mkdir(parents=True, exist_ok=True)
        # a name of this process's own: two readers may bring one mirror up to date at once
        temporary = local.with_name(f".{local.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
        try:
            with folder.filesystem.open_input_stream(entry.path) as source, open(
                temporary, "wb"
            ) as sink:
                shutil.copyfileobj(source, sink)
        except OSError as exc:
            raise ConfigError(f"cannot read {relative}: {exc}", uri) from None
        os.replace(temporary, local)
    for local in sorted(target.rglob("*"), reverse=True):
        if local.is_file() and local not in wanted:
            local.unlink()
        elif local.is_dir() and not any(local.iterdir()):
            local.rmdir()
    target.mkdir(parents=True, exist_ok=True)
    return target
