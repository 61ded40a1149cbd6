"""Which measured rows a calibration is fitted on, and which are held out to check it.

A split is stated, never implied: `dse calibrate --fit-split SPLIT` records it in the
calibration file, and `dse validate kernels --calibration FILE` labels rows with the same
split, so held-out errors are errors on rows the fit never saw.

- `standard`: the rule the shipped calibration uses (`dse.validation.kernels`): other
  precisions (fp16, tf32, fp32 GEMMs), non-square fp8 GEMMs, attention at sequence
  lengths 1024 and 4096, decoding at batch 16, two copy sizes, the read-reduce and GELU
  rows and half the host rows are held out.
- `random:FRACTION[:SEED]`: each row is held out with probability FRACTION, decided by a
  hash of the row's chip, section, kind and parameters (stable across runs and files:
  the same row lands on the same side in the fit file and the held-out file).
- `all`: every row is fitted; nothing is held out (report fit error only).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from dse.errors import ConfigError

SplitRule = Literal["standard", "random", "all"]


@dataclass(frozen=True, slots=True)
class FitSplit:
    rule: SplitRule = "standard"
    held_out_fraction: float = 0.0
    """`random` only: share of rows held out."""
    seed: int = 0

    def is_held_out(self, row_key: str, standard_held_out: bool) -> bool:
        """Whether the row identified by `row_key` is held out; `standard_held_out` is
        what the `standard` rule says about it."""
        if self.rule == "standard":
            return standard_held_out
        if self.rule == "all":
            return False
        digest = hashlib.sha256(f"{self.seed}|{row_key}".encode()).digest()
        uniform = int.from_bytes(digest[:8], "big") / 2**64
        return uniform < self.held_out_fraction

    def __str__(self) -> str:
        if self.rule == "random":
            return f"random:{self.held_out_fraction:g}:{self.seed}"
        return self.rule


STANDARD_SPLIT = FitSplit()


def parse_fit_split(text: str, source: str = "--fit-split") -> FitSplit:
    """`standard`, `all` or `random:FRACTION[:SEED]` (0 < FRACTION < 1)."""
    parts = text.strip().split(":")
    if parts == ["standard"]:
        return STANDARD_SPLIT
    if parts == ["all"]:
        return FitSplit("all")
    if parts[0] == "random" and len(parts) in (2, 3):
        try:
            fraction = float(parts[1])
            seed = int(parts[2]) if len(parts) == 3 else 0
        except ValueError:
            fraction, seed = -1.0, 0
        if 0.0 < fraction < 1.0:
            return FitSplit("random", fraction, seed)
    raise ConfigError(f"fit split {text!r}: expected 'standard', 'all' or "
                      "'random:FRACTION[:SEED]' with 0 < FRACTION < 1", source)
