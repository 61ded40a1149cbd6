"""The manifest of a results folder: which Parquet files a search committed, with checksums.

`OUT/manifest.jsonl` is a JSON-lines file. Its first line names the format; every other
line is one commit: the files the commit wrote, each with its size in bytes, its SHA-256
and its row count:

    {"dse_results_manifest": 1}
    {"commit": {"evaluations/part-00000000-1a2b3c4d.parquet":
                    {"bytes": 40213, "sha256": "…", "rows": 256},
                "trials/part-00000000-1a2b3c4d.parquet":
                    {"bytes": 18022, "sha256": "…", "rows": 64}}}

(each record on one line in the file). A reader reads exactly the files the manifest lists, after
checking each one's size and checksum; a `part-*.parquet` it does not list (a file copied
by hand, or a part whose commit never completed) is ignored with a warning.

# NOTE: an append-only log, not one JSON document rewritten at every commit: a
# million-trial search commits about 15,000 times, and rewriting a manifest of 30,000
# entries (4.5 MB, 0.2 s to encode on the 2-core machine this was written on) at each
# commit would cost the search more time than its evaluations. Appending one line and
# fsyncing it costs the same at the first commit and the last. A line is committed once
# it ends with its newline; a last line without one is a commit a killed driver never
# finished, ignored by readers and cut off by the next `--resume` (as the Optuna journal's
# torn last record is). Remote filesystems cannot append, so there the whole file is
# rewritten atomically at each commit, as the journal copy already is.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dse.errors import ConfigError, Problem, ResultsFolderWarning

__all__ = ["ResultsFolderWarning"]  # defined in dse.errors so the CLI can format it cheaply

MANIFEST_VERSION = 1
HEADER_KEY = "dse_results_manifest"

WRITER_PART_NAME = re.compile(r"part-\d{8}-[0-9a-f]{8}\.parquet")
"""The names `ResultsFolder.write_outcomes` gives its parts (a copy by hand rarely has one)."""


@dataclass(frozen=True, slots=True)
class ListedFile:
    """One committed file: its path inside the folder, size, SHA-256 and row count."""

    name: str
    """Relative to the folder, `/`-separated: `trials/part-….parquet`, `references.parquet`."""
    size_bytes: int
    sha256: str
    rows: int
    trial_numbers: tuple[int, int] | None = None
    """Smallest and largest `trial_number` in the file (absent in older manifests), so a
    reader looking for a few trials opens only the parts that can hold them."""


def describe(
    name: str, data: bytes, rows: int, trial_numbers: tuple[int, int] | None = None
) -> ListedFile:
    """The manifest entry of `data`, about to be written as `name`."""
    return ListedFile(name, len(data), hashlib.sha256(data).hexdigest(), rows, trial_numbers)


def _record(f: ListedFile) -> dict[str, Any]:
    record: dict[str, Any] = {"bytes": f.size_bytes, "sha256": f.sha256, "rows": f.rows}
    if f.trial_numbers is not None:
        record["trials"] = list(f.trial_numbers)
    return record


def header_line() -> bytes:
    return (json.dumps({HEADER_KEY: MANIFEST_VERSION}) + "\n").encode("utf-8")


def commit_line(files: Sequence[ListedFile]) -> bytes:
    """One commit record, newline-terminated (the newline is what commits it)."""
    record = {"commit": {f.name: _record(f) for f in files}}
    return (json.dumps(record, separators=(",", ":")) + "\n").encode("utf-8")


@dataclass(frozen=True, slots=True)
class Manifest:
    """A parsed manifest: the committed files in commit order."""

    files: Mapping[str, ListedFile]
    committed_bytes: int
    """Length of the complete lines; anything after it is a torn, uncommitted record."""
    torn_bytes: int


_SHA256 = re.compile(r"[0-9a-f]{64}")
_LISTABLE = re.compile(
    r"(trials|evaluations)/[^/.][^/]*\.parquet|references\.parquet|reference_evaluations\.parquet"
)
_REWRITTEN = frozenset({"references.parquet", "reference_evaluations.parquet"})
"""Files a resume may commit again (the reference chips, when their first commit was lost)."""


def _entry(name: str, value: Any) -> ListedFile | None:
    if not isinstance(name, str) or not _LISTABLE.fullmatch(name):
        return None
    if not isinstance(value, dict) or not (
        {"bytes", "sha256", "rows"} <= set(value) <= {"bytes", "sha256", "rows", "trials"}
    ):
        return None
    size, digest, rows = value["bytes"], value["sha256"], value["rows"]
    if not all(type(v) is int and v >= 0 for v in (size, rows)):
        return None
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        return None
    numbers = value.get("trials")
    if numbers is not None and not (
        isinstance(numbers, list) and len(numbers) == 2
        and all(type(v) is int for v in numbers) and numbers[0] <= numbers[1]
    ):
        return None
    return ListedFile(name, size, digest, rows, tuple(numbers) if numbers else None)


def parse_manifest(data: bytes, source: str) -> Manifest:
    """The committed files `data` lists; a damaged line is a ConfigError naming it.

    A last line without its newline is a commit that never completed (not an error).
    """
    end = data.rfind(b"\n") + 1
    committed, torn = data[:end], data[end:]
    lines = committed.split(b"\n")[:-1] if committed else []

    def damaged(number: int, what: str) -> ConfigError:
        return ConfigError(Problem(source, "", f"line {number}: {what} (damaged or edited?)"))

    if not lines:
        raise ConfigError(Problem(
            source, "", "empty or cut short: not even its first line is there (damaged?)"
        ))
    try:
        head = json.loads(lines[0])
    except (ValueError, UnicodeDecodeError):
        head = None
    if not isinstance(head, dict) or HEADER_KEY not in head:
        raise damaged(1, "not a dse results manifest")
    if head[HEADER_KEY] != MANIFEST_VERSION:
        raise ConfigError(Problem(
            source, "", f"manifest version {head[HEADER_KEY]!r} is not the one this dse "
            f"reads ({MANIFEST_VERSION}); open the folder with the dse version that wrote it"
        ))
    files: dict[str, ListedFile] = {}
    for number, line in enumerate(lines[1:], start=2):
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            raise damaged(number, "not valid JSON") from None
        commit = record.get("commit") if isinstance(record, dict) else None
        if not isinstance(commit, dict) or not commit or len(record) != 1:
            raise damaged(number, "not a commit record")
        for name, value in commit.items():
            entry = _entry(name, value)
            if entry is None:
                raise damaged(number, f"bad entry for {name!r}")
            if name in files and name not in _REWRITTEN:
                raise damaged(number, f"{name} is listed twice")
            files[name] = entry
    return Manifest(files, len(committed), len(torn))


# --- checksums, computed once per file state in a process --------------------------------

_KNOWN: dict[tuple[str, int, int], str] = {}
"""(local path, size, mtime_ns) -> SHA-256 of the file in that state."""


def remember_checksum(path: str, size_bytes: int, mtime_ns: int, sha256: str) -> None:
    """Record a file's checksum (the writer knows it: it hashed the bytes it wrote)."""
    _KNOWN[(path, size_bytes, mtime_ns)] = sha256


def known_checksum(path: str, size_bytes: int, mtime_ns: int) -> str | None:
    # NOTE: keyed by size and nanosecond mtime, so a file replaced or edited in place
    # (which moves its mtime) is hashed again; `dse browse` opens the folder at every
    # request, and hashing a million-trial folder each time would make the page crawl.
    return _KNOWN.get((path, size_bytes, mtime_ns))
