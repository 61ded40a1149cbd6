"""Damaged results folders: readers and `--resume` name the damage (exit 2, one line each,
no traceback) and change nothing already written.

One real search (quickstart, 48 trials in three commits) is copied for every case, then
damaged the way a disk, a careless `cp` or an editor would damage it. Each case runs the
real `dse pareto` and `dse search --resume` commands (in this process, through Typer's
runner) and checks the exit code, the exact `error:`/`warning:` lines and that every
file of the folder is byte for byte what it was before the command.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from dse.browse.pareto import pareto_front
from dse.browse.results import open_results
from dse.cli import app
from dse.errors import ConfigError
from dse.results import ResultsFolder, read_trials
from dse.results.verify import check_journal_agrees, verify_resumable
from dse.runtime import SearchOptions, run_search
from dse.space import load_space

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "search_spaces" / "quickstart.yaml"
BUDGET = 48
M = "manifest.jsonl"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, _ray_session: None) -> Path:
    """A finished real search: 48 trials committed in three parts, two reference chips."""
    import ray

    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, include_dashboard=False,
                 logging_level="ERROR", log_to_driver=False)
    out = tmp_path_factory.mktemp("damaged") / "pristine"
    run_search(load_space(QUICKSTART), SearchOptions(
        out=str(out), trials=BUDGET, batch_size=16, designs_per_task=8,
    ))
    assert len(list((out / "trials").iterdir())) >= 2
    return out


@dataclass(frozen=True)
class Names:
    """Paths in one copy of the folder, for the expected messages."""

    out: Path
    trials: list[str]
    evaluations: list[str]
    rows: dict[str, int] = field(default_factory=dict)
    first: dict[str, int] = field(default_factory=dict)
    """Lowest trial number in each trials part."""
    last_commit: tuple[str, ...] = ()
    """The files the manifest's last line lists."""

    def __getitem__(self, key: str) -> str:
        return str(self.out / key)


def _names(out: Path) -> Names:
    lines = (out / M).read_text().splitlines()[1:]
    listed = {name: entry for line in lines for name, entry in json.loads(line)["commit"].items()}
    trials = sorted(n for n in listed if n.startswith("trials/"))
    return Names(
        out,
        trials=trials,
        evaluations=sorted(n for n in listed if n.startswith("evaluations/")),
        rows={n: e["rows"] for n, e in listed.items()},
        first={n: min(pq.read_table(out / n, columns=["trial_number"]).column(0).to_pylist())
               for n in trials},
        last_commit=tuple(sorted(json.loads(lines[-1])["commit"])),
    )


def _snapshot(out: Path) -> dict[str, str]:
    """Every file below `out` (hidden ones too) -> SHA-256; folders and odd files by kind."""
    found: dict[str, str] = {}
    for path in sorted(out.rglob("*")):
        key = str(path.relative_to(out))
        if path.is_symlink() or not path.is_file():
            found[key] = "dir" if path.is_dir() else "other"
        else:
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@dataclass(frozen=True)
class Run:
    exit_code: int
    lines: list[str]
    """The `error:` and `warning:` lines of stderr, in order."""
    stdout: str


def _dse(*args: str) -> Run:
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"dse {' '.join(args)} raised") from result.exception
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines()
             if line.startswith(("error:", "warning:"))]
    return Run(result.exit_code, lines, result.stdout)


def _pareto(out: Path) -> Run:
    return _dse("pareto", str(out), "--format", "csv")


def _resume(out: Path, trials: int = BUDGET) -> Run:
    return _dse("search", str(QUICKSTART), "--out", str(out), "--resume",
                "--trials", str(trials), "--quiet")


def _cut(path: Path, keep: int) -> None:
    path.write_bytes(path.read_bytes()[:keep])


def _prepend(path: Path, data: bytes) -> None:
    path.write_bytes(data + path.read_bytes())


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _edit_manifest_line(out: Path, number: int, edit: Callable[[str], str]) -> None:
    lines = (out / M).read_text().split("\n")
    lines[number - 1] = edit(lines[number - 1])
    (out / M).write_text("\n".join(lines))


def _make_legacy(out: Path) -> None:
    """What the dse before manifests wrote: no manifest, no `manifest` key in metadata."""
    (out / M).unlink()
    metadata = json.loads((out / "metadata.json").read_text())
    del metadata["manifest"]
    (out / "metadata.json").write_text(json.dumps(metadata))


def _last_commit(n: Names) -> tuple[str, int, int]:
    """The trials part of the manifest's last line, its row count and first trial."""
    part = next(name for name in n.last_commit if name.startswith("trials/"))
    return part, n.rows[part], n.first[part]


RESTORE = "restore it from a copy of the folder"
SHORT = "(cut short, or replaced by another file)"
DIFFERS = f"content differs from its {M} checksum (damaged or replaced)"
NOT_FILE = f"not a regular file, though {M} lists a Parquet file here"
UNLISTED = (f"not in {M}, ignored (copied in by hand, or left by a search killed before it "
            "committed the part)")
JOURNAL = "study.journal"


@dataclass(frozen=True)
class Case:
    """One damage, the lines `dse pareto` and `dse search --resume` must print."""

    name: str
    damage: Callable[[Names], None]
    pareto: Callable[[Names], list[str]]
    """Expected error/warning lines of `dse pareto` (exit 2 when any is an error)."""
    resume: Callable[[Names], list[str]]
    """Expected error lines of `--resume` (always refused: exit 2)."""


def _size(n: Names, part: str) -> int:
    return (n.out / part).stat().st_size


def _listed_size(n: Names, part: str) -> int:
    for line in (n.out / M).read_text().splitlines()[1:]:
        entry = json.loads(line)["commit"].get(part)
        if entry:
            return int(entry["bytes"])
    raise KeyError(part)


def _err(n: Names, key: str, message: str) -> str:
    return f"error: {n[key]}: {message}"


CASES: list[Case] = [
    Case(
        "truncated trials part",
        lambda n: _cut(n.out / n.trials[0], 100),
        lambda n: [_err(n, n.trials[0], f"100 bytes, but {M} lists "
                                        f"{_listed_size(n, n.trials[0])} {SHORT}")],
        lambda n: [_err(n, n.trials[0], f"100 bytes, but {M} lists "
                                        f"{_listed_size(n, n.trials[0])} {SHORT}")],
    ),
    Case(
        "empty trials part",
        lambda n: (n.out / n.trials[1]).write_bytes(b""),
        lambda n: [_err(n, n.trials[1], f"0 bytes, but {M} lists "
                                        f"{_listed_size(n, n.trials[1])} {SHORT}")],
        lambda n: [_err(n, n.trials[1], f"0 bytes, but {M} lists "
                                        f"{_listed_size(n, n.trials[1])} {SHORT}")],
    ),
    Case(
        "unreadable trials part (a folder in its place)",
        lambda n: ((n.out / n.trials[0]).unlink(), (n.out / n.trials[0]).mkdir()),
        lambda n: [_err(n, n.trials[0], NOT_FILE)],
        lambda n: [_err(n, n.trials[0], NOT_FILE)],
    ),
    Case(
        "unreadable trials part (a named pipe in its place)",
        lambda n: ((n.out / n.trials[0]).unlink(), os.mkfifo(n.out / n.trials[0])),
        lambda n: [_err(n, n.trials[0], NOT_FILE)],
        lambda n: [_err(n, n.trials[0], NOT_FILE)],
    ),
    Case(
        "deleted trials part",
        lambda n: (n.out / n.trials[-1]).unlink(),
        lambda n: [_err(n, n.trials[-1], f"missing, though {M} lists it "
                                         f"({n.rows[n.trials[-1]]} rows committed); {RESTORE}")],
        lambda n: [_err(n, n.trials[-1], f"missing, though {M} lists it "
                                         f"({n.rows[n.trials[-1]]} rows committed); {RESTORE}")],
    ),
    Case(
        "every trials part deleted",
        lambda n: [(n.out / p).unlink() for p in n.trials],
        lambda n: [_err(n, p, f"missing, though {M} lists it ({n.rows[p]} rows committed); "
                              f"{RESTORE}") for p in n.trials],
        lambda n: [_err(n, p, f"missing, though {M} lists it ({n.rows[p]} rows committed); "
                              f"{RESTORE}") for p in n.trials],
    ),
    Case(
        "one byte of a trials part changed",
        lambda n: _flip_a_byte(n.out / n.trials[0]),
        lambda n: [_err(n, n.trials[0], DIFFERS)],
        lambda n: [_err(n, n.trials[0], DIFFERS)],
    ),
    Case(
        "two trials parts swapped",
        lambda n: (
            shutil.copyfile(n.out / n.trials[0], n.out / "swap"),
            shutil.copyfile(n.out / n.trials[1], n.out / n.trials[0]),
            shutil.move(n.out / "swap", n.out / n.trials[1]),
        ),
        lambda n: [_err(n, p, f"{_size(n, p)} bytes, but {M} lists {_listed_size(n, p)} {SHORT}"
                    if _size(n, p) != _listed_size(n, p) else _err(n, p, DIFFERS))
                   for p in n.trials[:2]],
        lambda n: [_err(n, p, f"{_size(n, p)} bytes, but {M} lists {_listed_size(n, p)} {SHORT}"
                    if _size(n, p) != _listed_size(n, p) else _err(n, p, DIFFERS))
                   for p in n.trials[:2]],
    ),
    Case(
        "deleted evaluations part",
        lambda n: (n.out / n.evaluations[0]).unlink(),
        lambda n: [_err(n, n.evaluations[0], f"missing, though {M} lists it "
                                             f"({n.rows[n.evaluations[0]]} rows committed); "
                                             f"{RESTORE}")],
        lambda n: [_err(n, n.evaluations[0], f"missing, though {M} lists it "
                                             f"({n.rows[n.evaluations[0]]} rows committed); "
                                             f"{RESTORE}")],
    ),
    Case(
        "truncated evaluations part",
        lambda n: _cut(n.out / n.evaluations[1], 50),
        lambda n: [_err(n, n.evaluations[1], f"50 bytes, but {M} lists "
                                             f"{_listed_size(n, n.evaluations[1])} {SHORT}")],
        lambda n: [_err(n, n.evaluations[1], f"50 bytes, but {M} lists "
                                             f"{_listed_size(n, n.evaluations[1])} {SHORT}")],
    ),
    Case(
        "deleted references.parquet",
        lambda n: (n.out / "references.parquet").unlink(),
        lambda n: [_err(n, "references.parquet", f"missing, though {M} lists it (2 rows "
                                                 f"committed); {RESTORE}")],
        lambda n: [_err(n, "references.parquet", f"missing, though {M} lists it (2 rows "
                                                 f"committed); {RESTORE}")],
    ),
    Case(
        "garbage metadata.json",
        lambda n: (n.out / "metadata.json").write_text("{'not': json"),
        lambda n: [_err(n, "metadata.json", "not valid JSON (half-written or damaged?): "
                                            "Expecting property name enclosed in double "
                                            "quotes at line 1")],
        lambda n: [_err(n, "metadata.json", "not valid JSON (damaged?); the search cannot be "
                                            "resumed without it")],
    ),
    Case(
        "metadata.json not an object",
        lambda n: (n.out / "metadata.json").write_text("[1, 2]"),
        lambda n: [_err(n, "metadata.json", "must be a JSON object")],
        lambda n: [_err(n, "metadata.json", "not a JSON object (damaged?); the search cannot "
                                            "be resumed without it")],
    ),
    Case(
        "deleted metadata.json",
        lambda n: (n.out / "metadata.json").unlink(),
        lambda n: [f"error: {n.out}: no metadata.json: not a dse results folder, or one "
                   "written by a version of dse older than results format 1"],
        lambda n: [f"error: {n.out}: nothing to resume: no metadata.json in this folder"],
    ),
    Case(
        "garbage journal",
        lambda n: _prepend(n.out / JOURNAL, b"not a journal\n"),
        lambda n: [],
        lambda n: [_err(n, JOURNAL, "not a readable Optuna journal (Expecting value: line 1 "
                                    f"column 1 (char 0)): the search in {n.out} cannot be "
                                    "resumed; its results can still be browsed")],
    ),
    Case(
        "torn manifest (its last commit line cut in half)",
        lambda n: _cut(n.out / M, (n.out / M).stat().st_size - 60),
        lambda n: [f"warning: {n[p]}: {UNLISTED}" for p in n.last_commit],
        lambda n: [f"error: {n.out}: {_last_commit(n)[1]} trial(s) the journal records as "
                   f"finished have no committed row (first: trial {_last_commit(n)[2]}): "
                   "committed results were deleted or the manifest was damaged; restore them "
                   "from a copy, or search again in a new folder"],
    ),
    Case(
        "garbage line inside the manifest",
        lambda n: _edit_manifest_line(n.out, 3, lambda line: line[: len(line) // 2]),
        lambda n: [_err(n, M, "line 3: not valid JSON (damaged or edited?)")],
        lambda n: [_err(n, M, "line 3: not valid JSON (damaged or edited?)")],
    ),
    Case(
        "deleted manifest",
        lambda n: (n.out / M).unlink(),
        lambda n: [_err(n, M, "missing, though metadata.json says this folder has one "
                              f"(deleted?); {RESTORE}")],
        lambda n: [_err(n, M, "missing, though metadata.json says this folder has one "
                              f"(deleted?); {RESTORE}")],
    ),
    Case(
        "empty manifest",
        lambda n: (n.out / M).write_bytes(b""),
        lambda n: [_err(n, M, "empty or cut short: not even its first line is there "
                              "(damaged?)")],
        lambda n: [_err(n, M, "empty or cut short: not even its first line is there "
                              "(damaged?)")],
    ),
    Case(
        "manifest with another file's header",
        lambda n: _edit_manifest_line(n.out, 1, lambda line: '{"hello": 1}'),
        lambda n: [_err(n, M, "line 1: not a dse results manifest (damaged or edited?)")],
        lambda n: [_err(n, M, "line 1: not a dse results manifest (damaged or edited?)")],
    ),
    Case(
        "manifest lists another size than the part's (manifest/part mismatch)",
        lambda n: _edit_manifest_line(n.out, 3, lambda s: s.replace('"bytes":', '"bytes":1', 1)),
        lambda n: [_err(n, p, f"{_size(n, p)} bytes, but {M} lists {_listed_size(n, p)} {SHORT}")
                   for p in sorted(json.loads((n.out / M).read_text().splitlines()[2])["commit"])
                   [:1]],
        lambda n: [_err(n, p, f"{_size(n, p)} bytes, but {M} lists {_listed_size(n, p)} {SHORT}")
                   for p in sorted(json.loads((n.out / M).read_text().splitlines()[2])["commit"])
                   [:1]],
    ),
    Case(
        "manifest entry with a bad checksum field",
        lambda n: _edit_manifest_line(n.out, 3, lambda s: s.replace('"sha256":"', '"sha256":"z')),
        lambda n: [_err(n, M, f"line 3: bad entry for {_first_in_line(n, 3)!r} (damaged or "
                              "edited?)")],
        lambda n: [_err(n, M, f"line 3: bad entry for {_first_in_line(n, 3)!r} (damaged or "
                              "edited?)")],
    ),
    Case(
        "renamed trials part",
        lambda n: (n.out / n.trials[0]).rename(n.out / "trials" / "part-renamed.parquet"),
        lambda n: [_err(n, n.trials[0], f"missing, though {M} lists it "
                                        f"({n.rows[n.trials[0]]} rows committed); {RESTORE}")],
        lambda n: [_err(n, n.trials[0], f"missing, though {M} lists it "
                                        f"({n.rows[n.trials[0]]} rows committed); {RESTORE}")],
    ),
    Case(
        "legacy folder (no manifest) with a truncated part",
        lambda n: (_make_legacy(n.out), _cut(n.out / n.trials[0], 100)),
        lambda n: [_err(n, n.trials[0], "not a readable Parquet file (cut short or damaged?); "
                                        "move it out of the folder")],
        lambda n: [_err(n, n.trials[0], "not a readable Parquet file (cut short or damaged?); "
                                        "move it out of the folder")],
    ),
    Case(
        "legacy folder (no manifest) with a deleted part",
        lambda n: (_make_legacy(n.out), (n.out / n.trials[0]).unlink(),
                   (n.out / n.trials[0].replace("trials/", "evaluations/")).unlink()),
        lambda n: [f"warning: {_legacy_note(n)}"],
        lambda n: [f"error: {n.out}: {n.rows[n.trials[0]]} trial(s) the journal records as "
                   f"finished have no committed row (first: trial {n.first[n.trials[0]]}): "
                   "committed results were deleted or the manifest was damaged; restore them "
                   "from a copy, or search again in a new folder"],
    ),
    Case(
        "legacy folder (no manifest) with a copied part",
        lambda n: (_make_legacy(n.out),
                   shutil.copyfile(n.out / n.trials[0], n.out / "trials" / "part-copy.parquet")),
        lambda n: [f"warning: {_legacy_note(n)}"],
        lambda n: [_err(n, "trials/part-copy.parquet", f"holds trial {n.first[n.trials[0]]} (and "
                   f"{n.rows[n.trials[0]] - 1} more) already in {n.trials[0]}: a copied part? "
                   "move it out of the folder")],
    ),
]


def _first_in_line(n: Names, number: int) -> str:
    return next(iter(json.loads(
        (n.out / M).read_text().splitlines()[number - 1].replace('"sha256":"z', '"sha256":"')
    )["commit"]))


def _legacy_note(n: Names) -> str:
    return (f"{n.out}: no {M} (written by a dse before manifests): its parts are read as "
            "found, without size or checksum checks")


@pytest.fixture
def copy_of(pristine: Path, tmp_path: Path) -> Iterator[Callable[[], Names]]:
    def make() -> Names:
        out = tmp_path / "out"
        shutil.copytree(pristine, out, symlinks=True)
        return _names(out)

    yield make


def test_at_least_twenty_kinds_of_damage_are_covered() -> None:
    assert len(CASES) >= 20
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_damage_is_named_and_nothing_written_changes(
    case: Case, copy_of: Callable[[], Names]
) -> None:
    names = copy_of()
    case.damage(names)
    before = _snapshot(names.out)
    expected_pareto = case.pareto(names)
    expected_resume = case.resume(names)

    browsed = _pareto(names.out)
    assert browsed.lines == expected_pareto
    refused = any(line.startswith("error:") for line in expected_pareto)
    assert browsed.exit_code == (2 if refused else 0)
    assert _snapshot(names.out) == before

    resumed = _resume(names.out)
    assert resumed.lines == expected_resume
    assert resumed.exit_code == 2
    assert _snapshot(names.out) == before  # refused before it locked or wrote anything


def test_a_copied_part_is_ignored_by_every_reader_and_resume_goes_on(
    copy_of: Callable[[], Names], ray_cluster: None
) -> None:
    names = copy_of()
    copy = names.out / "trials" / "part-copy.parquet"
    shutil.copyfile(names.out / names.trials[0], copy)
    shutil.copyfile(names.out / names.evaluations[0], names.out / "evaluations" / "x.parquet")

    browsed = _pareto(names.out)
    assert browsed.exit_code == 0
    assert browsed.lines == [f"warning: {names.out / 'evaluations' / 'x.parquet'}: {UNLISTED}",
                             f"warning: {copy}: {UNLISTED}"]
    opened = open_results(names.out)
    assert pareto_front(opened).trials_total == BUDGET  # not 48 + a copy
    with pytest.warns(UserWarning, match="part-copy.parquet: not in manifest.jsonl"):
        assert read_trials(names.out)["trial_number"].tolist() == list(range(BUDGET))

    resumed = _resume(names.out, trials=BUDGET + 16)
    assert resumed.exit_code == 0, resumed.lines
    with pytest.warns(UserWarning):
        trials = read_trials(names.out)
    assert trials["trial_number"].tolist() == list(range(BUDGET + 16))
    assert copy.exists()  # not ours to delete: left where it is, still ignored


def test_a_legacy_folder_opens_with_a_note_and_resumes_into_a_manifest(
    copy_of: Callable[[], Names], ray_cluster: None
) -> None:
    names = copy_of()
    _make_legacy(names.out)
    browsed = _pareto(names.out)
    assert browsed.exit_code == 0 and browsed.lines == [f"warning: {_legacy_note(names)}"]
    assert pareto_front(open_results(names.out)).trials_total == BUDGET

    resumed = _resume(names.out, trials=BUDGET + 16)
    assert resumed.exit_code == 0, resumed.lines
    after = _names(names.out)
    assert set(names.trials) <= set(after.trials)  # the old parts adopted, not rewritten
    assert read_trials(names.out)["trial_number"].tolist() == list(range(BUDGET + 16))
    assert json.loads((names.out / "metadata.json").read_text())["manifest"] == M
    assert _pareto(names.out).lines == []  # a manifest folder now: no note


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("foo://x", "foo://x: unknown filesystem scheme 'foo': give a local folder or a URI "
                    "pyarrow can open (s3://, gs://, hdfs://, file://)"),
        ("{file}", "{file}: is a file, not a folder: give the folder the results go in (it is "
                   "created if missing)"),
        ("{file}/below", "{file}/below: {file} is a file, so no folder can be made below it"),
    ],
    ids=["unknown scheme", "a file", "below a file"],
)
def test_an_out_that_cannot_be_a_folder_is_one_line(tmp_path: Path, out: str,
                                                     message: str) -> None:
    file = tmp_path / "hostname"
    file.write_text("precious\n")
    run = _dse("search", str(QUICKSTART), "--out", out.format(file=file), "--quiet")
    assert run.exit_code == 2
    assert run.lines == [f"error: {message.format(file=file)}"]
    assert file.read_text() == "precious\n"
    run = _dse("search", str(QUICKSTART), "--out", out.format(file=file), "--resume")
    assert run.lines == [f"error: {message.format(file=file)}"] and run.exit_code == 2


def test_a_search_whose_journal_cannot_lag_refuses_a_missing_or_foreign_journal(
    copy_of: Callable[[], Names],
) -> None:
    """Optuna's own samplers (the per-trial loop) create every trial in the journal before
    its row: without the journal, or with one that lacks committed trials, resume refuses."""
    names = copy_of()
    folder = ResultsFolder.open(names.out)
    space = load_space(QUICKSTART)
    verify_resumable(folder, space.sha256, space.source, journal_required=True)  # sound
    (names.out / JOURNAL).unlink()
    with pytest.raises(ConfigError) as missing:
        verify_resumable(folder, space.sha256, space.source, journal_required=True)
    assert [str(p) for p in missing.value.problems] == [
        f"{names[JOURNAL]}: missing: a search cannot be resumed without its Optuna journal "
        "(its results can still be browsed: dse pareto)"
    ]
    with pytest.raises(ConfigError) as foreign:
        check_journal_agrees(folder, {n: True for n in range(BUDGET, BUDGET + 5)})
    assert [str(p) for p in foreign.value.problems] == [
        f"{names.out}: 5 trial(s) the journal records as finished have no committed row "
        "(first: trial 48): committed results were deleted or the manifest was damaged; "
        "restore them from a copy, or search again in a new folder",
        f"{names[JOURNAL]}: knows nothing of {BUDGET} committed trial(s) (first: trial 0): "
        "it is not this folder's journal, or was cut short; restore it from a copy, or "
        "search again in a new folder",
    ]
    check_journal_agrees(folder, {}, journal_may_lag=True)  # the steady loop rebuilds it


def test_the_steady_state_search_rebuilds_a_missing_journal_from_its_rows(
    copy_of: Callable[[], Names], ray_cluster: None
) -> None:
    names = copy_of()
    rows = {p: (names.out / p).read_bytes() for p in names.trials}
    (names.out / JOURNAL).unlink()
    resumed = _resume(names.out)
    assert resumed.exit_code == 0, resumed.lines
    assert {p: (names.out / p).read_bytes() for p in names.trials} == rows
    assert read_trials(names.out)["trial_number"].tolist() == list(range(BUDGET))
    from dse.search.study import journal_trials

    assert journal_trials(names.out / JOURNAL, str(names.out)) == {
        n: True for n in range(BUDGET)
    }
