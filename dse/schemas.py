"""JSON Schemas of the files a person writes: search spaces, workload suites, hardware.

Every schema is generated from the pydantic models that check the files (`SpaceFile`,
`HardwareFile`, the suite and workload models), never written by hand, so an editor
(yaml-language-server, via the `# yaml-language-server: $schema=...` first line that
`dse space new` writes) completes and checks exactly what `dse space check` accepts.
The search-space schema lists every dotted `hardware:` and `remove:` path of the
hardware format, with the field's type and range, from `HardwareFile`'s own schema.

`dse space schema [space|suite|hardware|workload]` prints them; the copies shipped beside the
files that use them (`SHIPPED`) are checked against these functions by the tests and
rewritten by `scripts/regen_docs.py`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

# NOTE: draft-07, not pydantic's 2020-12: yaml-language-server documents support for
# "JSON Schema 7 and below". Nothing here needs a later draft (no prefixItems); the
# `$ref`s into `$defs` are plain JSON pointers, which draft-07 resolves alike.
DRAFT = "http://json-schema.org/draft-07/schema#"
ROOT = Path(__file__).resolve().parent.parent

SPACE_SCHEMA_FILE = "space.schema.json"
"""The name `dse space new` writes the space schema under, beside the new file."""

# NOTE: pydantic writes the bounds of a constrained type nested in an `Annotated` alias
# (`TileSize`, `Peak`) as `gt`/`le`, which are not JSON Schema keywords: editors would
# ignore them. They are renamed to the keywords they stand for.
_KEYWORDS = {"gt": "exclusiveMinimum", "ge": "minimum", "lt": "exclusiveMaximum",
             "le": "maximum"}


def _standard(node: Any) -> Any:
    """`node` with pydantic's non-standard bound keys renamed (a copy)."""
    if isinstance(node, Mapping):
        return {
            _KEYWORDS.get(key, key) if not isinstance(value, Mapping | list) else key:
            _standard(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_standard(item) for item in node]
    return node


def _finished(schema: dict[str, Any], title: str) -> dict[str, Any]:
    out = {"$schema": DRAFT, "title": title}
    out.update((k, v) for k, v in _standard(schema).items() if k != "title")
    return out


def hardware_json_schema() -> dict[str, Any]:
    """JSON Schema of a hardware YAML file (docs/hardware-format.md)."""
    from dse.config.hardware import HardwareFile

    return _finished(HardwareFile.model_json_schema(), "dse hardware file")


def _resolve(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    """A `$ref` followed, and an optional section's `anyOf: [section, null]` unwrapped."""
    if "$ref" in node:
        return _resolve(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    branches = [b for b in node.get("anyOf", ()) if b.get("type") != "null"]
    if len(branches) == 1 and "$ref" in branches[0]:
        return _resolve(branches[0], defs)
    return node


def _walk(node: Mapping[str, Any], defs: Mapping[str, Any], prefix: str,
          ) -> Iterator[tuple[str, Mapping[str, Any], bool]]:
    """(dotted path, schema, is a section) for every section and field below `node`."""
    node = _resolve(node, defs)
    if "properties" in node:
        for key, child in node["properties"].items():
            path = f"{prefix}{key}"
            resolved = _resolve(child, defs)
            section = "properties" in resolved or "propertyNames" in resolved
            yield path, child, section
            if section:
                yield from _walk(resolved, defs, f"{path}.")
    elif "propertyNames" in node:  # a dict with fixed keys: precisions, memory levels
        for key in node["propertyNames"].get("enum", ()):
            yield f"{prefix}{key}", node.get("additionalProperties", {}), False


def _described(path: str, leaf: Mapping[str, Any], defs: Mapping[str, Any]) -> str:
    """`compute.clock_mhz: number, > 0, <= 100000` from the field's own schema."""
    branches = [b for b in leaf.get("anyOf", [leaf]) if b.get("type") != "null"]
    parts: list[str] = []
    for branch in branches:
        branch = _resolve(_standard(branch), defs)
        words = [str(branch.get("type", ""))]
        if "enum" in branch:
            words = ["one of " + ", ".join(map(str, branch["enum"]))]
        if "const" in branch:
            words = [f"{branch['const']}"]
        for keyword, sign in (("exclusiveMinimum", ">"), ("minimum", ">="),
                              ("exclusiveMaximum", "<"), ("maximum", "<=")):
            if keyword in branch:
                words.append(f"{sign} {branch[keyword]:g}")
        parts.append(", ".join(w for w in words if w))
    text = f"hardware field {path}: " + " or ".join(parts)
    if "default" in leaf and leaf["default"] is not None:
        text += f" (default {json.dumps(leaf['default'])})"
    elif leaf.get("default", "absent") is None:
        text += " (optional)"
    return text


def hardware_paths() -> dict[str, dict[str, Any]]:
    """Every dotted field path of the hardware format -> its JSON Schema, with a description.

    Sections (`hbm`) are left out: a space sets fields, not whole sections.
    """
    from dse.config.hardware import HardwareFile

    schema = HardwareFile.model_json_schema()
    defs = schema.get("$defs", {})
    out: dict[str, dict[str, Any]] = {}
    for path, leaf, section in _walk(schema, defs, ""):
        if section or path in ("name", "description"):
            continue
        value = _standard(dict(leaf))
        value.pop("title", None)
        value["description"] = _described(path, leaf, defs)
        out[path] = value
    return out


def hardware_sections_and_fields() -> list[str]:
    """Every dotted path a `remove:` entry may name: sections (`hbm`) and fields."""
    from dse.config.hardware import HardwareFile

    schema = HardwareFile.model_json_schema()
    return [path for path, _, _ in _walk(schema, schema.get("$defs", {}), "")
            if path not in ("name", "description")]


def space_json_schema() -> dict[str, Any]:
    """JSON Schema of the search-space file, for editors (completion and checks).

    `hardware:` and `remove:` list the hardware format's paths (`hbm.stacks`), so an
    editor completes them and flags a path the format does not have.
    """
    from dse.space import SpaceFile

    schema = _finished(SpaceFile.model_json_schema(), "dse search-space file")
    expression = {"type": "string", "description": "an expression over parameters, "
                  "constants, derived quantities and base.<path> (docs/search.md)"}
    fields = {}
    for path, leaf in hardware_paths().items():
        value = {k: v for k, v in leaf.items() if k not in ("default", "description")}
        fields[path] = {"description": leaf["description"] + "; a value or an expression",
                        "anyOf": [expression, value]}
    hardware = schema["properties"]["hardware"]
    hardware["properties"] = fields
    hardware["additionalProperties"] = False
    condition = {"anyOf": [{"type": "string"}, {"type": "boolean"}]}
    remove = schema["properties"]["remove"]
    remove["properties"] = {
        path: {**condition, "description": f"remove {path} when this condition is true"}
        for path in hardware_sections_and_fields()
    }
    remove["additionalProperties"] = False
    return schema


def workload_json_schema() -> dict[str, Any]:
    """JSON Schema of a model-level workload document (docs/evaluators.md)."""
    from evaluators.workload_files import WorkloadSchema

    return _finished(WorkloadSchema.model_json_schema(), "dse workload")


def suite_json_schema() -> dict[str, Any]:
    """JSON Schema of a workload-suite file (docs/suite-format.md).

    An entry's `workload` is a whole workload document; each of its `fallbacks` is a
    partial one merged over it, so the same keys with none required.
    """
    from evaluators.suites import _SuiteSchema

    schema = _finished(_SuiteSchema.model_json_schema(), "dse workload suite")
    workload = workload_json_schema()
    defs = schema.setdefault("$defs", {})
    for name, definition in workload.pop("$defs", {}).items():
        defs.setdefault(name, definition)
    workload.pop("$schema", None)
    workload.pop("title", None)
    defs["Workload"] = workload
    partial = copy.deepcopy(workload)
    partial.pop("required", None)
    defs["PartialWorkload"] = partial
    entry = next(d for n, d in defs.items() if "workload" in d.get("properties", {}))
    entry["properties"]["workload"] = {"$ref": "#/$defs/Workload"}
    entry["properties"]["fallbacks"]["items"] = {"$ref": "#/$defs/PartialWorkload"}
    return schema


SCHEMAS: Mapping[str, Callable[[], dict[str, Any]]] = {
    "space": space_json_schema,
    "suite": suite_json_schema,
    "hardware": hardware_json_schema,
    "workload": workload_json_schema,
}

SHIPPED: Mapping[str, Path] = {
    "space": ROOT / "search_spaces" / SPACE_SCHEMA_FILE,
    "suite": ROOT / "evaluators" / "suites" / "suite.schema.json",
    "hardware": ROOT / "dse" / "config" / "presets" / "hardware.schema.json",
}
"""Where the repository keeps a copy of each schema, beside the files that use it."""


def schema_text(kind: str) -> str:
    """The schema as written to a file: two-space indents, a final newline."""
    return json.dumps(SCHEMAS[kind](), indent=2) + "\n"
