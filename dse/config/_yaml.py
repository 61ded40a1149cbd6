"""Reading YAML documents strictly and safely: every failure becomes a `Problem`.

- PyYAML silently keeps the last of two equal keys; a config file with a duplicated key
  almost always hides a typo, so the loader refuses it with the line number.
- A few hundred bytes of nested aliases ("billion laughs") expand to billions of nodes
  and hang whatever walks the result (validation, error messages). The node graph is
  measured before anything is constructed: aliases may add at most
  `MAX_ALIAS_EXPANSION_NODES` nodes, and a recursive alias is refused.
- Files beyond `MAX_FILE_BYTES` are refused unread, and a document nested deeper than
  the parser can follow is a problem, not a RecursionError.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from dse.errors import ConfigError, Problem

# NOTE: the largest YAML file shipped is ~11 kB (dse/data/economics.yaml); a
# search-space, hardware, workload or suite file of a megabyte is a mistake, not a design.
MAX_FILE_BYTES = 1 << 20
# NOTE: no shipped file uses an alias; 10,000 extra nodes leaves room for generous
# hand-written reuse while a billion-laughs file (10^9 nodes) fails in microseconds.
MAX_ALIAS_EXPANSION_NODES = 10_000
# NOTE: PyYAML's scanner does work proportional to the open flow collections on every
# token, so `[[[[...]]]]` costs time quadratic in its depth: 5,000 levels took 6.5 s and
# a megabyte of them would hang. Real files nest a few levels; brackets are counted
# (quoted or not, a deliberately simple and linear pre-scan) before parsing.
MAX_FLOW_DEPTH = 100
_BRACKETS = re.compile(r"[\[\]{}]")


class _StrictSafeLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys and alias bombs."""

    def construct_document(self, node: yaml.Node) -> Any:
        _check_alias_expansion(node)
        return super().construct_document(node)  # type: ignore[no-untyped-call]


def _check_alias_expansion(root: yaml.Node) -> None:
    """Raise a YAMLError when aliases expand `root` by too much, or refer to themselves.

    The composer hands an alias back as the very node it names, so the graph has shared
    nodes; the expanded size (what construction and validation will walk) is counted
    per distinct node with memoisation, in time linear in the file.
    """
    expanded: dict[int, int] = {}
    in_progress: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            in_progress.discard(key)
            expanded[key] = 1 + sum(expanded[id(child)] for child in _children(node))
            continue
        if key in expanded:
            continue
        if key in in_progress:
            raise yaml.YAMLError("an alias refers to the node that contains it (recursive alias)")
        in_progress.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in in_progress:
                raise yaml.YAMLError(
                    f"an alias at line {child.start_mark.line + 1} refers to the node "
                    "that contains it (recursive alias)"
                )
            if id(child) not in expanded:
                stack.append((child, False))
    distinct = len(expanded)
    added = expanded[id(root)] - distinct
    if added > MAX_ALIAS_EXPANSION_NODES:
        raise yaml.YAMLError(
            f"aliases expand the document by more than {MAX_ALIAS_EXPANSION_NODES:,} "
            "nodes; write the values out or use fewer nested aliases"
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _construct_mapping_without_duplicates(
    loader: _StrictSafeLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    # NOTE: keys brought in by a merge (`<<: *defaults`) may be overridden; only the
    # mapping's own keys must be distinct, so they are checked before merging.
    own = [k for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"]
    for key_node in own:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key (a list or mapping as a key)
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value, not a list or mapping",
                key_node.start_mark,
            ) from None
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {_short(key)} (first at line {first + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    loader.flatten_mapping(node)
    return loader.construct_mapping(node, deep=deep)


_StrictSafeLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping_without_duplicates,  # type: ignore[arg-type]
)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value) if isinstance(value, str | int | float | bool) or value is None else (
        f"<{type(value).__name__}>"
    )
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _problem_of(exc: yaml.YAMLError, source: str) -> Problem:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = exc.problem or exc.context or "invalid YAML"
        kind = "YAML error" if isinstance(exc, yaml.constructor.ConstructorError) else (
            "YAML syntax error"
        )
        return Problem(source, "", f"{kind} at {where}{what}")
    return Problem(source, "", f"YAML error: {str(exc)[:200]}")


def _check_flow_depth(text: str, source: str) -> None:
    depth = 0
    for match in _BRACKETS.finditer(text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        if depth > MAX_FLOW_DEPTH:
            line = text.count("\n", 0, match.start()) + 1
            raise ConfigError(Problem(source, "", f"YAML nested more than {MAX_FLOW_DEPTH} "
                                      f"brackets deep (line {line})"))


def parse_yaml_documents(text: str, source: str) -> list[Any]:
    """Parse every document of `text` (empty ones dropped); problems name `source`."""
    if len(text) > MAX_FILE_BYTES:
        raise ConfigError(Problem(source, "", f"larger than {MAX_FILE_BYTES >> 20} MiB"))
    _check_flow_depth(text, source)
    try:
        documents = list(yaml.load_all(text, Loader=_StrictSafeLoader))  # a SafeLoader
    except yaml.YAMLError as exc:
        raise ConfigError(_problem_of(exc, source)) from None
    except RecursionError:
        raise ConfigError(Problem(source, "", "YAML nested too deeply")) from None
    except ValueError as exc:
        # NOTE: PyYAML lets Python's own conversions fail through, e.g. an integer of
        # more than 4300 digits (sys.get_int_max_str_digits) or a bad timestamp.
        raise ConfigError(
            Problem(source, "", f"YAML value cannot be read: {str(exc).split(';')[0][:120]}")
        ) from None
    return [document for document in documents if document is not None]


def parse_yaml_mapping(text: str, source: str) -> dict[str, Any]:
    """Parse `text` as one YAML mapping; any problem becomes a ConfigError naming `source`."""
    documents = parse_yaml_documents(text, source)
    if len(documents) > 1:
        raise ConfigError(
            Problem(source, "", f"must hold one YAML document, found {len(documents)}")
        )
    document = documents[0] if documents else None
    if not isinstance(document, dict):
        kind = "empty" if document is None else f"a {type(document).__name__}"
        raise ConfigError(Problem(source, "", f"must be a YAML mapping (key: value), got {kind}"))
    return document


def read_yaml_text(path: str | Path) -> str:
    """The text of the file at `path` (ConfigError if missing, unreadable or too large)."""
    source = str(path)
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(Problem(source, "", "file not found")) from None
    except IsADirectoryError:
        raise ConfigError(Problem(source, "", "is a directory, not a YAML file")) from None
    except OSError as exc:
        raise ConfigError(Problem(source, "", f"cannot read: {exc.strerror or exc}")) from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(Problem(source, "", f"larger than {MAX_FILE_BYTES >> 20} MiB"))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            Problem(source, "", f"not UTF-8 text (byte {exc.start} cannot be decoded)")
        ) from None


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """Read the file at `path` as one YAML mapping (ConfigError if missing or malformed)."""
    return parse_yaml_mapping(read_yaml_text(path), str(path))


def read_yaml_documents(path: str | Path) -> list[Any]:
    """Read every YAML document of the file at `path` (empty ones dropped)."""
    return parse_yaml_documents(read_yaml_text(path), str(path))
