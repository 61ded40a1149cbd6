"""A results folder holds copies of every file its search read, and the readers use them.

The search reads a space file that names a hardware file (base and reference), a suite
file, which includes a second suite file and names a reference chip file. After the
search the originals are moved away and `dse pareto / show / compare --hardware / report`
run from another directory; `--resume` still takes the user's own file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dse.cli import app
from dse.config import load_hardware
from dse.results import read_trials
from dse.results.inputs import collect_inputs, listed_inputs, load_results_space
from dse.results.layout import INPUTS_LIST, SELF_CONTAINED_SPACE
from dse.search.evaluation import evaluate_references
from dse.space import load_space

ROOT = Path(__file__).resolve().parents[2]
PRESETS = ROOT / "dse" / "config" / "presets"
SERVING = yaml.safe_load((ROOT / "evaluators" / "suites" / "llm-serving.yaml").read_text())

runner = CliRunner()


def _invoke(*args: str):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def _write_project(project: Path) -> Path:
    """space -> ../hw/chip.yaml, ../suites/custom.yaml -> ./more.yaml, ../hw/ref-chip.yaml."""
    (project / "hw").mkdir(parents=True)
    (project / "suites").mkdir()
    (project / "spaces").mkdir()
    chip = yaml.safe_load((PRESETS / "nvidia-h100-sxm.yaml").read_text())
    chip["name"] = "my-chip"
    (project / "hw" / "chip.yaml").write_text(yaml.safe_dump(chip))
    reference = yaml.safe_load((PRESETS / "nvidia-a100-80gb.yaml").read_text())
    reference["name"] = "ref-chip"
    (project / "hw" / "ref-chip.yaml").write_text(yaml.safe_dump(reference))
    entries = {e["workload"]["name"]: e for e in SERVING["workloads"]}
    (project / "suites" / "more.yaml").write_text(yaml.safe_dump({
        "name": "more", "reference": "nvidia-a100-80gb",
        "workloads": [entries["llama3-8b-single-stream"]],
    }))
    (project / "suites" / "custom.yaml").write_text(
        "# a suite of our own\n" + yaml.safe_dump({
            "name": "custom", "reference": "../hw/ref-chip.yaml",
            "workloads": [entries["llama3-8b-serving"]],
            "include": [{"suite": "./more.yaml", "weight": 1}],
        })
    )
    space = (ROOT / "search_spaces" / "quickstart.yaml").read_text()
    space = (space.replace("base: nvidia-h100-sxm", "base: ../hw/chip.yaml")
             .replace("suite: llm-serving", "suite: ../suites/custom.yaml")
             .replace("references: [nvidia-a100-80gb, nvidia-h100-sxm]",
                      "references: [nvidia-a100-80gb, ../hw/chip.yaml]")
             .replace("unit: x nvidia-a100-80gb", "unit: x ref-chip"))
    path = project / "spaces" / "space.yaml"
    path.write_text(space)
    return path


def test_shipped_presets_and_suites_are_not_copied() -> None:
    copies = collect_inputs(load_space(ROOT / "search_spaces" / "quickstart.yaml"))
    assert copies.files == []
    assert set(copies.contents) == {SELF_CONTAINED_SPACE, INPUTS_LIST}


def test_every_named_file_is_copied_once_and_pointed_at(tmp_path: Path) -> None:
    space_file = _write_project(tmp_path / "project")
    copies = collect_inputs(load_space(space_file))
    roles = {(f.role, f.given): f for f in copies.files}
    assert set(roles) == {("base", "../hw/chip.yaml"), ("suite", "../suites/custom.yaml"),
                          ("suite include", "./more.yaml"),
                          ("suite reference", "../hw/ref-chip.yaml")}
    # the chip is both base and reference: one copy, listed once
    assert [f.copy for f in copies.files].count("inputs/chip.yaml") == 1
    for listed in copies.files:
        original = Path(listed.source).read_bytes()
        assert listed.sha256 == hashlib.sha256(original).hexdigest()
    assert copies.contents["inputs/chip.yaml"] == (tmp_path / "project/hw/chip.yaml").read_bytes()
    space = yaml.safe_load(copies.contents[SELF_CONTAINED_SPACE])
    assert space["base"] == "./chip.yaml" and space["suite"] == "./custom.yaml"
    assert space["references"] == ["nvidia-a100-80gb", "./chip.yaml"]
    suite = yaml.safe_load(copies.contents["inputs/custom.yaml"])
    assert suite["reference"] == "./ref-chip.yaml"
    assert suite["include"] == [{"suite": "./more.yaml", "weight": 1}]


@pytest.mark.slow
def test_results_are_read_without_the_original_files(
    tmp_path: Path, ray_cluster: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    space_file = _write_project(project)
    out = tmp_path / "out"
    monkeypatch.chdir(project / "spaces")  # relative paths as a user types them
    _invoke("search", "space.yaml", "--out", str(out), "--trials", "24", "--quiet")
    original = load_space(space_file)
    tpu = load_hardware("google-tpu-v4")
    (expected,) = evaluate_references(original, [tpu])  # on the custom suite, before moving

    listed = {f.copy for f in listed_inputs(out)}
    assert listed == {"inputs/chip.yaml", "inputs/custom.yaml", "inputs/more.yaml",
                      "inputs/ref-chip.yaml"}
    assert (out / "space.yaml").read_text() == space_file.read_text()  # byte for byte

    # the originals go away; the user looks at the results from elsewhere
    moved = tmp_path / "moved-away"
    shutil.move(project, moved)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    copy = load_results_space(out)
    assert copy.spec.suite == "./custom.yaml" and copy.base_hardware == original.base_hardware

    trials = read_trials(out)
    front = json.loads(_invoke("pareto", str(out), "--format", "json").stdout)
    best = front[0]["trial_number"]
    shown = json.loads(_invoke("show", str(out), str(best), "--format", "json").stdout)
    assert shown[0]["trial_number"] == best
    stored = trials.set_index("trial_number").loc[best]
    objectives = {f["name"]: f["value"] for f in shown[0]["objectives"]}
    assert objectives["score"] == pytest.approx(stored["objective_score"])
    compared = json.loads(_invoke("compare", str(out), str(best), "--hardware",
                                  "google-tpu-v4", "--format", "json").stdout)
    tpu_now = compared[1]
    assert tpu_now["label"] == "google-tpu-v4 (evaluated now)"
    # the same figures as on the original files: the custom suite, its reference chip
    assert {w["workload"] for w in tpu_now["workloads"]} == {
        "llama3-8b-serving", "llama3-8b-single-stream"}
    now = {f["name"]: f["value"] for f in tpu_now["objectives"]}
    for name, value in expected.objectives.items():
        assert now[name] == pytest.approx(value)
    _invoke("report", str(out), "-o", str(elsewhere / "report.html"))
    assert (elsewhere / "report.html").stat().st_size > 10_000

    # resume takes the user's own file (moved back), as before
    shutil.move(moved, project)
    monkeypatch.chdir(project / "spaces")
    _invoke("search", "space.yaml", "--out", str(out), "--trials", "32", "--resume",
            "--quiet")
    assert read_trials(out)["trial_number"].tolist() == list(range(32))


def test_a_start_killed_before_metadata_leaves_a_folder_that_starts_afresh(
    tmp_path: Path,
) -> None:
    from dse.results import ResultsFolder

    space_file = _write_project(tmp_path / "project")
    folder = ResultsFolder.open(tmp_path / "out")
    folder.start(load_space(space_file), {"format_version": 1, "status": "running"})
    (tmp_path / "out" / "metadata.json").unlink()  # as if killed just before it
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "evaluations", "inputs", "manifest.jsonl", "space.yaml", "trials"]
    assert folder.is_bare_skeleton()
