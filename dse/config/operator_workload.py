"""Operator workload YAML <-> `dse.workload.OperatorWorkload` (format: docs/operator-workloads.md).

Operator workload files are a contract: other tools generate them. Each entry of `ops`
names its kind with `op:`; the entry is validated against that kind's schema alone, so
every problem is reported as `ops[i].<key>` with the index the author sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dse.config._problems import key_path, problems_from_validation_error, shown
from dse.config._types import Count, Flag, Number
from dse.config._yaml import read_yaml_mapping
from dse.config.hardware import Precision
from dse.errors import ConfigError, Problem
from dse.hardware import Hardware
from dse.workload import (
    OP_KINDS,
    Attention,
    Collective,
    CollectiveKind,
    Conv2d,
    Elementwise,
    EmbeddingLookup,
    MatMul,
    Operator,
    OperatorWorkload,
    Pass,
    Reconfigure,
    ScalarReadback,
    Sync,
    Transfer,
    TransferDirection,
)

# NOTE: bounds say "absurd", not "large": a dimension of 2^40 (10^12) elements or a
# transfer of an exabyte is beyond any model we know of by orders of magnitude, and
# a count of 10^9 repetitions of one op would be a loop the tool generating the file
# should have summarised. Beyond these a value is a unit slip or a corrupted file.
Dim = Annotated[Count, Field(gt=0, le=1 << 40)]
Bytes = Annotated[Number, Field(ge=0, le=1e18)]


class _OpEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)

    count: Count = Field(default=1, gt=0, le=1_000_000_000)


class MatMulEntry(_OpEntry):
    op: Literal["matmul"]
    m: Dim
    n: Dim
    k: Dim
    dtype: Precision = "bf16"
    batch: Dim = 1


class AttentionEntry(_OpEntry):
    op: Literal["attention"]
    batch: Dim
    heads: Dim
    kv_heads: Dim | None = None
    seq_q: Dim
    seq_kv: Dim
    head_dim: Dim
    causal: Flag = False
    dtype: Precision = "bf16"
    pass_: Pass = Field(default="forward", alias="pass")
    kv_resident: Flag = False


class Conv2dEntry(_OpEntry):
    op: Literal["conv2d"]
    batch: Dim
    in_channels: Dim
    out_channels: Dim
    height: Dim
    width: Dim
    kernel: Dim = 3
    stride: Dim = 1
    dtype: Precision = "bf16"
    pass_: Pass = Field(default="forward", alias="pass")


class ElementwiseEntry(_OpEntry):
    op: Literal["elementwise"]
    bytes_read: Bytes
    bytes_written: Bytes
    flops: Number = Field(default=0.0, ge=0, le=1e24)
    dtype: Precision = "fp32"
    saved_bytes: Bytes = 0.0


class EmbeddingLookupEntry(_OpEntry):
    op: Literal["embedding_lookup"]
    rows: Dim
    dim: Dim
    lookups: Dim
    dtype: Precision = "fp32"


class CollectiveEntry(_OpEntry):
    op: Literal["collective"]
    kind: CollectiveKind
    bytes: Bytes
    participants: Dim


class TransferEntry(_OpEntry):
    op: Literal["transfer"]
    direction: TransferDirection
    bytes: Bytes
    pinned: Flag = True


class SyncEntry(_OpEntry):
    op: Literal["sync"]


class ScalarReadbackEntry(_OpEntry):
    op: Literal["scalar_readback"]


class ReconfigureEntry(_OpEntry):
    op: Literal["reconfigure"]
    label: str = Field(default="", max_length=200)


_ENTRY_BY_KIND: dict[str, tuple[type[_OpEntry], type[Any]]] = {
    "matmul": (MatMulEntry, MatMul),
    "attention": (AttentionEntry, Attention),
    "conv2d": (Conv2dEntry, Conv2d),
    "elementwise": (ElementwiseEntry, Elementwise),
    "embedding_lookup": (EmbeddingLookupEntry, EmbeddingLookup),
    "collective": (CollectiveEntry, Collective),
    "transfer": (TransferEntry, Transfer),
    "sync": (SyncEntry, Sync),
    "scalar_readback": (ScalarReadbackEntry, ScalarReadback),
    "reconfigure": (ReconfigureEntry, Reconfigure),
}
assert set(_ENTRY_BY_KIND) == set(OP_KINDS), "keep the loader in step with dse.workload"


class _WorkloadHeader(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    graph_captured: Flag = True
    ops: list[Any] = Field(min_length=1)


def _operator_from_entry(
    entry: Any, index: int, source: str, problems: list[Problem]
) -> Operator | None:
    where = key_path(["ops", index])
    if not isinstance(entry, Mapping):
        problems.append(
            Problem(source, where, f"must be a mapping (op: ...), got {type(entry).__name__}")
        )
        return None
    kind = entry.get("op")
    if kind is None:
        problems.append(Problem(source, f"{where}.op", f"required; one of {', '.join(OP_KINDS)}"))
        return None
    if not isinstance(kind, str) or kind not in _ENTRY_BY_KIND:
        problems.append(
            Problem(
                source, f"{where}.op", f"unknown op {shown(kind)}; one of {', '.join(OP_KINDS)}"
            )
        )
        return None
    schema, operator_class = _ENTRY_BY_KIND[kind]
    try:
        parsed = schema.model_validate(dict(entry))
    except ValidationError as exc:
        problems.extend(problems_from_validation_error(exc, source, prefix=where,
                                                      model=schema))
        return None
    fields = parsed.model_dump()  # field names (pass_), not aliases
    if (
        isinstance(parsed, AttentionEntry)
        and parsed.kv_heads is not None
        and parsed.heads % parsed.kv_heads
    ):
        problems.append(
            Problem(
                source,
                f"{where}.kv_heads",
                f"must divide heads ({parsed.heads}), got {parsed.kv_heads}",
            )
        )
        return None
    return operator_class(**fields)  # type: ignore[no-any-return]


def operator_workload_from_dict(
    data: Mapping[str, Any], source: str = "<dict>"
) -> OperatorWorkload:
    """Validate an operator workload document and build the `OperatorWorkload`.

    Raises ConfigError listing every problem (header and every op), each with its key path.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(
            Problem(source, "", f"must be a mapping (key: value), got {type(data).__name__}")
        )
    problems: list[Problem] = []
    try:
        header = _WorkloadHeader.model_validate(dict(data))
    except ValidationError as exc:
        problems.extend(problems_from_validation_error(exc, source, model=_WorkloadHeader))
        header = None
    raw_ops = data.get("ops")
    operators: list[Operator] = []
    if isinstance(raw_ops, list):
        for index, entry in enumerate(raw_ops):
            operator = _operator_from_entry(entry, index, source, problems)
            if operator is not None:
                operators.append(operator)
    if problems or header is None:
        raise ConfigError(problems)
    return OperatorWorkload(
        name=header.name, ops=tuple(operators), graph_captured=header.graph_captured
    )


def load_operator_workload(path: str | Path) -> OperatorWorkload:
    """Read an operator workload YAML file (ConfigError listing every problem)."""
    return operator_workload_from_dict(read_yaml_mapping(path), source=str(path))


def operator_workload_to_dict(workload: OperatorWorkload) -> dict[str, Any]:
    """The YAML form of `workload`; `operator_workload_from_dict` reads it back."""
    ops: list[dict[str, Any]] = []
    for operator in workload.ops:
        entry: dict[str, Any] = {"op": operator.op}
        for name in type(operator).__dataclass_fields__:
            if name == "op":
                continue
            value = getattr(operator, name)
            entry["pass" if name == "pass_" else name] = value
        ops.append(entry)
    return {"name": workload.name, "graph_captured": workload.graph_captured, "ops": ops}


def _precision_needed(operator: Operator) -> str | None:
    """The arithmetic precision `operator` needs the hardware to have, if any."""
    if isinstance(operator, MatMul | Attention | Conv2d):
        return operator.dtype
    if isinstance(operator, Elementwise):
        # NOTE: a pure copy/stream (flops == 0) does no arithmetic, so its dtype is only a
        # storage format and any design can run it.
        return operator.dtype if operator.flops > 0 else None
    # NOTE: embedding lookups are row gathers (no arithmetic); collectives, transfers,
    # syncs, read-backs and reconfigurations move bytes or control only.
    return None


def check_workload_supported(
    workload: OperatorWorkload, hardware: Hardware, source: str = "<workload>"
) -> None:
    """Raise ConfigError naming `ops[i].dtype` for every op whose precision `hardware` lacks."""
    have = ", ".join(hardware.compute.peak_flop_per_s) or "none"
    problems = [
        Problem(
            source,
            f"ops[{index}].dtype",
            f"{hardware.name} has no {precision} arithmetic; it has: {have}",
        )
        for index, operator in enumerate(workload.ops)
        if (precision := _precision_needed(operator)) is not None
        and not hardware.supports(precision)
    ]
    if problems:
        raise ConfigError(problems)
