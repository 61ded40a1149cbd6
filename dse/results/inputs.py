"""Copies of a search's input files in its results folder, so the folder stands alone.

A search-space file names other files: its `base:` hardware, its `references:`, its
`suite:`, its `calibration:`; a suite file names included suites and its `reference:`
chip. A results folder keeps a copy of each (shipped presets and suites, named rather
than given as paths, come with dse and are not copied), so `dse show / compare / report
/ pareto` work from any directory and on another machine:

    OUT/space.yaml           the search-space file exactly as given (its SHA-256 is what
                             `--resume` compares the user's file with)
    OUT/inputs/space.yaml    the same document with every file it names pointing at a copy
    OUT/inputs/<name>.yaml   one copy per file named, suites rewritten the same way,
                             hardware files byte for byte
    OUT/inputs/inputs.json   what each copy is: role, the name as given, where it was
                             read from, and the SHA-256 of the original bytes

Paths in the rewritten files are `./<copy>`, relative to the file that names them, so
the copies load wherever the folder is (`load_results_space`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dse.config._yaml import parse_yaml_mapping
from dse.errors import ConfigError, Problem
from dse.results.layout import INPUTS_DIR, INPUTS_LIST, SELF_CONTAINED_SPACE
from dse.space import SearchSpace, _resolve_base, space_from_text


@dataclass(frozen=True, slots=True)
class InputFile:
    """One file a search read, and its copy in the results folder."""

    role: str
    """`base`, `reference`, `suite`, `suite include`, `suite reference` or
    `calibration`."""
    given: str
    """The name as written in the file that names it."""
    named_by: str
    """The copy (inside the results folder) of the file that names it."""
    source: str
    """Absolute path it was read from at search start."""
    copy: str
    """Its copy, relative to the results folder."""
    sha256: str
    """Of the original bytes (a rewritten suite copy differs from them)."""


@dataclass(slots=True)
class InputCopies:
    """What to write into the results folder: relative path -> bytes, and the list."""

    files: list[InputFile] = field(default_factory=list)
    contents: dict[str, bytes] = field(default_factory=dict)
    _by_source: dict[str, str] = field(default_factory=dict)

    def copy_name(self, source: Path) -> tuple[str, bool]:
        """The copy's path for `source`, and whether it is new (one copy per file)."""
        key = str(source)
        if key in self._by_source:
            return self._by_source[key], False
        stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in source.stem) or "file"
        candidate, counter = f"{INPUTS_DIR}/{stem}.yaml", 1
        taken = set(self._by_source.values()) | {SELF_CONTAINED_SPACE, INPUTS_LIST}
        while candidate in taken:
            counter += 1
            candidate = f"{INPUTS_DIR}/{stem}-{counter}.yaml"
        self._by_source[key] = candidate
        return candidate, True

    def listing(self) -> bytes:
        document = {"files": [asdict(f) for f in self.files]}
        return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def _read(path: Path, role: str, given: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            Problem(str(path), "", f"cannot copy the {role} file {given!r} into the results "
                    f"folder: {exc.strerror or exc}")
        ) from None


def _copy_hardware(copies: InputCopies, role: str, given: str, path: Path, named_by: str
                   ) -> str:
    name, new = copies.copy_name(path)
    if new:
        data = _read(path, role, given)
        copies.contents[name] = data
        copies.files.append(InputFile(role, given, named_by, str(path), name,
                                      hashlib.sha256(data).hexdigest()))
    return name


def _copy_suite(copies: InputCopies, role: str, given: str, path: Path, named_by: str) -> str:
    """Copy a suite file and, first, every file it names (rewritten to point at them)."""
    from evaluators.suites import resolve_in_suite

    name, new = copies.copy_name(path)
    if not new:
        return name
    data = _read(path, role, given)
    document = yaml.safe_load(data.decode("utf-8"))
    rewritten = False
    if isinstance(document, dict):
        for entry in document.get("include") or []:
            if isinstance(entry, dict) and isinstance(entry.get("suite"), str):
                resolved = resolve_in_suite(entry["suite"], path)
                if resolved != entry["suite"] or Path(resolved).is_absolute():
                    sub = _copy_suite(copies, "suite include", entry["suite"],
                                      Path(resolved), name)
                    entry["suite"] = "./" + Path(sub).name
                    rewritten = True
        reference = document.get("reference")
        if isinstance(reference, str):
            resolved = resolve_in_suite(reference, path)
            if resolved != reference or Path(resolved).is_absolute():
                chip = _copy_hardware(copies, "suite reference", reference, Path(resolved), name)
                document["reference"] = "./" + Path(chip).name
                rewritten = True
    copies.contents[name] = (
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True).encode("utf-8")
        if rewritten else data
    )
    copies.files.append(InputFile(role, given, named_by, str(path), name,
                                  hashlib.sha256(data).hexdigest()))
    return name


def _is_file(given: str, resolved: str) -> bool:
    """Whether `dse.space` read `given` as a file (a preset name comes back unchanged)."""
    return resolved != given or Path(resolved).is_absolute() or Path(resolved).is_file()


def collect_inputs(space: SearchSpace) -> InputCopies:
    """Every file the space names, read now, and the self-contained space document.

    A file that cannot be read (moved since the space was checked) is a ConfigError.
    """
    copies = InputCopies()
    document: dict[str, Any] = parse_yaml_mapping(space.text, space.source)
    directory = Path(space.directory)
    base = space.spec.base
    resolved = _resolve_base(base, directory)
    if _is_file(base, resolved):
        document["base"] = "./" + Path(
            _copy_hardware(copies, "base", base, Path(resolved).resolve(), SELF_CONTAINED_SPACE)
        ).name
    references = list(space.spec.references)
    for index, reference in enumerate(references):
        resolved = _resolve_base(reference, directory)
        if _is_file(reference, resolved):
            references[index] = "./" + Path(_copy_hardware(
                copies, "reference", reference, Path(resolved).resolve(), SELF_CONTAINED_SPACE
            )).name
    if references != list(space.spec.references):
        document["references"] = references
    if space.spec.calibration is not None:
        calibration = Path(space.spec.calibration)
        if not calibration.is_absolute():
            calibration = directory / calibration
        document["calibration"] = "./" + Path(_copy_hardware(
            copies, "calibration", space.spec.calibration, calibration.resolve(),
            SELF_CONTAINED_SPACE)).name
    if Path(space.suite).is_absolute():
        document["suite"] = "./" + Path(_copy_suite(
            copies, "suite", space.spec.suite, Path(space.suite), SELF_CONTAINED_SPACE
        )).name
    copies.contents[SELF_CONTAINED_SPACE] = yaml.safe_dump(
        document, sort_keys=False, allow_unicode=True
    ).encode("utf-8")
    copies.contents[INPUTS_LIST] = copies.listing()
    return copies


def has_copies(root: Path) -> bool:
    return (root / SELF_CONTAINED_SPACE).is_file()


def load_results_space(root: Path) -> SearchSpace:
    """The search's space, loaded from the copies in the results folder at `root`."""
    path = root / SELF_CONTAINED_SPACE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(Problem(str(path), "", f"cannot read: {exc}")) from None
    return space_from_text(text, str(path), space_dir=path.parent.resolve())


def listed_inputs(root: Path) -> list[InputFile]:
    """The copies' list (`inputs/inputs.json`); empty for a folder without copies."""
    path = root / INPUTS_LIST
    if not path.is_file():
        return []
    document: Mapping[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return [InputFile(**entry) for entry in document.get("files", [])]
