"""The results-folder layout (format_version 1): the one definition of its file names.

    OUT/metadata.json                 what was searched, how, when, and the status
    OUT/space.yaml                    the search-space file exactly as given
    OUT/inputs/                       copies of every file the search read, listed in
                                      inputs/inputs.json; inputs/space.yaml reads them
    OUT/study.journal                 the Optuna journal storage
    OUT/trials/part-*.parquet         one row per finished trial
    OUT/evaluations/part-*.parquet    one row per (trial, workload)
    OUT/references.parquet            reference chips, trial_number = -1 - i
    OUT/reference_evaluations.parquet the reference chips' (trial, workload) rows
    OUT/manifest.jsonl                the committed Parquet files with sizes and SHA-256
    OUT/cache/front.parquet           the Pareto front a finished search cached
    OUT/.dse-driver.lock              held by the driver while a search writes

The writer (`dse.results.writer`, columns in `dse.results.schema`), the checks
(`dse.results.verify`) and the readers (`dse.results.reader`, `dse.browse.results`) all
take these names from here. Imports nothing: a reader need not load pyarrow or the
search-space model to find a file.
"""

from __future__ import annotations

FORMAT_VERSION = 1
"""The results-folder format dse writes and reads; incompatible changes bump it."""

METADATA_FILE = "metadata.json"
SPACE_FILE = "space.yaml"
JOURNAL_FILE = "study.journal"
TRIALS_DIR = "trials"
EVALUATIONS_DIR = "evaluations"
REFERENCES_FILE = "references.parquet"
REFERENCE_EVALUATIONS_FILE = "reference_evaluations.parquet"
MANIFEST_FILE = "manifest.jsonl"
FRONT_FILE = "cache/front.parquet"
INPUTS_DIR = "inputs"
SELF_CONTAINED_SPACE = f"{INPUTS_DIR}/space.yaml"
INPUTS_LIST = f"{INPUTS_DIR}/inputs.json"
LOCK_FILE = ".dse-driver.lock"
