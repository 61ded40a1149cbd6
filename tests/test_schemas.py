"""The JSON Schemas editors read agree with the checks `dse` makes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from dse.cli import app
from dse.config import hardware_to_dict, load_hardware
from dse.config._yaml import read_yaml_mapping
from dse.schemas import SCHEMAS, SHIPPED, hardware_paths, schema_text

ROOT = Path(__file__).resolve().parent.parent


def _validator(kind: str) -> jsonschema.Draft7Validator:
    schema = SCHEMAS[kind]()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


@pytest.mark.parametrize("kind", sorted(SHIPPED))
def test_shipped_schema_files_are_what_the_models_generate(kind: str) -> None:
    shipped = SHIPPED[kind].read_text(encoding="utf-8")
    assert shipped == schema_text(kind), (
        f"{SHIPPED[kind].relative_to(ROOT)} is out of date: run scripts/regen_docs.py"
    )


@pytest.mark.parametrize(("kind", "pattern"), [
    ("space", "search_spaces/*.yaml"),
    ("suite", "evaluators/suites/*.yaml"),
    ("suite", "search_spaces/suites/*.yaml"),
    ("hardware", "dse/config/presets/*.yaml"),
])
def test_every_shipped_file_passes_its_schema(kind: str, pattern: str) -> None:
    validator = _validator(kind)
    files = sorted(ROOT.glob(pattern))
    assert files
    for path in files:
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(
            read_yaml_mapping(path))]
        assert not errors, (path.name, errors[:3])


def test_space_schema_completes_hardware_paths_and_flags_wrong_ones() -> None:
    validator = _validator("space")
    hardware = validator.schema["properties"]["hardware"]["properties"]
    assert {"hbm.stacks", "sram.capacity_mib", "compute.peak_dense_tflops.fp8",
            "power.energy_per_byte_pj.hbm", "system.nodes"} <= set(hardware)
    assert "integer, > 0, <= 64" in hardware["hbm.stacks"]["description"]
    space = read_yaml_mapping(ROOT / "search_spaces/quickstart.yaml")
    space["hardware"]["hbm.stack"] = "hbm_stacks"
    space["hardware"]["hbm.stacks"] = 0  # a literal below the format's range
    space["remove"] = {"ddr": "true", "hbm.stacks": False, "hbmm": True}
    errors = {".".join(map(str, e.absolute_path)): e.message
              for e in validator.iter_errors(space)}
    assert set(errors) == {"hardware", "hardware.hbm.stacks", "remove"}, errors
    assert "'hbm.stack' was unexpected" in errors["hardware"]
    assert "'hbmm' was unexpected" in errors["remove"]


def test_hardware_paths_cover_every_field_a_preset_writes() -> None:
    """The schema's paths and the loader's form are one format (none missing, none extra)."""
    def leaves(document: dict, prefix: str = "") -> set[str]:
        out: set[str] = set()
        for key, value in document.items():
            if value is None:  # an absent memory (hbm: null)
                continue
            out |= leaves(value, f"{prefix}{key}.") if isinstance(value, dict) else {
                f"{prefix}{key}"}
        return out

    written: set[str] = set()
    for preset in ("nvidia-h100-sxm", "cerebras-wse-2", "graphcore-gc200", "intel-xeon-amx"):
        written |= leaves(hardware_to_dict(load_hardware(preset)))
    paths = set(hardware_paths())
    assert written - {"name", "description"} <= paths
    assert "ddr.channels" in paths and "sram.exchange_bandwidth_tbyte_s" in paths


def test_space_new_points_editors_at_a_schema_that_exists(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["space", "new", "mine", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    first = (tmp_path / "mine.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=space.schema.json"
    schema_file = tmp_path / "space.schema.json"  # relative to the YAML file
    assert schema_file.read_text(encoding="utf-8") == schema_text("space")
    assert not list(_validator("space").iter_errors(read_yaml_mapping(tmp_path / "mine.yaml")))
    # an author's own file of that name is never overwritten
    other = tmp_path / "other"
    other.mkdir()
    (other / "space.schema.json").write_text('{"title": "mine"}', encoding="utf-8")
    result = runner.invoke(app, ["space", "new", "two", "--dir", str(other)])
    assert result.exit_code == 0, result.output
    assert (other / "space.schema.json").read_text(encoding="utf-8") == '{"title": "mine"}'


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_space_schema_prints_each_kind_as_strict_json(kind: str) -> None:
    result = CliRunner().invoke(app, ["space", "schema", kind])
    assert result.exit_code == 0, result.output
    json.loads(result.output, parse_constant=lambda name: pytest.fail(name))
    assert result.output == schema_text(kind)
    result = CliRunner().invoke(app, ["space", "schema", "nope"])
    assert result.exit_code == 2


def test_the_example_model_workloads_pass_the_workload_schema() -> None:
    import yaml

    validator = _validator("workload")
    documents = list(yaml.safe_load_all(
        (ROOT / "dse/data/examples/models.yaml").read_text(encoding="utf-8")))
    assert documents
    for document in documents:
        assert not list(validator.iter_errors(document)), document.get("name")
    assert list(validator.iter_errors({**documents[0], "batchsize": 8}))
