"""Measure a GPU's kernels for `dse calibrate` (any CUDA or ROCm GPU PyTorch sees).

Writes a CSV with the columns of dse's shipped `h100_kernels.csv` (chip, section, kind,
params as JSON, measured_s), the same shapes and the same way: CUDA-event timing of one
eager call, median of 10 timed runs after 3 warm-ups; host rows time a stream of tiny
launches, a launch + sync, a scalar `.item()`, a graph-replayed kernel and host<->device
copies. Then, from nothing to a calibrated family:

    python3 scripts/measure_kernels.py --out my_gpu_kernels.csv --chip my-gpu
    dse calibrate --measured my_gpu_kernels.csv --hardware PRESET -o my_gpu.yaml

(ROCm builds of PyTorch expose the GPU as "cuda" too.) `--device cpu --quick` runs tiny
shapes on the CPU with wall-clock timing to check the script itself; its figures are not
a GPU's. fp8 rows need `torch._scaled_mm` (H100-class GPUs); they are skipped elsewhere.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

WARMUP, ITERS = 3, 10
STREAM_LENGTH = 1000  # tiny launches per "per launch" host row (as dse.validation.kernels)

GEMM_SHAPES = [(n, n, n) for n in (256, 512, 1024, 2048, 4096, 8192)] + [
    (4095, 4095, 4095), (8192, 8192, 1024), (16384, 4096, 4096), (4096, 16384, 4096),
    (1, 4096, 4096), (16, 4096, 4096), (128, 4096, 4096), (4096, 4096, 128)]
GEMM_DTYPES = ("bf16", "fp16", "tf32", "fp32", "fp8")
ATTENTION = [(4, 32, s, 128) for s in (512, 1024, 2048, 4096, 8192)]
DECODE = [(b, 32, s, 128) for b in (1, 16, 64) for s in (1024, 4096, 16384)]
COPY_SIZES = [2**21, 2**24, 2**26, 2**27, 2**29, 2**31]
H2D_SIZES = [2**12, 2**20, 2**24]
QUICK_GEMMS = [(64, 64, 64), (128, 128, 128)]


def timer(torch: Any, device: Any) -> Callable[[Callable[[], Any]], float]:
    """Median seconds of ITERS calls after WARMUP, CUDA events on a GPU."""

    def timed(fn: Callable[[], Any]) -> float:
        for _ in range(WARMUP):
            fn()
        times = []
        for _ in range(ITERS):
            if device.type == "cuda":
                start = torch.cuda.Event(enable_timing=True)
                end = torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                torch.cuda.synchronize()
                times.append(start.elapsed_time(end) / 1e3)
            else:
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
        return statistics.median(times)

    return timed


def gemm_rows(torch: Any, device: Any, quick: bool) -> list[dict[str, Any]]:
    timed = timer(torch, device)
    rows = []
    dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16, "tf32": torch.float32,
              "fp32": torch.float32}
    shapes = QUICK_GEMMS if quick else GEMM_SHAPES
    for name in GEMM_DTYPES:
        for m, n, k in shapes:
            if name == "fp8":
                if device.type != "cuda" or not hasattr(torch, "_scaled_mm"):
                    continue
                try:
                    a = torch.randn(m, k, device=device).to(torch.float8_e4m3fn)
                    b = torch.randn(n, k, device=device).to(torch.float8_e4m3fn).t()
                    one = torch.ones((), device=device)
                    torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
                except (RuntimeError, TypeError):
                    continue  # no fp8 tensor cores, or a shape they refuse

                def fn(a: Any = a, b: Any = b, one: Any = one) -> Any:
                    return torch._scaled_mm(a, b, scale_a=one, scale_b=one,
                                            out_dtype=torch.bfloat16)
            else:
                if device.type == "cpu" and name in ("fp16", "tf32"):
                    continue
                torch.backends.cuda.matmul.allow_tf32 = name == "tf32"
                a = torch.randn(m, k, device=device, dtype=dtypes[name])
                b = torch.randn(k, n, device=device, dtype=dtypes[name])

                def fn(a: Any = a, b: Any = b) -> Any:
                    return a @ b
            rows.append(row("gemm", name, {"m": m, "n": n, "k": k, "dtype": name}, timed(fn)))
    torch.backends.cuda.matmul.allow_tf32 = False
    return rows


def attention_rows(torch: Any, device: Any, quick: bool) -> list[dict[str, Any]]:
    import torch.nn.functional as F

    timed = timer(torch, device)
    dtype = torch.bfloat16
    rows = []
    prefill = [(1, 2, 64, 32)] if quick else ATTENTION
    for b, h, s, d in prefill:
        for causal in (False, True):
            q, k, v = (torch.randn(b, h, s, d, device=device, dtype=dtype, requires_grad=True)
                       for _ in range(3))
            params = {"B": b, "H": h, "S": s, "D": d, "causal": causal}

            def forward(q: Any = q, k: Any = k, v: Any = v, causal: bool = causal) -> Any:
                return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

            def both(q: Any = q, k: Any = k, v: Any = v, causal: bool = causal) -> None:
                F.scaled_dot_product_attention(q, k, v, is_causal=causal).sum().backward()

            with torch.no_grad():
                rows.append(row("attention", "prefill_fwd", params, timed(forward)))
            rows.append(row("attention", "prefill_fwd_bwd", params, timed(both)))
    for b, h, s, d in ([(1, 2, 64, 32)] if quick else DECODE):
        q = torch.randn(b, h, 1, d, device=device, dtype=dtype)
        k, v = (torch.randn(b, h, s, d, device=device, dtype=dtype) for _ in range(2))

        def step(q: Any = q, k: Any = k, v: Any = v) -> Any:
            return F.scaled_dot_product_attention(q, k, v)

        rows.append(row("attention", "decode", {"B": b, "H": h, "S": s, "D": d}, timed(step)))
    return rows


def memory_rows(torch: Any, device: Any, quick: bool) -> list[dict[str, Any]]:
    import torch.nn.functional as F

    timed = timer(torch, device)
    rows = []
    sizes = [2**16] if quick else COPY_SIZES
    for size in sizes:  # bytes read + written
        src = torch.empty(size // 2, dtype=torch.uint8, device=device)
        dst = torch.empty_like(src)
        kind = "d2d_copy" if size == sizes[-1] else "d2d_copy_size"
        rows.append(row("memory", kind, {"bytes_moved": size}, timed(lambda s=src, d=dst:
                                                                      d.copy_(s))))
    side = 64 if quick else 8192
    x = torch.randn(side, side, device=device, dtype=torch.bfloat16)
    moved = 2 * x.numel() * x.element_size()
    rows.append(row("memory", f"gelu_{side}x{side}_bf16", {"bytes_moved": moved},
                    timed(lambda: F.gelu(x, approximate="tanh"))))
    rows.append(row("memory", f"layernorm_{side}x{side}_bf16", {"bytes_moved": moved},
                    timed(lambda: F.layer_norm(x, (side,)))))
    flat = torch.randn((2**14 if quick else 2**28), device=device, dtype=torch.float32)
    rows.append(row("memory", "read_reduce", {"bytes_moved": flat.numel() * 4},
                    timed(lambda: flat.sum())))
    return rows


def host_rows(torch: Any, device: Any, quick: bool) -> list[dict[str, Any]]:
    timed = timer(torch, device)
    tiny = torch.zeros(1, device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    length = 50 if quick else STREAM_LENGTH

    def stream() -> None:
        for _ in range(length):
            tiny.add_(1)

    def wall(fn: Callable[[], Any]) -> float:
        for _ in range(WARMUP):
            fn()
        sync()
        times = []
        for _ in range(ITERS):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    rows = [row("host", "launch_issue_eager", {}, wall(stream) / length),
            row("host", "launch_plus_sync_roundtrip", {}, wall(lambda: (tiny.add_(1), sync()))),
            row("host", "scalar_item_roundtrip", {}, wall(lambda: tiny.add(1).item()))]
    if device.type == "cuda":
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            stream()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            stream()
        rows.append(row("host", "cudagraph_per_kernel", {}, timed(graph.replay) / length))
        big = 2**20 if quick else 2**28
        for pinned in (True, False):
            label = "pinned" if pinned else "pageable"
            host = torch.empty(big, dtype=torch.uint8, pin_memory=pinned)
            gpu = torch.empty(big, dtype=torch.uint8, device=device)
            rows.append(row("host", f"h2d_{label}", {"bytes_moved": big},
                            timed(lambda g=gpu, h=host, p=pinned: g.copy_(h, non_blocking=p))))
            rows.append(row("host", f"d2h_{label}", {"bytes_moved": big},
                            timed(lambda g=gpu, h=host, p=pinned: h.copy_(g, non_blocking=p))))
        for size in ([2**12] if quick else H2D_SIZES):
            host = torch.empty(size, dtype=torch.uint8, pin_memory=True)
            gpu = torch.empty(size, dtype=torch.uint8, device=device)
            rows.append(row("host", "h2d_pinned_size", {"bytes_moved": size},
                            timed(lambda g=gpu, h=host: g.copy_(h, non_blocking=True))))
    return rows


CHIP = "unknown"


def row(section: str, kind: str, params: dict[str, Any], seconds: float) -> dict[str, Any]:
    return {"chip": CHIP, "section": section, "kind": kind, "params": json.dumps(params),
            "measured_s": seconds}


def main(argv: list[str] | None = None) -> int:
    global CHIP
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="CSV to write")
    parser.add_argument("--chip", default="", help="chip column (default: the device name)")
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument("--quick", action="store_true", help="tiny shapes (checks the script)")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("error: PyTorch is not installed (pip install torch)", file=sys.stderr)
        return 2
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("error: PyTorch sees no CUDA/ROCm GPU (use --device cpu --quick to check the "
              "script)", file=sys.stderr)
        return 2
    CHIP = args.chip or (torch.cuda.get_device_name() if device.type == "cuda" else "cpu")
    rows = []
    for measure in (gemm_rows, attention_rows, memory_rows, host_rows):
        rows += measure(torch, device, args.quick)
        print(f"{measure.__name__}: {len(rows)} rows so far", file=sys.stderr)
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["chip", "section", "kind", "params",
                                               "measured_s"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
