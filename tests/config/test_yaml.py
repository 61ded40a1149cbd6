"""The strict YAML reader: what it refuses (bombs, duplicates, depth, size) and what it keeps."""

from __future__ import annotations

from pathlib import Path

import pytest

from dse.config._yaml import (
    MAX_ALIAS_EXPANSION_NODES,
    MAX_FILE_BYTES,
    parse_yaml_documents,
    parse_yaml_mapping,
    read_yaml_mapping,
)
from dse.errors import ConfigError


def message(text: str) -> str:
    with pytest.raises(ConfigError) as excinfo:
        parse_yaml_mapping(text, "f.yaml")
    (problem,) = excinfo.value.problems
    assert problem.source == "f.yaml"
    return problem.message


def test_ordinary_aliases_and_merge_keys_still_work() -> None:
    text = (
        "defaults: &d {chips: 8, tensor_parallel: 8}\n"
        "a: *d\n"
        "b: {<<: *d, chips: 16}\n"
        "list: &l [1, 2, 3]\n"
        "again: [*l, *l, *l]\n"
    )
    document = parse_yaml_mapping(text, "f.yaml")
    assert document["a"] == {"chips": 8, "tensor_parallel": 8}
    assert document["b"] == {"chips": 16, "tensor_parallel": 8}
    assert document["again"] == [[1, 2, 3]] * 3


def test_aliases_may_add_up_to_the_limit_and_not_beyond() -> None:
    items = ", ".join(["x"] * 99)  # a 100-node sequence (the node itself + 99 scalars)
    within = f"a: &a [{items}]\nb: [{', '.join(['*a'] * (MAX_ALIAS_EXPANSION_NODES // 100))}]\n"
    assert len(parse_yaml_mapping(within, "f.yaml")["b"]) == MAX_ALIAS_EXPANSION_NODES // 100
    beyond = within.replace("b: [", "b: [*a, ")
    assert "aliases expand the document by more than 10,000 nodes" in message(beyond)


def test_a_billion_laughs_is_refused_before_anything_is_built() -> None:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 10):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]")
    assert "aliases expand" in message("\n".join(lines) + "\n")


def test_recursive_alias_duplicate_key_and_unhashable_key() -> None:
    assert "recursive alias" in message("a: &a [1, *a]\n")
    assert message("a: 1\nb: 2\na: 3\n") == (
        "YAML error at line 3, column 1: duplicate key 'a' (first at line 1)"
    )
    assert "a key must be a plain value" in message("? [1, 2]\n: x\n")


def test_depth_and_number_size_are_bounded() -> None:
    assert "nested more than 100 brackets deep" in message("a: " + "[" * 101 + "]" * 101)
    assert parse_yaml_mapping("a: " + "[" * 50 + "]" * 50, "f.yaml")["a"]
    assert "4300 digits" in message("a: " + "7" * 5000 + "\n")


def test_multiple_documents_are_read_by_the_multi_document_reader_only() -> None:
    text = "a: 1\n---\nb: 2\n---\n"
    assert parse_yaml_documents(text, "f.yaml") == [{"a": 1}, {"b": 2}]
    assert message(text) == "must hold one YAML document, found 2"


def test_files_too_large_or_not_utf8_are_refused_unparsed(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: '" + b"x" * MAX_FILE_BYTES + b"'\n")
    with pytest.raises(ConfigError, match="larger than 1 MiB"):
        read_yaml_mapping(big)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"a: \xff\n")
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        read_yaml_mapping(binary)
    with pytest.raises(ConfigError, match="is a directory"):
        read_yaml_mapping(tmp_path)
