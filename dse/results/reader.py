"""Reading a results folder into pandas (pyarrow.dataset; hidden temporaries are skipped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from dse.results.schema import (
    EVALUATIONS_DIR,
    METADATA_FILE,
    REFERENCE_EVALUATIONS_FILE,
    REFERENCES_FILE,
    TRIALS_DIR,
)
from dse.results.writer import ResultsFolder


def _read_parts(folder: ResultsFolder, sub: str) -> pd.DataFrame:
    names = folder.part_names(sub)
    if not names:
        return pd.DataFrame()
    paths = [folder.path(sub, name) for name in names]
    # NOTE: evaluations parts may carry different metric columns (an evaluator that
    # reports a new metric later); unify by name, missing columns read as null.
    tables = [ds.dataset(p, format="parquet", filesystem=folder.filesystem).to_table()
              for p in paths]
    table = pa.concat_tables(tables, promote_options="default")
    return table.to_pandas()


def read_trials(out: str | Path | ResultsFolder) -> pd.DataFrame:
    """Every committed trial row, sorted by trial_number."""
    folder = out if isinstance(out, ResultsFolder) else ResultsFolder.open(out)
    frame = _read_parts(folder, TRIALS_DIR)
    if frame.empty:
        return frame
    return frame.sort_values("trial_number").reset_index(drop=True)


def read_evaluations(out: str | Path | ResultsFolder) -> pd.DataFrame:
    folder = out if isinstance(out, ResultsFolder) else ResultsFolder.open(out)
    frame = _read_parts(folder, EVALUATIONS_DIR)
    if frame.empty:
        return frame
    return frame.sort_values(["trial_number", "workload"]).reset_index(drop=True)


def _read_single(out: str | Path | ResultsFolder, name: str) -> pd.DataFrame:
    folder = out if isinstance(out, ResultsFolder) else ResultsFolder.open(out)
    if not folder.exists(name):
        return pd.DataFrame()
    return ds.dataset(folder.path(name), format="parquet", filesystem=folder.filesystem
                      ).to_table().to_pandas()


def read_references(out: str | Path | ResultsFolder) -> pd.DataFrame:
    """The reference chips' trial-like rows (trial_number -1 - i, `reference` = preset)."""
    return _read_single(out, REFERENCES_FILE)


def read_reference_evaluations(out: str | Path | ResultsFolder) -> pd.DataFrame:
    """The reference chips' (trial, workload) rows."""
    return _read_single(out, REFERENCE_EVALUATIONS_FILE)


def read_metadata(out: str | Path | ResultsFolder) -> dict[str, Any]:
    folder = out if isinstance(out, ResultsFolder) else ResultsFolder.open(out)
    return folder.read_json(METADATA_FILE)
