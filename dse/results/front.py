"""The Pareto front of a finished search, cached in its folder for the readers.

`dse pareto` on a million-trial folder read every part (about 300) for three columns
and filtered a million points; `dse report` did the same before plotting. The driver
already holds the front when a search ends (its progress tracker keeps the non-dominated
feasible trials over all objectives), so it writes those trials' full rows to
`cache/front.parquet` and records the file in `metadata.json` under `front`:

    "front": {"file": "cache/front.parquet", "sha256": "…", "rows": 412,
              "manifest_bytes": 183412, "objectives": ["score", "power_w"],
              "trials": 1000000, "feasible": 912345}

A reader uses the cache only while it describes the folder as it is: the manifest's
committed length is still `manifest_bytes` (any later commit, e.g. a `--resume`, changes
it), the objectives are the same, and the file's SHA-256 matches. Otherwise (a killed
search, a folder from before the cache, a remote folder's mirror, a file edited by hand)
the reader computes the front from the parts as before. The file is not a committed
part: the manifest does not list it and nothing but the front readers reads it.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dse.results.layout import FRONT_FILE
from dse.results.verify import committed_parts, read_manifest
from dse.results.writer import ResultsFolder

METADATA_KEY = "front"


@dataclass(frozen=True, slots=True)
class FrontCache:
    """A valid front cache: where its rows are and the counts of the whole folder."""

    path: str
    """Local path (or filesystem path) of `cache/front.parquet`."""
    rows: int
    trials: int
    """Committed trials of the folder when the cache was written (= now: it is valid)."""
    feasible: int


def write_front(
    folder: ResultsFolder,
    front_numbers: Iterable[int],
    objectives: Sequence[str],
    feasible: int,
) -> dict[str, Any]:
    """Write the rows of `front_numbers` as the cache; returns the metadata entry.

    Reads only the parts whose manifest range can hold a front trial. Call it after the
    last commit and put the entry in metadata.json (`ResultsFolder.finish(front=...)`).
    """
    numbers = pa.array(sorted(int(n) for n in front_numbers), pa.int64())
    parts = committed_parts(folder, warn=False)
    wanted = numbers.to_pylist()
    tables = []
    for name in parts.trials:
        span = parts.trial_numbers.get(name)
        if span is not None and not _holds_any(wanted, span):
            continue
        table = pq.read_table(folder.path(name), filesystem=folder.filesystem)
        table = table.filter(pc.is_in(table.column("trial_number"), value_set=numbers))
        if table.num_rows:
            tables.append(table)
    if tables:
        rows = pa.concat_tables(tables, promote_options="default").sort_by("trial_number")
    else:
        rows = pa.table({"trial_number": pa.array([], pa.int64())})
    buffer = io.BytesIO()
    pq.write_table(rows, buffer, compression="zstd")
    data = buffer.getvalue()
    folder.filesystem.create_dir(folder.path(FRONT_FILE.rpartition("/")[0]), recursive=True)
    folder.write_bytes(FRONT_FILE, data)
    manifest = read_manifest(folder)
    trials = sum(f.rows for n, f in (manifest.files.items() if manifest else ())
                 if n in parts.trials)
    return {
        "file": FRONT_FILE,
        "sha256": hashlib.sha256(data).hexdigest(),
        "rows": rows.num_rows,
        "manifest_bytes": parts.manifest_bytes,
        "objectives": list(objectives),
        "trials": int(trials),
        "feasible": int(feasible),
    }


def _holds_any(sorted_numbers: list[int], span: tuple[int, int]) -> bool:
    import bisect

    index = bisect.bisect_left(sorted_numbers, span[0])
    return index < len(sorted_numbers) and sorted_numbers[index] <= span[1]


def read_front(
    folder: ResultsFolder, metadata: dict[str, Any], manifest_bytes: int | None
) -> FrontCache | None:
    """The folder's front cache when it still describes the folder, else None.

    `manifest_bytes`: the committed length of the manifest the caller's parts came
    from (`CommittedParts.manifest_bytes`), so the cache and the parts agree.
    """
    entry = metadata.get(METADATA_KEY)
    if not isinstance(entry, dict) or manifest_bytes is None:
        return None
    objectives = [o.get("name") for o in metadata.get("objectives", []) if isinstance(o, dict)]
    if (entry.get("file") != FRONT_FILE or entry.get("manifest_bytes") != manifest_bytes
            or entry.get("objectives") != objectives):
        return None
    counts = [entry.get(k) for k in ("rows", "trials", "feasible")]
    if not all(type(v) is int and v >= 0 for v in counts):
        return None
    rows, trials, feasible = (int(v) for v in counts)  # type: ignore[arg-type]
    try:
        data = folder.read_bytes(FRONT_FILE)
    except (OSError, pa.ArrowException):
        return None
    if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        return None
    return FrontCache(folder.path(FRONT_FILE), rows, trials, feasible)

