"""Measure end-to-end H100 figures that dse predicts from kernels alone (issue 3).

Run on a machine with PyTorch and one NVIDIA GPU (the device tool's H100), then copy the
CSV into `dse/data/reference/h100_end_to_end.csv`:

    python3 scripts/measure_end_to_end.py --out h100_end_to_end.csv

`python -m dse.validation.end_to_end h100_end_to_end.csv` compares the rows with dse's
predictions on the `nvidia-h100-sxm` preset. What is measured, in bf16, each the median of
timed runs after warm-up runs (CUDA events):

- one Llama-style decoder layer, built like dse's block (fused QKV, scaled-dot-product
  attention with grouped KV heads, output projection, fused gate/up, SiLU x up, down
  projection, two RMSNorms, two residual adds; no rotary embedding, which dse does not
  model): a prefill forward (causal), a training forward + backward, and a decode step
  (one new token per sequence attending to a KV cache, replayed from a CUDA graph);
- torchvision's ResNet-50: a training step (forward, backward, SGD with momentum,
  channels-last, bf16 autocast) and an inference forward.

`--device cpu --quick` runs tiny shapes on the CPU to check the script itself.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

LLAMA = {  # dse built-in architectures (evaluators/models.py)
    "llama3-8b": {"hidden": 4096, "heads": 32, "kv_heads": 8, "ffn_hidden": 14336},
    "llama3-70b": {"hidden": 8192, "heads": 64, "kv_heads": 8, "ffn_hidden": 28672},
}
TINY = {"hidden": 256, "heads": 4, "kv_heads": 2, "ffn_hidden": 512}


class DecoderLayer(nn.Module):
    def __init__(self, hidden: int, heads: int, kv_heads: int, ffn_hidden: int) -> None:
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, hidden // heads
        self.norm_attn, self.norm_mlp = nn.RMSNorm(hidden), nn.RMSNorm(hidden)
        self.qkv = nn.Linear(hidden, (heads + 2 * kv_heads) * self.head_dim, bias=False)
        self.out = nn.Linear(heads * self.head_dim, hidden, bias=False)
        self.gate_up = nn.Linear(hidden, 2 * ffn_hidden, bias=False)
        self.down = nn.Linear(ffn_hidden, hidden, bias=False)

    def forward(self, x: torch.Tensor, cache: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> torch.Tensor:
        b, t, _ = x.shape
        d = self.head_dim
        q, k, v = self.qkv(self.norm_attn(x)).split(
            [self.heads * d, self.kv_heads * d, self.kv_heads * d], dim=-1)
        q = q.view(b, t, self.heads, d).transpose(1, 2)
        k = k.view(b, t, self.kv_heads, d).transpose(1, 2)
        v = v.view(b, t, self.kv_heads, d).transpose(1, 2)
        if cache is not None:  # decode: write the new token into the last slot, attend to all
            k_cache, v_cache = cache
            k_cache[:, :, -t:].copy_(k)
            v_cache[:, :, -t:].copy_(v)
            k, v = k_cache, v_cache
        attn = F.scaled_dot_product_attention(q, k, v, is_causal=cache is None,
                                              enable_gqa=True)
        x = x + self.out(attn.transpose(1, 2).reshape(b, t, self.heads * d))
        gate, up = self.gate_up(self.norm_mlp(x)).chunk(2, dim=-1)
        return x + self.down(F.silu(gate) * up)


def train_step(net: nn.Module, x: torch.Tensor, grad: torch.Tensor) -> None:
    net(x).backward(grad)


def resnet_train_step(model: nn.Module, optimizer: torch.optim.Optimizer,
                      images: torch.Tensor, labels: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(images.device.type, dtype=torch.bfloat16):
        loss = F.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()


def timed(fn: Callable[[], Any], device: torch.device, warmup: int, iters: int) -> float:
    """Median seconds of `fn` over `iters` runs after `warmup` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
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


def layer_rows(device: torch.device, quick: bool, warmup: int, iters: int
               ) -> list[dict[str, Any]]:
    dtype = torch.bfloat16
    prefill = [("llama3-8b", 1, 4096), ("llama3-8b", 8, 2048), ("llama3-70b", 1, 4096)]
    train = [("llama3-8b", 1, 4096), ("llama3-8b", 4, 4096)]
    decode = [("llama3-8b", 1, 2048), ("llama3-8b", 64, 2048), ("llama3-70b", 64, 4096)]
    if quick:
        prefill, train, decode = [("tiny", 2, 64)], [("tiny", 2, 64)], [("tiny", 4, 128)]
    rows: list[dict[str, Any]] = []
    layers: dict[str, DecoderLayer] = {}

    def layer(model: str) -> DecoderLayer:
        if model not in layers:
            layers.clear()  # one model's weights on the device at a time
            shape = TINY if model == "tiny" else LLAMA[model]
            layers[model] = DecoderLayer(**shape).to(device=device, dtype=dtype)
        return layers[model]

    def row(kind: str, model: str, batch: int, seq: int, seconds: float) -> None:
        rows.append({"id": f"layer-{kind}-{model}-b{batch}-s{seq}", "workload": "decoder_layer",
                     "params": json.dumps({"mode": kind, "model": model, "batch": batch,
                                           "seq": seq, "precision": "bf16"}),
                     "measured_s": seconds})
        print(rows[-1]["id"], f"{seconds * 1e3:.3f} ms", flush=True)

    for model, batch, seq in prefill:
        net = layer(model)
        x = torch.randn(batch, seq, net.norm_attn.normalized_shape[0], device=device,
                        dtype=dtype)
        with torch.no_grad():
            row("prefill", model, batch, seq, timed(partial(net, x), device, warmup, iters))
    for model, batch, seq in train:
        net = layer(model)
        x = torch.randn(batch, seq, net.norm_attn.normalized_shape[0], device=device,
                        dtype=dtype, requires_grad=True)
        grad = torch.randn_like(x)
        row("train", model, batch, seq,
            timed(partial(train_step, net, x, grad), device, warmup, iters))
    for model, batch, seq in decode:
        net = layer(model)
        hidden = net.norm_attn.normalized_shape[0]
        x = torch.randn(batch, 1, hidden, device=device, dtype=dtype)
        cache = tuple(torch.randn(batch, net.kv_heads, seq, net.head_dim, device=device,
                                  dtype=dtype) for _ in range(2))
        with torch.no_grad():
            run: Callable[[], Any] = partial(net, x, cache)
            if device.type == "cuda":
                stream = torch.cuda.Stream()
                stream.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(stream):
                    for _ in range(3):
                        run()
                torch.cuda.current_stream().wait_stream(stream)
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph):
                    run()
                run = graph.replay
            row("decode", model, batch, seq, timed(run, device, warmup, iters))
    layers.clear()
    return rows


def resnet_rows(device: torch.device, quick: bool, warmup: int, iters: int
                ) -> list[dict[str, Any]]:
    import torchvision

    train_batches, infer_batches, size = ([128, 256], [256], 224) if not quick else ([2], [2], 64)
    model = torchvision.models.resnet50().to(device=device, memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rows: list[dict[str, Any]] = []

    def row(kind: str, batch: int, seconds: float) -> None:
        rows.append({"id": f"resnet50-{kind}-b{batch}", "workload": "resnet50",
                     "params": json.dumps({"mode": kind, "batch": batch, "precision": "bf16",
                                           "image": size}),
                     "measured_s": seconds})
        print(rows[-1]["id"], f"{seconds * 1e3:.3f} ms", flush=True)

    for batch in train_batches:
        images = torch.randn(batch, 3, size, size, device=device).to(
            memory_format=torch.channels_last)
        labels = torch.randint(0, 1000, (batch,), device=device)
        model.train()
        step = partial(resnet_train_step, model, optimizer, images, labels)
        row("train", batch, timed(step, device, warmup, iters))
    model.eval()
    for batch in infer_batches:
        images = torch.randn(batch, 3, size, size, device=device).to(
            memory_format=torch.channels_last)
        with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16):
            row("inference", batch, timed(partial(model, images), device, warmup, iters))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="CSV to write")
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument("--quick", action="store_true", help="tiny shapes (check the script)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--iters", type=int, default=10)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device: use --device cpu --quick to check the script", file=sys.stderr)
        return 2
    name = torch.cuda.get_device_name() if device.type == "cuda" else "cpu"
    rows = (layer_rows(device, args.quick, args.warmup, args.iters)
            + resnet_rows(device, args.quick, args.warmup, args.iters))
    with open(args.out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "workload", "params", "measured_s",
                                               "device", "torch"])
        writer.writeheader()
        for r in rows:
            writer.writerow({**r, "device": name, "torch": torch.__version__})
    print(f"{len(rows)} rows -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
