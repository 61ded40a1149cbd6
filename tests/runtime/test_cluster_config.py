"""cluster.yaml is a valid Ray cluster-launcher config, checked with Ray's own schema."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import jsonschema
import pytest
import ray
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def schema() -> dict:  # type: ignore[type-arg]
    path = Path(os.path.dirname(ray.__file__)) / "autoscaler" / "ray-schema.json"
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def config() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "cluster.yaml").read_text())


def test_cluster_yaml_passes_rays_schema_and_ray_up_validation(schema, config) -> None:  # type: ignore[no-untyped-def]
    jsonschema.validate(config, schema)  # the raw file, as written
    # what `ray up` does before it touches a machine (private helpers: pinned to Ray 2.60)
    prepared = prepare_config(copy.deepcopy(config))
    validate_config(prepared)
    assert prepared["provider"]["type"] == "local"
    assert any("--num-cpus=0" in c for c in prepared["head_start_ray_commands"])
    assert any("scripts/setup.sh" in c for c in config["setup_commands"])


def test_the_schema_check_is_not_vacuous(schema, config) -> None:  # type: ignore[no-untyped-def]
    broken = copy.deepcopy(config)
    broken["min_workers"] = 1  # a top-level key Ray rejects
    with pytest.raises(jsonschema.ValidationError, match="min_workers"):
        jsonschema.validate(broken, schema)
