"""Operators and memory of transformer blocks, shared by training and inference.

Shapes are one chip's shard under Megatron-style tensor parallelism (Shoeybi et al.
2019, arXiv 1909.08053): QKV and MLP-up are split by columns, the output projection and
MLP-down by rows, so each block needs two all-reduces forward (or an all-gather and a
reduce-scatter each with sequence parallelism, Korthikanti et al. 2022, arXiv 2205.05198).
"""

from __future__ import annotations

from dse.hardware import ELEMENT_BYTES
from dse.workload import Attention, Collective, Elementwise, MatMul, Operator
from evaluators.models import TransformerArchitecture


def weight_matmul_shapes(arch: TransformerArchitecture, tp: int) -> list[tuple[int, int]]:
    """(k, n) of each weight matrix of one block on one chip, in execution order."""
    h, f = arch.hidden, arch.ffn_hidden
    up = (2 if arch.ffn_kind == "swiglu" else 1) * f
    return [
        (h, (h + 2 * arch.kv_hidden) // tp),  # fused QKV projection, column-parallel
        (h // tp, h),  # attention output projection, row-parallel
        (h, up // tp),  # MLP up (and gate), column-parallel
        (f // tp, h),  # MLP down, row-parallel
    ]


def block_forward_ops(arch: TransformerArchitecture, *, batch: int, seq_q: int, seq_kv: int,
                      tp: int, dtype: str, sequence_parallel: bool, count: int,
                      attention_pass: str = "forward",
                      activation_dtype: str | None = None) -> list[Operator]:
    """One block's forward on `batch x seq_q` tokens attending to `seq_kv` positions.

    `dtype` is the matmul precision; `activation_dtype` (default: the same) is what
    attention, norms and collectives run in (bf16 in fp8 training, where only the GEMM
    inputs are cast to fp8).
    """
    act = activation_dtype or dtype
    tokens = batch * seq_q
    ops: list[Operator] = [MatMul(m=tokens, n=n, k=k, dtype=dtype, count=count)
                           for k, n in weight_matmul_shapes(arch, tp)]
    ops.insert(1, Attention(batch=batch, heads=arch.heads // tp, seq_q=seq_q, seq_kv=seq_kv,
                            head_dim=arch.head_dim, kv_heads=max(arch.kv_heads // tp, 1),
                            causal=arch.causal and seq_q > 1, dtype=act,
                            pass_=attention_pass,  # type: ignore[arg-type]
                            # attending to more positions than this step computes: the
                            # earlier ones are the KV cache, resident data
                            kv_resident=seq_kv > seq_q,
                            count=count))
    ops.append(_block_elementwise(arch, tokens, tp, act, sequence_parallel, count, 1.0))
    if act != dtype:
        ops.append(_cast_to_gemm_precision(arch, tokens, tp, act, count, backward=False))
    ops.extend(tensor_parallel_collectives(arch, tokens, tp, act, sequence_parallel,
                                           count * 2))
    return ops


def _cast_to_gemm_precision(arch: TransformerArchitecture, tokens: int, tp: int, act: str,
                            count: int, backward: bool) -> Elementwise:
    """Casting GEMM operands from the activation precision to fp8, with amax tracking.

    NOTE: NVIDIA Transformer Engine casts every linear layer's input (forward) and output
    gradient (backward) to fp8 in separate kernels when they cannot be fused into the
    previous operator, reading 16-bit and writing 8-bit values; weights are cast once per
    step and cached across micro-batches (TE `is_first_microbatch`), so they are ignored.
    """
    shapes = weight_matmul_shapes(arch, tp)
    width = sum(n for _, n in shapes) if backward else sum(k for k, _ in shapes)
    elements = float(tokens) * width
    e = ELEMENT_BYTES.get(act, 2)
    return Elementwise(bytes_read=elements * e, bytes_written=elements, flops=2 * elements,
                       dtype=act, count=count)


def block_backward_ops(arch: TransformerArchitecture, *, batch: int, seq: int, tp: int,
                       dtype: str, sequence_parallel: bool, count: int,
                       activation_dtype: str | None = None) -> list[Operator]:
    """One block's backward matmuls (data and weight gradients), norms and collectives.

    The attention backward is part of the fused `Attention(pass_="forward_backward")`
    emitted with the forward, so it is not repeated here.
    """
    act = activation_dtype or dtype
    tokens = batch * seq
    ops: list[Operator] = []
    for k, n in weight_matmul_shapes(arch, tp):
        ops.append(MatMul(m=tokens, n=k, k=n, dtype=dtype, count=count))  # dX = dY W^T
        ops.append(MatMul(m=k, n=n, k=tokens, dtype=dtype, count=count))  # dW = X^T dY
    # NOTE: backward elementwise work (norm, activation and residual gradients) reads and
    # writes about twice the forward's tensors (gradient plus saved input).
    ops.append(_block_elementwise(arch, tokens, tp, act, sequence_parallel, count, 2.0))
    if act != dtype:
        ops.append(_cast_to_gemm_precision(arch, tokens, tp, act, count, backward=True))
    ops.extend(tensor_parallel_collectives(arch, tokens, tp, act, sequence_parallel,
                                           count * 2))
    return ops


def _block_elementwise(arch: TransformerArchitecture, tokens: int, tp: int, dtype: str,
                       sequence_parallel: bool, count: int, scale: float) -> Elementwise:
    """Norms, residual adds and the MLP activation of one block, as one streaming op."""
    e = ELEMENT_BYTES.get(dtype, 2)
    h, f = arch.hidden, arch.ffn_hidden
    shard = tp if sequence_parallel else 1
    # Two norms (read h, write h) and two residual adds (read 2h, write h) per token.
    norm_res_read, norm_res_write = (2 * h + 4 * h) / shard, (2 * h + 2 * h) / shard
    # GELU reads f and writes f; SwiGLU reads gate and up (2f) and writes f.
    act_read = (2 if arch.ffn_kind == "swiglu" else 1) * f / tp
    act_write = f / tp
    read = tokens * e * (norm_res_read + act_read) * scale
    write = tokens * e * (norm_res_write + act_write) * scale
    flops = tokens * (10 * h / shard + 8 * f / tp) * scale
    return Elementwise(bytes_read=read, bytes_written=write, flops=flops, dtype=dtype,
                       count=count)


def tensor_parallel_collectives(arch: TransformerArchitecture, tokens: int, tp: int,
                                dtype: str, sequence_parallel: bool,
                                count: int) -> list[Operator]:
    """`count` activation reductions of `tokens x hidden` across the tensor-parallel group."""
    if tp <= 1:
        return []
    size = tokens * arch.hidden * ELEMENT_BYTES.get(dtype, 2)
    if sequence_parallel:
        return [Collective("all_gather", size, tp, count=count),
                Collective("reduce_scatter", size, tp, count=count)]
    return [Collective("all_reduce", size, tp, count=count)]


def activation_bytes_per_token_layer(arch: TransformerArchitecture, tp: int,
                                     sequence_parallel: bool, recompute: str,
                                     element_bytes: int = 2) -> float:
    """Activation bytes one block keeps per token for its backward pass, on one chip.

    NOTE: Korthikanti et al. 2022 (arXiv 2205.05198, section 4.1) count 34·h + 5·a·s
    bytes per token per GPT block in 16-bit with 1-byte dropout masks; of the 34·h, 10·h
    (norm inputs, the two block inputs, two dropout masks) stay replicated across tensor
    parallel ranks unless sequence parallelism shards them, and 24·h is sharded. The
    5·a·s softmax term vanishes with fused (FlashAttention) kernels, which dse assumes.
    Generalised here to GQA (K, V are kv_heads·head_dim wide) and to the MLP width and
    kind; for GPT shapes this reduces to exactly 10·h + 24·h/t. Full recompute keeps
    only each block's input (2·h).
    """
    h, f, kv = arch.hidden, arch.ffn_hidden, arch.kv_hidden
    scale = element_bytes / 2.0
    shard = tp if sequence_parallel else 1
    if recompute == "full":
        return 2.0 * h * scale / shard
    replicated = (4 * h + 2 * h + h + 2 * h + h) * scale  # norms, block inputs, masks
    mlp = (6 * f) if arch.ffn_kind == "swiglu" else (4 * f)
    sharded = (2 * h + 4 * kv + 2 * h + mlp) * scale  # Q, K, V, attention out, MLP
    return replicated / shard + sharded / tp


def kv_cache_bytes_per_token(arch: TransformerArchitecture, tp: int, element_bytes: int
                             ) -> float:
    """KV-cache bytes per token of context on one chip (all layers it holds)."""
    kv_heads_per_chip = max(arch.kv_heads // tp, 1)
    return 2.0 * arch.layers * kv_heads_per_chip * arch.head_dim * element_bytes
