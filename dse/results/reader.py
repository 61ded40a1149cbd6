"""Reading a results folder into pandas: exactly the parts the manifest commits.

Each call checks the folder first (`dse.results.verify.committed_parts`): a damaged or
missing committed part is a ConfigError naming it; a part the manifest does not list is
skipped with a `ResultsFolderWarning`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from dse.errors import ConfigError, Problem
from dse.results.layout import METADATA_FILE
from dse.results.verify import committed_parts
from dse.results.writer import ResultsFolder

if TYPE_CHECKING:
    import pandas as pd

# NOTE: pandas is imported by the functions that return frames, not here: importing it
# took about 1.7 s of the 3 s `dse pareto` spent importing (cProfile, 2-core machine), and
# the browse commands read through duckdb and never need it.


def _open(out: str | Path | ResultsFolder) -> ResultsFolder:
    return out if isinstance(out, ResultsFolder) else ResultsFolder.open(out)


def _read_tables(folder: ResultsFolder, names: tuple[str, ...]) -> pd.DataFrame:
    import pandas as pd

    if not names:
        return pd.DataFrame()
    tables = []
    for name in names:
        try:
            tables.append(pq.read_table(folder.path(name), filesystem=folder.filesystem))
        except (OSError, pa.ArrowException) as exc:
            # only a legacy folder's unchecked parts get here (a checked one is what we wrote)
            raise ConfigError(Problem(
                folder.path(name), "", f"not a readable Parquet file ({exc})"
            )) from None
    # NOTE: evaluations parts may carry different metric columns (an evaluator that
    # reports a new metric later); unify by name, missing columns read as null.
    table = pa.concat_tables(tables, promote_options="default")
    return table.to_pandas()


def read_trials(out: str | Path | ResultsFolder) -> pd.DataFrame:
    """Every committed trial row, sorted by trial_number."""
    folder = _open(out)
    frame = _read_tables(folder, committed_parts(folder).trials)
    if frame.empty:
        return frame
    return frame.sort_values("trial_number").reset_index(drop=True)


def read_evaluations(out: str | Path | ResultsFolder) -> pd.DataFrame:
    """Every committed (trial, workload) row, sorted by trial_number and workload."""
    folder = _open(out)
    frame = _read_tables(folder, committed_parts(folder).evaluations)
    if frame.empty:
        return frame
    return frame.sort_values(["trial_number", "workload"]).reset_index(drop=True)


def read_references(out: str | Path | ResultsFolder) -> pd.DataFrame:
    """The reference chips' trial-like rows (trial_number -1 - i, `reference` = preset)."""
    folder = _open(out)
    name = committed_parts(folder).references
    return _read_tables(folder, (name,) if name else ())


def read_reference_evaluations(out: str | Path | ResultsFolder) -> pd.DataFrame:
    """The reference chips' (trial, workload) rows."""
    folder = _open(out)
    name = committed_parts(folder).reference_evaluations
    return _read_tables(folder, (name,) if name else ())


def read_metadata(out: str | Path | ResultsFolder) -> dict[str, Any]:
    """metadata.json as a dict; a ConfigError when it is missing or not a JSON object."""
    return _open(out).read_json(METADATA_FILE)
