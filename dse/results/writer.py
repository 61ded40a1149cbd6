"""Writing a results folder: atomic files on any filesystem pyarrow supports.

Every file is written under a hidden temporary name (`.name.tmp`, which pyarrow.dataset,
duckdb and `*.parquet` globs skip) and then renamed; on a local disk the data and the
folder are fsynced, so a reader never sees a half-written file and a crash leaves either
the whole file or none.

Order of writes for one batch: `evaluations/part-X`, then `trials/part-X`; a trials part
is the commit point. On resume, an evaluations part without its trials part (a crash
between the two) is deleted, and its trials are evaluated again.
"""

from __future__ import annotations

import io
import json
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from dse.results.schema import (
    EVALUATIONS_DIR,
    JOURNAL_FILE,
    METADATA_FILE,
    REFERENCE_EVALUATIONS_FILE,
    REFERENCES_FILE,
    SPACE_FILE,
    TRIALS_DIR,
    evaluations_table,
    trials_table,
)
from dse.search.evaluation import TrialOutcome
from dse.space import SearchSpace

LOCK_FILE = ".dse-driver.lock"


class FolderInUse(RuntimeError):
    """Another live driver holds the folder."""


class FolderExists(RuntimeError):
    """The folder already holds results and `--resume` was not given."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(slots=True)
class ResultsFolder:
    """One output folder (local path or URI such as `s3://bucket/prefix`)."""

    uri: str
    filesystem: pafs.FileSystem
    root: str
    is_local: bool

    @classmethod
    def open(cls, uri: str | Path) -> ResultsFolder:
        text = str(uri)
        if "://" in text and not text.startswith("file://"):
            filesystem, root = pafs.FileSystem.from_uri(text)
            return cls(text, filesystem, root.rstrip("/"), False)
        local = Path(text.removeprefix("file://")).expanduser().resolve()
        return cls(text, pafs.LocalFileSystem(), str(local), True)

    # -- paths -----------------------------------------------------------------------

    def path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    @property
    def journal_path(self) -> Path:
        """Local path of the Optuna journal (journal storage needs a POSIX file).

        # NOTE: for remote folders the journal lives in a local cache keyed by the URI
        # and is copied into the folder after every batch, so the folder stays complete
        # (and resumable from the cache on the same machine).
        """
        if self.is_local:
            return Path(self.root) / JOURNAL_FILE
        import hashlib

        digest = hashlib.sha256(self.uri.encode()).hexdigest()[:16]
        cache = Path.home() / ".cache" / "dse" / "journals" / digest
        cache.mkdir(parents=True, exist_ok=True)
        return cache / JOURNAL_FILE

    # -- state -----------------------------------------------------------------------

    def has_results(self) -> bool:
        """True when the folder exists and is not empty."""
        info = self.filesystem.get_file_info(self.root)
        if info.type == pafs.FileType.NotFound:
            return False
        if info.type != pafs.FileType.Directory:
            return True
        entries = self.filesystem.get_file_info(pafs.FileSelector(self.root, recursive=False))
        return any(entries)

    def is_bare_skeleton(self) -> bool:
        """Only what a driver killed before writing metadata.json leaves: empty part
        folders, its lock, space.yaml and the input copies (`start` writes them before
        metadata.json). Such a folder holds no results and may be started afresh."""
        from dse.results.inputs import INPUTS_DIR

        if self.exists(METADATA_FILE):
            return False
        if self.part_names(TRIALS_DIR) or self.part_names(EVALUATIONS_DIR):
            return False
        entries = self.filesystem.get_file_info(pafs.FileSelector(self.root, recursive=False))
        allowed = {TRIALS_DIR, EVALUATIONS_DIR, LOCK_FILE, SPACE_FILE, INPUTS_DIR}
        return all(e.base_name in allowed for e in entries)

    def makedirs(self) -> None:
        for sub in ("", TRIALS_DIR, EVALUATIONS_DIR):
            self.filesystem.create_dir(self.path(sub) if sub else self.root, recursive=True)

    # -- locking ---------------------------------------------------------------------

    def acquire_lock(self) -> None:
        """Claim the folder for this driver; a lock of a dead driver on this host is taken over.

        # NOTE: local folders only (O_EXCL is atomic on POSIX); remote stores have no
        # portable exclusive create, and a search there is one Ray job per folder.
        """
        if not self.is_local:
            return
        lock = Path(self.root) / LOCK_FILE
        me = {"pid": os.getpid(), "host": socket.gethostname(),
              "since": datetime.now(UTC).isoformat()}
        for _attempt in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    holder = json.loads(lock.read_text())
                except (OSError, ValueError):
                    holder = {}
                same_host = holder.get("host") == socket.gethostname()
                pid = int(holder.get("pid", -1))
                if same_host and pid > 0 and pid != os.getpid() and _pid_alive(pid):
                    raise FolderInUse(
                        f"{self.uri} is in use by a running search (pid {pid}); "
                        "stop it first or write to another folder"
                    ) from None
                if not same_host and holder:
                    raise FolderInUse(
                        f"{self.uri} is locked by a search on host {holder.get('host')} "
                        f"(pid {pid}); delete {lock} if that search is gone"
                    ) from None
                lock.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as handle:
                json.dump(me, handle)
            return
        raise FolderInUse(f"could not lock {self.uri}")

    def release_lock(self) -> None:
        if self.is_local:
            lock = Path(self.root) / LOCK_FILE
            try:
                holder = json.loads(lock.read_text())
            except (OSError, ValueError):
                return
            if holder.get("pid") == os.getpid():
                lock.unlink(missing_ok=True)

    # -- atomic writes ---------------------------------------------------------------

    def write_bytes(self, relative: str, data: bytes) -> None:
        """Write `data` to `relative` atomically."""
        final = self.path(relative)
        directory, _, name = final.rpartition("/")
        temporary = f"{directory}/.{name}.{uuid.uuid4().hex[:8]}.tmp"
        if self.is_local:
            with open(temporary, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final)
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
            return
        with self.filesystem.open_output_stream(temporary) as stream:
            stream.write(data)
        self.filesystem.move(temporary, final)

    def write_table(self, relative: str, table: pa.Table) -> None:
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd")
        self.write_bytes(relative, buffer.getvalue())

    def write_json(self, relative: str, document: dict[str, Any]) -> None:
        self.write_bytes(relative, (json.dumps(document, indent=2) + "\n").encode("utf-8"))

    def read_bytes(self, relative: str) -> bytes:
        with self.filesystem.open_input_stream(self.path(relative)) as stream:
            return bytes(stream.read())

    def read_json(self, relative: str) -> dict[str, Any]:
        document = json.loads(self.read_bytes(relative))
        assert isinstance(document, dict)
        return document

    def exists(self, relative: str) -> bool:
        return self.filesystem.get_file_info(self.path(relative)).type != pafs.FileType.NotFound

    def part_names(self, sub: str) -> list[str]:
        """Names of committed part files in `sub` (hidden temporaries excluded)."""
        info = self.filesystem.get_file_info(self.path(sub))
        if info.type == pafs.FileType.NotFound:
            return []
        entries = self.filesystem.get_file_info(pafs.FileSelector(self.path(sub)))
        return sorted(
            e.base_name for e in entries
            if e.base_name.startswith("part-") and e.base_name.endswith(".parquet")
        )

    # -- the results -----------------------------------------------------------------

    def start(self, space: SearchSpace, metadata: dict[str, Any]) -> None:
        from dse.results.inputs import INPUTS_DIR, collect_inputs

        copies = collect_inputs(space)  # every file the space names, read before writing
        self.makedirs()
        self.write_bytes(SPACE_FILE, space.text.encode("utf-8"))
        self.filesystem.create_dir(self.path(INPUTS_DIR), recursive=True)
        for relative, data in copies.contents.items():
            self.write_bytes(relative, data)
        self.write_json(METADATA_FILE, metadata)

    def write_outcomes(
        self,
        space: SearchSpace,
        outcomes: Sequence[TrialOutcome],
        metric_names: Sequence[str] = (),
        bound_names: Sequence[str] = (),
    ) -> str:
        """One committed batch: evaluations part, then trials part (the commit point)."""
        first = min(o.trial_number for o in outcomes)
        part = f"part-{first:08d}-{uuid.uuid4().hex[:8]}.parquet"
        evaluations = evaluations_table(outcomes, metric_names, bound_names)
        if evaluations.num_rows:
            self.write_table(f"{EVALUATIONS_DIR}/{part}", evaluations)
        self.write_table(f"{TRIALS_DIR}/{part}", trials_table(space, outcomes))
        return part

    def write_references(
        self,
        space: SearchSpace,
        outcomes: Sequence[TrialOutcome],
        names: Sequence[str],
    ) -> None:
        # per-workload rows first: references.parquet is the commit point, as trials parts are
        self.write_table(REFERENCE_EVALUATIONS_FILE, evaluations_table(outcomes))
        self.write_table(REFERENCES_FILE, trials_table(space, outcomes, references=names))

    def remove_orphans(self) -> list[str]:
        """Delete evaluations parts whose trials part never landed, and stale temporaries."""
        removed: list[str] = []
        committed = set(self.part_names(TRIALS_DIR))
        for name in self.part_names(EVALUATIONS_DIR):
            if name not in committed:
                self.filesystem.delete_file(self.path(EVALUATIONS_DIR, name))
                removed.append(f"{EVALUATIONS_DIR}/{name}")
        for sub in ("", TRIALS_DIR, EVALUATIONS_DIR):
            folder = self.path(sub) if sub else self.root
            if self.filesystem.get_file_info(folder).type == pafs.FileType.NotFound:
                continue
            for entry in self.filesystem.get_file_info(pafs.FileSelector(folder)):
                if entry.base_name.startswith(".") and entry.base_name.endswith(".tmp"):
                    self.filesystem.delete_file(entry.path)
                    removed.append(entry.path)
        return removed

    def upload_journal(self) -> None:
        """Copy the local journal into a remote folder (no-op for local folders)."""
        if not self.is_local and self.journal_path.exists():
            self.write_bytes(JOURNAL_FILE, self.journal_path.read_bytes())

    def download_journal(self) -> None:
        """Fetch the journal of a remote folder into the local cache when it is missing."""
        if not self.is_local and not self.journal_path.exists() and self.exists(JOURNAL_FILE):
            self.journal_path.write_bytes(self.read_bytes(JOURNAL_FILE))

    def write_part(self, trials: pa.Table, evaluations: pa.Table) -> str:
        """One committed batch given as Arrow tables (rows built by the workers):
        evaluations part, then trials part (the commit point), as `write_outcomes`."""
        first = pc.min(trials.column("trial_number")).as_py()
        part = f"part-{first:08d}-{uuid.uuid4().hex[:8]}.parquet"
        if evaluations.num_rows:
            self.write_table(f"{EVALUATIONS_DIR}/{part}", evaluations)
        self.write_table(f"{TRIALS_DIR}/{part}", trials)
        return part

    def finish(self, status: str) -> None:
        metadata = self.read_json(METADATA_FILE)
        metadata["status"] = status
        metadata["finished_at"] = datetime.now(UTC).isoformat()
        self.write_json(METADATA_FILE, metadata)
