"""Unknown keys name the key that was meant, in every config file alike."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dse.config._problems import allowed_keys, did_you_mean, problems_from_validation_error
from dse.config.hardware import HardwareFile
from dse.space import SpaceFile
from evaluators.workload_files import WorkloadSchema


def _messages(model: type, document: dict) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(document)  # type: ignore[attr-defined]
    problems = problems_from_validation_error(caught.value, "f.yaml", model=model)
    return {p.key_path: p.message for p in problems}


def test_the_closest_key_is_suggested_else_every_allowed_key() -> None:
    assert did_you_mean("stack", ["capacity_gib", "stacks"]) == "; did you mean 'stacks'?"
    assert did_you_mean("Stacks", ["stacks"]) == "; did you mean 'stacks'?"
    assert did_you_mean("zzz", ["b", "a"]) == "; allowed: b, a"
    assert did_you_mean("x", []) == ""
    # a name cut short beats a closer-looking other name
    assert did_you_mean("nvidia-h100", ["nvidia-h200", "nvidia-h100-sxm"]) == (
        "; did you mean 'nvidia-h100-sxm'?")


def test_allowed_keys_follow_fields_lists_dicts_and_union_branches() -> None:
    assert allowed_keys(HardwareFile, ["hbm"]) == ["bandwidth_tbyte_s", "capacity_gib", "stacks"]
    assert "trials" in allowed_keys(SpaceFile, ["budget"])
    assert "direction" in allowed_keys(SpaceFile, ["objectives", 0])  # list item
    assert "log" in allowed_keys(SpaceFile, ["parameters", "any_name"])  # dict value
    # pydantic puts the union branch's label in the location: `model: str | InlineTransformer`
    assert "layers" in allowed_keys(WorkloadSchema, ["model", "InlineTransformer"])
    assert allowed_keys(WorkloadSchema, ["no_such_section"]) == []


def test_nested_and_top_level_unknown_keys_say_what_was_meant() -> None:
    found = _messages(HardwareFile, {"hbm": {"stack": 4}, "compute_unit": {}})
    assert found["hbm.stack"] == "unknown key; did you mean 'stacks'?"
    assert found["compute_unit"] == "unknown key; did you mean 'compute'?"
    found = _messages(SpaceFile, {"budget": {"trialz": 3}, "objectives": [{"nam": "x"}]})
    assert found["budget.trialz"] == "unknown key; did you mean 'trials'?"
    assert found["objectives[0].nam"] == "unknown key; did you mean 'name'?"
    found = _messages(WorkloadSchema, {"model": {"layerz": 2}, "system": {"chipz": 8}})
    assert found["model.InlineTransformer.layerz"] == "unknown key; did you mean 'layers'?"
    assert found["system.chipz"] == "unknown key; did you mean 'chips'?"


def test_without_the_model_an_unknown_key_is_still_reported() -> None:
    with pytest.raises(ValidationError) as caught:
        HardwareFile.model_validate({"hbm": {"stack": 4}})
    problems = problems_from_validation_error(caught.value, "f.yaml")
    assert {p.key_path: p.message for p in problems}["hbm.stack"] == "unknown key"
