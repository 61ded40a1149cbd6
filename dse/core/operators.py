"""Operator features as arrays: FLOPs, bytes and GEMM shapes, independent of the design.

`OperatorArrays.from_ops(ops)` turns a sequence of operator dataclasses into one array per
feature, shape `(O,)`, all per single execution (the `count` column says how often the
operator repeats back to back).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from dse.core.designs import PRECISION_INDEX
from dse.hardware import ELEMENT_BYTES
from dse.workload import (
    OP_KINDS,
    Attention,
    Collective,
    Conv2d,
    Elementwise,
    EmbeddingLookup,
    MatMul,
    Operator,
    Reconfigure,
    ScalarReadback,
    Sync,
    Transfer,
)

# Operator classes the core distinguishes: indices into the one list of op names,
# `dse.workload.OP_KINDS` (ProgramResult.op_kinds reads the names back from it).
KIND_MATMUL = OP_KINDS.index("matmul")
KIND_CONV = OP_KINDS.index("conv2d")
KIND_ATTENTION = OP_KINDS.index("attention")
KIND_ELEMENTWISE = OP_KINDS.index("elementwise")
KIND_EMBEDDING = OP_KINDS.index("embedding_lookup")
KIND_COLLECTIVE = OP_KINDS.index("collective")
KIND_TRANSFER = OP_KINDS.index("transfer")
KIND_SYNC = OP_KINDS.index("sync")
KIND_SCALAR_READBACK = OP_KINDS.index("scalar_readback")
KIND_RECONFIGURE = OP_KINDS.index("reconfigure")

# NOTE: FlashAttention's backward pass runs five matmuls to the forward's two, so it costs
# 2.5x the forward FLOPs (Dao 2023, FlashAttention-2, section 3); its traffic (Q, K, V, O,
# dO read; dQ, dK, dV written) is about 2x the forward's.
ATTENTION_BACKWARD_FLOP_RATIO = 2.5
ATTENTION_BACKWARD_BYTE_RATIO = 2.0
# NOTE: a convolution's backward pass is two convolutions of the forward's size (data
# gradient and weight gradient), so forward+backward is 3x the forward FLOPs and traffic.
CONV_BACKWARD_RATIO = 2.0

# Ring-algorithm traffic per chip, as a multiple of the buffer size, for p participants
# (the kinds: dse.workload.CollectiveKind).
def _collective_factors(kind: str, participants: int) -> tuple[float, float]:
    """(bytes sent per chip / buffer bytes, number of latency steps) for ring algorithms."""
    p = max(participants, 1)
    if p == 1:
        return 0.0, 0.0
    share = (p - 1) / p
    if kind == "all_reduce":
        return 2.0 * share, 2.0 * (p - 1)
    if kind in ("all_gather", "reduce_scatter", "all_to_all"):
        return share, float(p - 1)
    # broadcast: pipelined chain, bandwidth-optimal
    return 1.0, math.ceil(math.log2(p))


@dataclass(frozen=True, slots=True)
class OperatorArrays:
    kind: np.ndarray  # int codes above
    precision: np.ndarray  # index into PRECISIONS; -1 = no tensor arithmetic
    count: np.ndarray
    flops: np.ndarray  # per execution
    # GEMM view for efficiency (matmul, conv as implicit GEMM, attention as its QK^T)
    gemm_m: np.ndarray
    gemm_n: np.ndarray
    gemm_k: np.ndarray
    gemm_batch: np.ndarray
    element_bytes: np.ndarray
    weight_bytes: np.ndarray  # resident operand read per execution
    input_bytes: np.ndarray  # activation read per execution
    output_bytes: np.ndarray  # activation written per execution
    backward: np.ndarray  # bool: forward_backward pass
    recompute_flops: np.ndarray  # forward FLOPs a backward pass may redo instead of refetching
    saved_activation_bytes: np.ndarray  # kept from the forward to the backward pass
    causal_visible: np.ndarray  # attention: share of (q, k) pairs a causal mask keeps; else 1
    gather_rows: np.ndarray  # embedding lookups
    gather_row_bytes: np.ndarray
    link_bytes: np.ndarray  # collective: bytes each chip sends; transfer: bytes over host link
    link_latency_steps: np.ndarray
    participants: np.ndarray
    transfer_pinned: np.ndarray  # bool

    @property
    def size(self) -> int:
        return int(self.kind.shape[0])

    @classmethod
    def from_ops(cls, ops: Sequence[Operator]) -> OperatorArrays:
        rows = [_features(op) for op in ops]
        columns = {name: np.array([r[name] for r in rows]) for name in _FIELDS}
        for column in columns.values():
            column.flags.writeable = False  # shared by `cached`: nobody may change them
        return cls(**columns)

    @staticmethod
    def cached(ops: tuple[Operator, ...]) -> OperatorArrays:
        """`from_ops`, remembered for the last few hundred programs.

        NOTE: an evaluator builds the same program (a decode step at batch 8, a ResNet-50
        micro-batch) for every chunk of a search; turning it into arrays was 7 % of an
        in-process search on sram_vs_hbm. Operators are frozen dataclasses, so a program
        is its own key; the arrays are read-only."""
        try:
            return _cached_from_ops(ops)
        except TypeError:  # an operator with an unhashable field: no cache for it
            return OperatorArrays.from_ops(ops)


_FIELDS = (
    "kind",
    "precision",
    "count",
    "flops",
    "gemm_m",
    "gemm_n",
    "gemm_k",
    "gemm_batch",
    "element_bytes",
    "weight_bytes",
    "input_bytes",
    "output_bytes",
    "backward",
    "recompute_flops",
    "saved_activation_bytes",
    "causal_visible",
    "gather_rows",
    "gather_row_bytes",
    "link_bytes",
    "link_latency_steps",
    "participants",
    "transfer_pinned",
)


def _blank(kind: int, count: int) -> dict[str, float | int | bool]:
    return {
        "kind": kind,
        "precision": -1,
        "count": count,
        "flops": 0.0,
        "gemm_m": 1.0,
        "gemm_n": 1.0,
        "gemm_k": 1.0,
        "gemm_batch": 1.0,
        "element_bytes": 2.0,
        "weight_bytes": 0.0,
        "input_bytes": 0.0,
        "output_bytes": 0.0,
        "backward": False,
        "recompute_flops": 0.0,
        "saved_activation_bytes": 0.0,
        "causal_visible": 1.0,
        "gather_rows": 0.0,
        "gather_row_bytes": 0.0,
        "link_bytes": 0.0,
        "link_latency_steps": 0.0,
        "participants": 1.0,
        "transfer_pinned": True,
    }


def causal_visible_fraction(seq_q: int, seq_kv: int) -> float:
    """Share of (query, key) pairs a causal mask keeps; queries are the last seq_q keys."""
    if seq_q <= 0 or seq_kv <= 0:
        return 0.0
    offset = seq_kv - seq_q
    # with more queries than keys, the first -offset queries see nothing
    visible = (
        seq_q * offset + seq_q * (seq_q + 1) / 2 if offset >= 0 else seq_kv * (seq_kv + 1) / 2
    )
    return float(visible / (seq_q * seq_kv))


def _features(op: Operator) -> dict[str, float | int | bool]:
    if isinstance(op, MatMul):
        f = _blank(KIND_MATMUL, op.count)
        e = ELEMENT_BYTES[op.dtype]
        f.update(
            precision=PRECISION_INDEX[op.dtype],
            flops=2.0 * op.m * op.n * op.k * op.batch,
            gemm_m=op.m,
            gemm_n=op.n,
            gemm_k=op.k,
            gemm_batch=op.batch,
            element_bytes=e,
            weight_bytes=float(op.batch * op.k * op.n * e),
            input_bytes=float(op.batch * op.m * op.k * e),
            output_bytes=float(op.batch * op.m * op.n * e),
        )
        return f
    if isinstance(op, Conv2d):
        f = _blank(KIND_CONV, op.count)
        e = ELEMENT_BYTES[op.dtype]
        h_out = math.ceil(op.height / op.stride)
        w_out = math.ceil(op.width / op.stride)
        m = op.batch * h_out * w_out
        n = op.out_channels
        k = op.in_channels * op.kernel * op.kernel
        fwd_flops = 2.0 * m * n * k
        inputs = float(op.batch * op.in_channels * op.height * op.width * e)
        weights = float(n * k * e)
        outputs = float(m * n * e)
        scale = 1.0 + (CONV_BACKWARD_RATIO if op.pass_ == "forward_backward" else 0.0)
        f.update(
            precision=PRECISION_INDEX[op.dtype],
            flops=fwd_flops * scale,
            gemm_m=m,
            gemm_n=n,
            gemm_k=k,
            element_bytes=e,
            weight_bytes=weights * scale,
            input_bytes=inputs * scale,
            output_bytes=outputs * scale,
            backward=op.pass_ == "forward_backward",
            recompute_flops=fwd_flops if op.pass_ == "forward_backward" else 0.0,
            saved_activation_bytes=inputs if op.pass_ == "forward_backward" else 0.0,
        )
        return f
    if isinstance(op, Attention):
        f = _blank(KIND_ATTENTION, op.count)
        e = ELEMENT_BYTES[op.dtype]
        kv_heads = op.kv_heads or op.heads
        visible = causal_visible_fraction(op.seq_q, op.seq_kv) if op.causal else 1.0
        fwd_flops = 4.0 * op.batch * op.heads * op.seq_q * op.seq_kv * op.head_dim * visible
        q_bytes = float(op.batch * op.heads * op.seq_q * op.head_dim * e)
        kv_bytes = float(2 * op.batch * kv_heads * op.seq_kv * op.head_dim * e)
        bwd = op.pass_ == "forward_backward"
        flop_scale = 1.0 + (ATTENTION_BACKWARD_FLOP_RATIO if bwd else 0.0)
        byte_scale = 1.0 + (ATTENTION_BACKWARD_BYTE_RATIO if bwd else 0.0)
        f.update(
            precision=PRECISION_INDEX[op.dtype],
            flops=fwd_flops * flop_scale,
            # NOTE: a fused attention kernel tiles queries in blocks of tile_m rows per
            # (batch, head): the QK^T GEMM view gives its wave and tile quantisation.
            gemm_m=op.seq_q,
            gemm_n=op.seq_kv,
            gemm_k=op.head_dim,
            gemm_batch=op.batch * op.heads,
            element_bytes=e,
            # NOTE: K and V are activations of this program unless they are a KV cache
            # (`kv_resident`): then they are resident data, read from where the core places
            # resident data, and the evaluator counts the cache in resident_bytes.
            weight_bytes=kv_bytes * byte_scale if op.kv_resident else 0.0,
            input_bytes=(q_bytes + (0.0 if op.kv_resident else kv_bytes)) * byte_scale,
            output_bytes=q_bytes * byte_scale,
            backward=bwd,
            causal_visible=visible,
        )
        return f
    if isinstance(op, Elementwise):
        f = _blank(KIND_ELEMENTWISE, op.count)
        f.update(
            precision=PRECISION_INDEX.get(op.dtype, PRECISION_INDEX["fp32"]),
            flops=float(op.flops),
            element_bytes=float(ELEMENT_BYTES.get(op.dtype, 4)),
            input_bytes=float(op.bytes_read),
            output_bytes=float(op.bytes_written),
            saved_activation_bytes=float(op.saved_bytes),
        )
        return f
    if isinstance(op, EmbeddingLookup):
        f = _blank(KIND_EMBEDDING, op.count)
        e = ELEMENT_BYTES[op.dtype]
        row_bytes = float(op.dim * e)
        f.update(
            element_bytes=e,
            gather_rows=float(op.lookups),
            gather_row_bytes=row_bytes,
            # the table is resident data; only the gathered rows are read
            weight_bytes=float(op.rows) * row_bytes,
            output_bytes=float(op.lookups) * row_bytes,
        )
        return f
    if isinstance(op, Collective):
        f = _blank(KIND_COLLECTIVE, op.count)
        traffic, steps = _collective_factors(op.kind, op.participants)
        f.update(
            link_bytes=float(op.bytes) * traffic,
            link_latency_steps=steps,
            participants=float(op.participants),
            # reductions read and write the buffer in local memory as they go
            input_bytes=float(op.bytes),
            output_bytes=float(op.bytes) if op.kind != "broadcast" else 0.0,
        )
        return f
    if isinstance(op, Transfer):
        f = _blank(KIND_TRANSFER, op.count)
        f.update(link_bytes=float(op.bytes), transfer_pinned=op.pinned)
        if op.direction == "host_to_device":
            f["output_bytes"] = float(op.bytes)
        else:
            f["input_bytes"] = float(op.bytes)
        return f
    if isinstance(op, Sync):
        return _blank(KIND_SYNC, op.count)
    if isinstance(op, ScalarReadback):
        return _blank(KIND_SCALAR_READBACK, op.count)
    if isinstance(op, Reconfigure):
        return _blank(KIND_RECONFIGURE, op.count)
    raise TypeError(f"unknown operator {op!r}")


@lru_cache(maxsize=512)
def _cached_from_ops(ops: tuple[Operator, ...]) -> OperatorArrays:
    return OperatorArrays.from_ops(ops)
