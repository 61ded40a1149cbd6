"""Frozen descriptions of operators and operator workloads (programs).

An operator workload is a named sequence of operators: one program. The cost core
decides what stays in SRAM between consecutive operators and what the next operator
can prefetch while the current one runs. Sizes are elements or bytes as the field
name says; every operator accepts `count` (back-to-back repeats).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Pass = Literal["forward", "forward_backward"]
CollectiveKind = Literal["all_reduce", "all_gather", "reduce_scatter", "all_to_all", "broadcast"]
TransferDirection = Literal["host_to_device", "device_to_host"]


@dataclass(frozen=True, slots=True)
class MatMul:
    """C[m, n] = A[m, k] @ B[k, n], `batch` independent products. B is the weight."""

    m: int
    n: int
    k: int
    dtype: str = "bf16"
    batch: int = 1
    count: int = 1
    op: Literal["matmul"] = "matmul"


@dataclass(frozen=True, slots=True)
class Attention:
    """Scaled dot-product attention (FlashAttention-style fused kernel)."""

    batch: int
    heads: int
    seq_q: int
    seq_kv: int
    head_dim: int
    kv_heads: int | None = None  # None: same as heads (no GQA)
    causal: bool = False
    dtype: str = "bf16"
    pass_: Pass = "forward"
    count: int = 1
    kv_resident: bool = False
    """K and V are resident data (a KV cache), read from wherever the core places
    resident data (SRAM, HBM or DDR); otherwise they are activations of this program."""
    op: Literal["attention"] = "attention"


@dataclass(frozen=True, slots=True)
class Conv2d:
    """2-D convolution, NCHW, square kernel, 'same'-style padding."""

    batch: int
    in_channels: int
    out_channels: int
    height: int
    width: int
    kernel: int = 3
    stride: int = 1
    dtype: str = "bf16"
    pass_: Pass = "forward"
    count: int = 1
    op: Literal["conv2d"] = "conv2d"


@dataclass(frozen=True, slots=True)
class Elementwise:
    """Streaming operator (activation, norm, copy, optimizer update)."""

    bytes_read: float
    bytes_written: float
    flops: float = 0.0
    dtype: str = "fp32"  # precision of the arithmetic, if any
    count: int = 1
    saved_bytes: float = 0.0
    """Bytes of its tensors a training step keeps from this operator's forward pass to its
    backward pass (e.g. a batch-norm's input and output): live across the step, like a
    convolution's saved input (see docs/cost-model.md, activations)."""
    op: Literal["elementwise"] = "elementwise"


@dataclass(frozen=True, slots=True)
class EmbeddingLookup:
    """Random row gathers from a table (recommendation, token embedding)."""

    rows: int
    dim: int
    lookups: int
    dtype: str = "fp32"
    count: int = 1
    op: Literal["embedding_lookup"] = "embedding_lookup"


@dataclass(frozen=True, slots=True)
class Collective:
    """A collective over `participants` chips; `bytes` is the per-chip buffer."""

    kind: CollectiveKind
    bytes: float
    participants: int
    count: int = 1
    op: Literal["collective"] = "collective"


@dataclass(frozen=True, slots=True)
class Transfer:
    """A host<->device copy."""

    direction: TransferDirection
    bytes: float
    pinned: bool = True
    count: int = 1
    op: Literal["transfer"] = "transfer"


@dataclass(frozen=True, slots=True)
class Sync:
    """One launch plus a blocking host/device round trip."""

    count: int = 1
    op: Literal["sync"] = "sync"


@dataclass(frozen=True, slots=True)
class ScalarReadback:
    """A device value read by host control flow (e.g. one NMS iteration)."""

    count: int = 1
    op: Literal["scalar_readback"] = "scalar_readback"


@dataclass(frozen=True, slots=True)
class Reconfigure:
    """The program switches to a different kind of work (e.g. SQL scan -> training).

    Free on fixed-function designs (they simply run the next kernels); costs
    `ReconfigSpec.reconfiguration_s` on reconfigurable fabrics.
    """

    label: str = ""
    count: int = 1
    op: Literal["reconfigure"] = "reconfigure"


Operator = (
    MatMul
    | Attention
    | Conv2d
    | Elementwise
    | EmbeddingLookup
    | Collective
    | Transfer
    | Sync
    | ScalarReadback
    | Reconfigure
)

OP_KINDS: tuple[str, ...] = (
    "matmul",
    "attention",
    "conv2d",
    "elementwise",
    "embedding_lookup",
    "collective",
    "transfer",
    "sync",
    "scalar_readback",
    "reconfigure",
)


@dataclass(frozen=True, slots=True)
class OperatorWorkload:
    """A named program: operators in execution order."""

    name: str
    ops: tuple[Operator, ...]
    graph_captured: bool = True
    """Whether the program may be captured as a graph where the hardware supports it.
    Data-dependent host control flow (scalar read-backs) breaks capture regardless."""
