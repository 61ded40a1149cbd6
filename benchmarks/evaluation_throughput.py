"""Designs per CPU-second of a search's evaluation, in process (no Ray).

Evaluates random points of a search space (default `search_spaces/sram_vs_hbm.yaml`) in
chunks as a worker does (`dse.search.evaluation.evaluate_points`: build the hardware,
run the suite, economics, objectives), after one warm-up chunk (suite references,
caches). CPU time, not wall time, so that a shared machine's load moves it less.

`--against REV` also runs the same measurement on a checkout of git REV (a temporary
worktree), alternating with this tree `--rounds` times, and prints each run and the
ratio of the medians: before/after figures from one run on the same machine state.

    .venv/bin/python benchmarks/evaluation_throughput.py --designs 256 --against main
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(space_file: str, designs: int, chunk: int, seed: int) -> float:
    """Designs per CPU-second on the `dse` importable from the current directory."""
    from dse.search.evaluation import PointToEvaluate, evaluate_points
    from dse.space import load_space

    space = load_space(space_file)
    rng = random.Random(seed)
    axes = {name: p.grid_values(9) for name, p in space.parameters.items()}
    points = [PointToEvaluate(i, {k: rng.choice(v) for k, v in axes.items()})
              for i in range(designs + chunk)]
    evaluate_points(space, points[designs:])  # warm-up
    start = time.process_time()
    for i in range(0, designs, chunk):
        evaluate_points(space, points[i:i + chunk])
    return designs / (time.process_time() - start)


def _run(tree: Path, args: argparse.Namespace) -> float:
    """One measurement in a fresh interpreter on `tree`'s code."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--space", str(ROOT / args.space),
         "--designs", str(args.designs), "--chunk", str(args.chunk), "--seed", str(args.seed),
         "--one"],
        cwd=tree, env={**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1"},
        check=True, capture_output=True, text=True)
    return float(out.stdout.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="search_spaces/sram_vs_hbm.yaml")
    parser.add_argument("--designs", type=int, default=256)
    parser.add_argument("--chunk", type=int, default=16, help="designs per evaluate_points")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--against", metavar="REV", help="also measure git REV, alternating")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(f"{measure(args.space, args.designs, args.chunk, args.seed):.1f}")
        return
    if not args.against:
        rate = _run(ROOT, args)
        print(f"{rate:.0f} designs per CPU-second ({args.designs} designs of {args.space}, "
              f"chunks of {args.chunk})")
        return
    with tempfile.TemporaryDirectory() as folder:
        other = Path(folder) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(other), args.against],
                       cwd=ROOT, check=True)
        try:
            ours, theirs = [], []
            for _ in range(args.rounds):
                theirs.append(_run(other, args))
                ours.append(_run(ROOT, args))
                print(f"{args.against}: {theirs[-1]:.0f}   this tree: {ours[-1]:.0f} "
                      "designs per CPU-second")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT,
                           check=True)
    print(f"median: {args.against} {statistics.median(theirs):.0f}, this tree "
          f"{statistics.median(ours):.0f} designs per CPU-second; ratio "
          f"{statistics.median(ours) / statistics.median(theirs):.2f} "
          f"({args.designs} designs of {args.space}, chunks of {args.chunk})")


if __name__ == "__main__":
    main()
