"""SI constants and conversions. Imports nothing.

Every quantity inside dse is in SI base units (seconds, bytes, FLOP, joules, watts,
hertz, square metres, US dollars). Config keys carry their unit in the name and are
converted once, at load, with the constants below. Binary prefixes (KiB, MiB, GiB,
TiB) and decimal ones (KB, MB, GB, TB) are never guessed from a string.
"""

from __future__ import annotations

# Decimal (SI) prefixes.
KILO = 1e3
MEGA = 1e6
GIGA = 1e9
TERA = 1e12
PETA = 1e15

# Binary prefixes for capacities.
KIB = 2.0**10
MIB = 2.0**20
GIB = 2.0**30
TIB = 2.0**40

# Time.
NS = 1e-9
US = 1e-6
MS = 1e-3

# Energy.
PJ = 1e-12
NJ = 1e-9

# Area.
MM2 = 1e-6  # one square millimetre in square metres
CM2 = 1e-4

# Length (process nodes are marketing names, kept in nm as a label and a number).
NM = 1e-9

BITS_PER_BYTE = 8.0
