"""Writing a results folder: atomic files on any filesystem pyarrow supports.

Every file is written under a hidden temporary name (`.name.tmp`, which pyarrow.dataset,
duckdb and `*.parquet` globs skip) and then renamed; on a local disk the data and the
folder are fsynced, so a reader never sees a half-written file and a crash leaves either
the whole file or none.

Order of writes for one batch: `evaluations/part-X`, then `trials/part-X`, then one line
appended to `manifest.jsonl` listing both with their sizes and SHA-256 checksums
(`dse.results.manifest`); that line, once it ends with its newline and is fsynced, is the
commit point. Readers read only the parts the manifest lists, so a part whose commit
line never landed (a crash between the two writes) is invisible, as is a part copied in
by hand. On resume, such a part of the writer's own naming whose trials are not committed
is deleted (its trials are evaluated again), a torn last manifest line is cut off, and
stale temporaries are removed (`dse.results.verify.prepare_resume`).

The same holds for the reference chips: `reference_evaluations.parquet`, then
`references.parquet`, then their manifest line.
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

from dse.errors import ConfigError, Problem
from dse.results.layout import (
    EVALUATIONS_DIR,
    INPUTS_DIR,
    JOURNAL_FILE,
    LOCK_FILE,
    MANIFEST_FILE,
    METADATA_FILE,
    REFERENCE_EVALUATIONS_FILE,
    REFERENCES_FILE,
    SPACE_FILE,
    TRIALS_DIR,
)
from dse.results.manifest import (
    ListedFile,
    commit_line,
    describe,
    header_line,
    remember_checksum,
)
from dse.results.schema import evaluations_table, trials_table
from dse.search.evaluation import TrialOutcome
from dse.space import SearchSpace


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
        """The folder at `uri`; a ConfigError when no filesystem serves it or it is a file."""
        text = str(uri)
        if "://" in text and not text.startswith("file://"):
            try:
                filesystem, root = pafs.FileSystem.from_uri(text)
            except (pa.ArrowException, ValueError, OSError) as exc:
                scheme = text.split("://", 1)[0]
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                what = (f"unknown filesystem scheme {scheme!r}"
                        if "Unrecognized filesystem type" in reason
                        else f"cannot be opened ({reason})")
                raise ConfigError(Problem(
                    text, "", f"{what}: give a local folder or a URI pyarrow can open "
                    "(s3://, gs://, hdfs://, file://)"
                )) from None
            folder = cls(text, filesystem, root.rstrip("/"), False)
        else:
            local = Path(text.removeprefix("file://")).expanduser().resolve()
            folder = cls(text, pafs.LocalFileSystem(), str(local), True)
        folder._check_is_folder()
        return folder

    def _check_is_folder(self) -> None:
        """A path that exists must be a folder, and nothing on the way to it a file."""
        try:
            info = self.filesystem.get_file_info(self.root)
        except (pa.ArrowException, OSError) as exc:
            raise ConfigError(Problem(self.uri, "", f"cannot be opened: {exc}")) from None
        if info.type not in (pafs.FileType.Directory, pafs.FileType.NotFound):
            raise ConfigError(Problem(
                self.uri, "", "is a file, not a folder: give the folder the results go in "
                "(it is created if missing)"
            ))
        if self.is_local and info.type == pafs.FileType.NotFound:
            above = Path(self.root).parent
            while not above.exists():
                above = above.parent
            if not above.is_dir():
                raise ConfigError(Problem(
                    self.uri, "", f"{above} is a file, so no folder can be made below it"
                ))

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
        folders, its lock, space.yaml, the input copies and the empty manifest (`start`
        writes them before metadata.json). Such a folder holds no results and may be
        started afresh."""
        if self.exists(METADATA_FILE):
            return False
        if self.part_names(TRIALS_DIR) or self.part_names(EVALUATIONS_DIR):
            return False
        entries = self.filesystem.get_file_info(pafs.FileSelector(self.root, recursive=False))
        allowed = {TRIALS_DIR, EVALUATIONS_DIR, LOCK_FILE, SPACE_FILE, INPUTS_DIR,
                   MANIFEST_FILE}
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

    def write_table(self, relative: str, table: pa.Table) -> ListedFile:
        """Write `table` as Parquet atomically; returns its manifest entry (not yet committed)."""
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd")
        data = buffer.getvalue()
        self.write_bytes(relative, data)
        numbers = None
        if table.num_rows and "trial_number" in table.column_names:
            low_high = pc.min_max(table.column("trial_number"))
            numbers = (int(low_high["min"].as_py()), int(low_high["max"].as_py()))
        listed = describe(relative, data, table.num_rows, numbers)
        if self.is_local:
            stat = os.stat(self.path(relative))
            remember_checksum(self.path(relative), stat.st_size, stat.st_mtime_ns, listed.sha256)
        return listed

    def commit(self, files: Sequence[ListedFile]) -> None:
        """Append one commit line listing `files` to the manifest: the commit point.

        Local: appended and fsynced (the line is committed once its newline is on disk).
        Remote: the whole manifest is rewritten atomically (no append on object stores).
        """
        line = commit_line(files)
        if not self.exists(MANIFEST_FILE):  # a folder made without `start` (tests, tools)
            self.write_bytes(MANIFEST_FILE, header_line() + line)
            return
        if self.is_local:
            with open(self.path(MANIFEST_FILE), "ab") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            return
        self.write_bytes(MANIFEST_FILE, self.read_bytes(MANIFEST_FILE) + line)

    def write_json(self, relative: str, document: dict[str, Any]) -> None:
        self.write_bytes(relative, (json.dumps(document, indent=2) + "\n").encode("utf-8"))

    def read_bytes(self, relative: str) -> bytes:
        with self.filesystem.open_input_stream(self.path(relative)) as stream:
            return bytes(stream.read())

    def read_json(self, relative: str) -> dict[str, Any]:
        """A JSON object from the folder; a ConfigError naming the file when it is not one."""
        source = self.path(relative)
        try:
            document = json.loads(self.read_bytes(relative))
        except FileNotFoundError:
            raise ConfigError(Problem(source, "", "missing")) from None
        except (OSError, pa.ArrowException) as exc:
            raise ConfigError(Problem(source, "", f"cannot read: {exc}")) from None
        except ValueError:
            raise ConfigError(Problem(source, "", "not valid JSON (damaged?)")) from None
        if not isinstance(document, dict):
            raise ConfigError(Problem(source, "", "not a JSON object (damaged?)"))
        return document

    def exists(self, relative: str) -> bool:
        return self.filesystem.get_file_info(self.path(relative)).type != pafs.FileType.NotFound

    def part_names(self, sub: str) -> list[str]:
        """Names of the `*.parquet` entries in `sub`, hidden temporaries excluded.

        What is there, not what is committed: `dse.results.verify.committed_parts` says
        which of them the manifest lists (and checks them).
        """
        info = self.filesystem.get_file_info(self.path(sub))
        if info.type != pafs.FileType.Directory:
            return []
        entries = self.filesystem.get_file_info(pafs.FileSelector(self.path(sub)))
        return sorted(
            e.base_name for e in entries
            if e.base_name.endswith(".parquet") and not e.base_name.startswith(".")
        )

    # -- the results -----------------------------------------------------------------

    def start(self, space: SearchSpace, metadata: dict[str, Any]) -> None:
        """A new folder: copies of its input files, space.yaml, an empty manifest, then
        metadata.json.

        # NOTE: the manifest is written before metadata.json (which names it), so a folder
        # whose metadata says it has a manifest and has none was damaged after the fact.
        """
        from dse.results.inputs import collect_inputs

        copies = collect_inputs(space)  # every file the space names, read before writing
        self.makedirs()
        self.write_bytes(SPACE_FILE, space.text.encode("utf-8"))
        self.filesystem.create_dir(self.path(INPUTS_DIR), recursive=True)
        for relative, data in copies.contents.items():
            self.write_bytes(relative, data)
        self.write_bytes(MANIFEST_FILE, header_line())
        self.write_json(METADATA_FILE, {**metadata, "manifest": MANIFEST_FILE})

    def write_outcomes(
        self,
        space: SearchSpace,
        outcomes: Sequence[TrialOutcome],
        metric_names: Sequence[str] = (),
        bound_names: Sequence[str] = (),
    ) -> str:
        """One committed batch: evaluations part, trials part, then the manifest line."""
        return self.write_part(
            trials_table(space, outcomes),
            evaluations_table(outcomes, metric_names, bound_names),
        )

    def write_references(
        self,
        space: SearchSpace,
        outcomes: Sequence[TrialOutcome],
        names: Sequence[str],
    ) -> None:
        # per-workload rows first, then the chips' rows, then the manifest line (the commit)
        self.commit([
            self.write_table(REFERENCE_EVALUATIONS_FILE, evaluations_table(outcomes)),
            self.write_table(REFERENCES_FILE, trials_table(space, outcomes, references=names)),
        ])

    def remove_orphans(self) -> list[str]:
        """Ready a folder for `--resume` (under the lock): cut a torn manifest line, delete
        parts whose commit never completed and stale temporaries; returns what was removed.
        See `dse.results.verify.prepare_resume`."""
        from dse.results.verify import prepare_resume

        return prepare_resume(self)

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
        evaluations part, trials part, then the manifest line (the commit point)."""
        first = pc.min(trials.column("trial_number")).as_py()
        part = f"part-{first:08d}-{uuid.uuid4().hex[:8]}.parquet"
        written: list[ListedFile] = []
        if evaluations.num_rows:
            written.append(self.write_table(f"{EVALUATIONS_DIR}/{part}", evaluations))
        written.append(self.write_table(f"{TRIALS_DIR}/{part}", trials))
        self.commit(written)
        return part

    def finish(self, status: str, front: dict[str, Any] | None = None) -> None:
        """Record the end of a session; `front`: the front cache's entry
        (`dse.results.front.write_front`), kept until a later session replaces it."""
        metadata = self.read_json(METADATA_FILE)
        metadata["status"] = status
        if front is not None:
            metadata["front"] = front
        metadata["finished_at"] = datetime.now(UTC).isoformat()
        self.write_json(METADATA_FILE, metadata)
