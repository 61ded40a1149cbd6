"""Reading YAML documents strictly: syntax errors and duplicate keys become `Problem`s.

PyYAML silently keeps the last of two equal keys; a config file with a duplicated key
almost always hides a typo, so the loader below refuses it with the line number.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dse.errors import ConfigError, Problem


class _StrictSafeLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys."""


def _construct_mapping_without_duplicates(
    loader: _StrictSafeLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first at line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictSafeLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping_without_duplicates,  # type: ignore[arg-type]
)


def parse_yaml_mapping(text: str, source: str) -> dict[str, Any]:
    """Parse `text` as one YAML mapping; any problem becomes a ConfigError naming `source`."""
    try:
        document = yaml.load(text, Loader=_StrictSafeLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(Problem(source, "", f"YAML syntax error at {where}{what}")) from None
    except yaml.YAMLError as exc:
        raise ConfigError(Problem(source, "", f"YAML syntax error: {exc}")) from None
    if not isinstance(document, dict):
        kind = "empty" if document is None else f"a {type(document).__name__}"
        raise ConfigError(Problem(source, "", f"must be a YAML mapping (key: value), got {kind}"))
    return document


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """Read the file at `path` as one YAML mapping (ConfigError if missing or malformed)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(Problem(source, "", "file not found")) from None
    except IsADirectoryError:
        raise ConfigError(Problem(source, "", "is a directory, not a YAML file")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(Problem(source, "", f"cannot read: {exc}")) from None
    return parse_yaml_mapping(text, source)
