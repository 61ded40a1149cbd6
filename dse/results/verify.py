"""Checking a results folder before reading or resuming it.

Every reader (`dse.results.reader`, `dse.browse.results`) reads the parts
`committed_parts` returns: exactly the files `manifest.jsonl` lists, each checked for
presence, size and SHA-256. A listed file that is missing, of another size, of other
content or not a regular file is a ConfigError naming it (exit 2, one line per file); a
`*.parquet` the manifest does not list (copied by hand, or left by a commit that never
completed) is skipped with a `ResultsFolderWarning`. A folder without a manifest whose
metadata does not name one was written before manifests existed: its parts are listed as
they are found, unverified, with a warning.

`--resume` calls `verify_resumable` before it locks the folder or starts Ray (metadata,
journal, manifest and parts must all be sound), `check_journal_agrees` with the journal's
trials (a trial the journal calls finished must have a committed row, and every committed
row a trial in the journal), then, under the lock, `prepare_resume`.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from dse.errors import ConfigError, Problem
from dse.results.layout import (
    EVALUATIONS_DIR,
    FORMAT_VERSION,
    JOURNAL_FILE,
    MANIFEST_FILE,
    METADATA_FILE,
    REFERENCE_EVALUATIONS_FILE,
    REFERENCES_FILE,
    TRIALS_DIR,
)
from dse.results.manifest import (
    WRITER_PART_NAME,
    ListedFile,
    Manifest,
    ResultsFolderWarning,
    commit_line,
    describe,
    header_line,
    known_checksum,
    parse_manifest,
    remember_checksum,
)
from dse.results.writer import ResultsFolder

_HASH_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class CommittedParts:
    """The files a reader may read, relative to the folder, each checked (unless legacy)."""

    trials: tuple[str, ...]
    evaluations: tuple[str, ...]
    references: str | None
    reference_evaluations: str | None
    legacy: bool
    """No manifest: a folder written before manifests; parts listed as found, unchecked."""
    notes: tuple[str, ...]
    """What was skipped or read unchecked, one line each (also issued as warnings)."""
    trial_numbers: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    """Smallest and largest trial number of each listed file whose manifest entry says."""
    manifest_bytes: int | None = None
    """Committed length of the manifest these parts were read from (None: legacy)."""


def _metadata_lenient(folder: ResultsFolder) -> dict[str, Any]:
    try:
        document = json.loads(folder.read_bytes(METADATA_FILE))
    except (OSError, ValueError, pa.ArrowException):
        return {}
    return document if isinstance(document, dict) else {}


def _found_parquet(folder: ResultsFolder) -> dict[str, pafs.FileInfo]:
    """Every visible `*.parquet` in trials/, evaluations/ and the top level, by name."""
    found: dict[str, pafs.FileInfo] = {}
    for sub in (TRIALS_DIR, EVALUATIONS_DIR, ""):
        directory = folder.path(sub) if sub else folder.root
        if folder.filesystem.get_file_info(directory).type != pafs.FileType.Directory:
            continue
        for entry in folder.filesystem.get_file_info(pafs.FileSelector(directory)):
            name = entry.base_name
            if name.endswith(".parquet") and not name.startswith("."):
                found[f"{sub}/{name}" if sub else name] = entry
    return found


def read_manifest(folder: ResultsFolder) -> Manifest | None:
    """The folder's manifest; None for a legacy folder; ConfigError when it is damaged."""
    source = folder.path(MANIFEST_FILE)
    info = folder.filesystem.get_file_info(source)
    if info.type == pafs.FileType.NotFound:
        if _metadata_lenient(folder).get("manifest"):
            raise ConfigError(Problem(
                source, "", "missing, though metadata.json says this folder has one (deleted?); "
                "restore it from a copy of the folder"
            ))
        return None
    if info.type != pafs.FileType.File:
        raise ConfigError(Problem(source, "", "not a regular file (damaged?)"))
    try:
        data = folder.read_bytes(MANIFEST_FILE)
    except (OSError, pa.ArrowException) as exc:
        raise ConfigError(Problem(source, "", f"cannot read: {_reason(exc)}")) from None
    return parse_manifest(data, source)


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc).strip().splitlines()[0:1]
    return text if isinstance(text, str) else (text[0] if text else type(exc).__name__)


def _checksum(folder: ResultsFolder, path: str, info: pafs.FileInfo) -> str:
    mtime_ns = info.mtime_ns if folder.is_local else None
    if mtime_ns is not None:
        known = known_checksum(path, int(info.size), int(mtime_ns))
        if known is not None:
            return known
    digest = hashlib.sha256()
    with folder.filesystem.open_input_stream(path) as stream:
        while chunk := stream.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    sha256 = digest.hexdigest()
    if mtime_ns is not None:
        remember_checksum(path, int(info.size), int(mtime_ns), sha256)
    return sha256


def _check_listed(folder: ResultsFolder, listed: ListedFile, info: pafs.FileInfo) -> str | None:
    """What is wrong with one listed file, or None."""
    if info.type == pafs.FileType.NotFound:
        return (f"missing, though {MANIFEST_FILE} lists it ({listed.rows} rows committed); "
                "restore it from a copy of the folder")
    if info.type != pafs.FileType.File:
        return f"not a regular file, though {MANIFEST_FILE} lists a Parquet file here"
    if info.size != listed.size_bytes:
        return (f"{info.size} bytes, but {MANIFEST_FILE} lists {listed.size_bytes} "
                "(cut short, or replaced by another file)")
    try:
        sha256 = _checksum(folder, info.path, info)
    except (OSError, pa.ArrowException) as exc:
        return f"cannot read: {_reason(exc)}"
    if sha256 != listed.sha256:
        return f"content differs from its {MANIFEST_FILE} checksum (damaged or replaced)"
    return None


def committed_parts(folder: ResultsFolder, warn: bool = True) -> CommittedParts:
    """The committed, checked files of `folder`; ConfigError listing every damaged one."""
    manifest = read_manifest(folder)
    found = _found_parquet(folder)
    notes: list[str] = []
    if manifest is None:
        notes.append(
            f"{folder.uri}: no {MANIFEST_FILE} (written by a dse before manifests): its "
            "parts are read as found, without size or checksum checks"
        )
        listed = sorted(n for n, info in found.items() if info.type == pafs.FileType.File)
        notes += [f"{folder.path(n)}: not a regular file, ignored"
                  for n in sorted(set(found) - set(listed))]
        _check_legacy_footers(folder, listed)
    else:
        listed = list(manifest.files)
        infos = folder.filesystem.get_file_info([folder.path(name) for name in listed])
        problems = [
            Problem(folder.path(name), "", message)
            for name, info in zip(listed, infos, strict=True)
            if (message := _check_listed(folder, manifest.files[name], info)) is not None
        ]
        if problems:
            raise ConfigError(problems)
        notes += [
            f"{folder.path(name)}: not in {MANIFEST_FILE}, ignored (copied in by hand, or "
            "left by a search killed before it committed the part)"
            for name in sorted(set(found) - set(manifest.files))
        ]
    if warn:
        for note in notes:
            warnings.warn(note, ResultsFolderWarning, stacklevel=3)
    return CommittedParts(
        trials=tuple(sorted(n for n in listed if n.startswith(f"{TRIALS_DIR}/"))),
        evaluations=tuple(sorted(n for n in listed if n.startswith(f"{EVALUATIONS_DIR}/"))),
        references=REFERENCES_FILE if REFERENCES_FILE in listed else None,
        reference_evaluations=(
            REFERENCE_EVALUATIONS_FILE if REFERENCE_EVALUATIONS_FILE in listed else None
        ),
        legacy=manifest is None,
        notes=tuple(notes),
        trial_numbers={
            name: entry.trial_numbers for name, entry in manifest.files.items()
            if entry.trial_numbers is not None
        } if manifest is not None else {},
        manifest_bytes=manifest.committed_bytes if manifest is not None else None,
    )


def _check_legacy_footers(folder: ResultsFolder, names: Iterable[str]) -> None:
    """Each unchecked part must at least be a whole Parquet file (its footer readable)."""
    problems = []
    for name in names:
        try:
            pq.read_metadata(folder.path(name), filesystem=folder.filesystem)
        except (OSError, ValueError, pa.ArrowException):
            problems.append(Problem(folder.path(name), "", "not a readable Parquet file (cut "
                                    "short or damaged?); move it out of the folder"))
    if problems:
        raise ConfigError(problems)


# --- resume -------------------------------------------------------------------------------


def _trial_numbers(folder: ResultsFolder, names: Iterable[str]) -> dict[str, list[int]]:
    """trial_number column of each part; ConfigError naming every part that cannot be read."""
    numbers: dict[str, list[int]] = {}
    problems: list[Problem] = []
    for name in names:
        try:
            table = pq.read_table(folder.path(name), columns=["trial_number"],
                                  filesystem=folder.filesystem)
            numbers[name] = [int(n) for n in table.column("trial_number").to_pylist()]
        except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
            problems.append(Problem(
                folder.path(name), "", f"not a readable Parquet part with trial numbers "
                f"({_reason(exc)})"
            ))
    if problems:
        raise ConfigError(problems)
    return numbers


def _check_no_duplicates(folder: ResultsFolder, numbers: Mapping[str, list[int]]) -> None:
    owner: dict[int, str] = {}
    problems: list[Problem] = []
    for name, trials in numbers.items():
        repeated = sorted({n for n in trials if n in owner})
        if repeated:
            problems.append(Problem(
                folder.path(name), "", f"holds trial {repeated[0]} (and {len(repeated) - 1} "
                f"more) already in {owner[repeated[0]]}: a copied part? move it out of the folder"
            ))
        for n in trials:
            owner.setdefault(n, name)
    if problems:
        raise ConfigError(problems)


def verify_resumable(folder: ResultsFolder, space_sha256: str, space_source: str,
                     journal_required: bool = True) -> dict[str, Any]:
    """Everything `--resume` needs, checked before anything is written; returns metadata.

    ConfigError (with every problem found) when metadata.json is missing or damaged, the
    search-space file differs from the one the folder was started with, the journal is
    missing (when `journal_required`), the manifest is damaged, or a committed part is
    missing or damaged.
    """
    source = folder.path(METADATA_FILE)
    if not folder.exists(METADATA_FILE):
        raise ConfigError(Problem(folder.uri, "", "nothing to resume: no metadata.json in this "
                                  "folder"))
    try:
        metadata = json.loads(folder.read_bytes(METADATA_FILE))
    except (OSError, pa.ArrowException) as exc:
        raise ConfigError(Problem(source, "", f"cannot read: {_reason(exc)}")) from None
    except (ValueError, UnicodeDecodeError):
        raise ConfigError(Problem(source, "", "not valid JSON (damaged?); the search cannot "
                                  "be resumed without it")) from None
    if not isinstance(metadata, dict):
        raise ConfigError(Problem(source, "", "not a JSON object (damaged?); the search "
                                  "cannot be resumed without it"))
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ConfigError(Problem(source, "format_version", f"results format "
                                  f"{metadata.get('format_version')!r} is not the one this dse "
                                  f"writes ({FORMAT_VERSION}); resume with the dse that wrote it"))
    if metadata.get("space_sha256") != space_sha256:
        raise ConfigError(Problem(
            space_source, "", f"differs from the search-space file {folder.uri} was started "
            "with (its copy is OUT/space.yaml); resume with that file or use a new folder"
        ))
    journal_found = folder.journal_path.is_file() or (
        not folder.is_local and folder.exists(JOURNAL_FILE)
    )
    if journal_required and not journal_found:
        raise ConfigError(Problem(
            folder.path(JOURNAL_FILE), "", "missing: a search cannot be resumed without its "
            "Optuna journal (its results can still be browsed: dse pareto)"
        ))
    parts = committed_parts(folder, warn=False)
    if parts.legacy:
        _check_no_duplicates(folder, _trial_numbers(folder, parts.trials))
    metadata["manifest"] = MANIFEST_FILE  # prepare_resume writes one for a legacy folder
    return metadata


def committed_trial_numbers(folder: ResultsFolder) -> set[int]:
    parts = committed_parts(folder, warn=False)
    return {n for trials in _trial_numbers(folder, parts.trials).values() for n in trials}


def check_journal_agrees(folder: ResultsFolder, journal_trials: Mapping[int, bool],
                         journal_may_lag: bool = False) -> None:
    """The journal (trial number -> finished?) and the committed rows must agree.

    Every trial the journal calls finished was committed first (both driver loops record
    a trial as finished only after its manifest line), so one without a row means
    committed rows were lost. A committed row the journal does not know means the journal
    is not this folder's, unless `journal_may_lag` (the steady-state loop records trials
    after their rows and rebuilds missing records from them).
    """
    committed = committed_trial_numbers(folder)
    lost = sorted(n for n, finished in journal_trials.items() if finished and n not in committed)
    unknown = [] if journal_may_lag else sorted(committed - set(journal_trials))
    problems = []
    if lost:
        problems.append(Problem(
            folder.uri, "", f"{len(lost)} trial(s) the journal records as finished have no "
            f"committed row (first: trial {lost[0]}): committed results were deleted or the "
            "manifest was damaged; restore them from a copy, or search again in a new folder"
        ))
    if unknown:
        problems.append(Problem(
            folder.path(JOURNAL_FILE), "", f"knows nothing of {len(unknown)} committed "
            f"trial(s) (first: trial {unknown[0]}): it is not this folder's journal, or was "
            "cut short; restore it from a copy, or search again in a new folder"
        ))
    if problems:
        raise ConfigError(problems)


def prepare_resume(folder: ResultsFolder) -> list[str]:
    """Under the folder lock, before the resumed search writes: cut a torn last manifest
    line, adopt a legacy folder's parts into a new manifest, delete the writer's own parts
    whose commit never completed, and stale temporaries. Returns what was removed.

    An unlisted part is deleted only when its name is one the writer gives and none of
    its trials is committed: it is what a killed commit leaves, and its trials are run
    again. Anything else unlisted (a copy) is left where it is, and readers ignore it.
    """
    removed: list[str] = []
    manifest = read_manifest(folder)
    if manifest is None:
        removed += _adopt_legacy_parts(folder)
        manifest = read_manifest(folder)
        assert manifest is not None
    elif manifest.torn_bytes:
        data = folder.read_bytes(MANIFEST_FILE)[: manifest.committed_bytes]
        folder.write_bytes(MANIFEST_FILE, data)
        removed.append(f"{MANIFEST_FILE}: {manifest.torn_bytes} bytes of an unfinished commit")
    committed = committed_trial_numbers(folder)
    found = _found_parquet(folder)
    for name, info in sorted(found.items()):
        if name in manifest.files or info.type != pafs.FileType.File:
            continue
        if "/" not in name or not WRITER_PART_NAME.fullmatch(name.split("/", 1)[1]):
            continue
        try:
            numbers = _trial_numbers(folder, [name])[name]
        except ConfigError:
            continue
        if not committed.intersection(numbers):
            folder.filesystem.delete_file(folder.path(name))
            removed.append(name)
    for sub in ("", TRIALS_DIR, EVALUATIONS_DIR):
        directory = folder.path(sub) if sub else folder.root
        if folder.filesystem.get_file_info(directory).type != pafs.FileType.Directory:
            continue
        for entry in folder.filesystem.get_file_info(pafs.FileSelector(directory)):
            if entry.base_name.startswith(".") and entry.base_name.endswith(".tmp"):
                folder.filesystem.delete_file(entry.path)
                removed.append(entry.path)
    return removed


def _adopt_legacy_parts(folder: ResultsFolder) -> list[str]:
    """A manifest for a folder written before manifests: list its parts as they are.

    Evaluations parts without their trials part (a crash between the two, in the old
    commit order) are deleted first, as the old resume did.
    """
    removed: list[str] = []
    found = _found_parquet(folder)
    trials = {n.split("/", 1)[1] for n in found if n.startswith(f"{TRIALS_DIR}/")}
    for name in sorted(found):
        if name.startswith(f"{EVALUATIONS_DIR}/") and name.split("/", 1)[1] not in trials:
            folder.filesystem.delete_file(folder.path(name))
            removed.append(name)
            del found[name]
    adopted: list[ListedFile] = []
    for name in sorted(found):
        data = folder.read_bytes(name)
        rows = pq.ParquetFile(pa.BufferReader(data)).metadata.num_rows
        adopted.append(describe(name, data, rows))
    text = header_line() + (commit_line(adopted) if adopted else b"")
    folder.write_bytes(MANIFEST_FILE, text)
    return removed
