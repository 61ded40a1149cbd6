"""Pin, or check, the metrics of every preset on every shipped suite and workload example.

    python scripts/regen_golden.py            # rewrite tests/golden/metrics.json
    python scripts/regen_golden.py --check    # exit 1 and list every figure that moved

What is pinned (tests/golden/test_golden.py compares it at a relative 1e-9):
- every preset x every suite in evaluators/suites/ and search_spaces/suites/: the score,
  the power and, per workload, every metric and the time by bound;
- every preset x every document of dse/data/examples/models.yaml;
- every preset x dse/data/examples/kernels.yaml: per operator time, energy, bound and
  bytes by memory level, and the program totals (a preset that lacks one of the file's
  precisions pins that refusal's message instead).

All of it runs under the shipped calibration. A re-pin is a change of shipped figures:
the commit that re-pins must say which figures moved and why.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout: this tree's dse, not another

GOLDEN = ROOT / "tests" / "golden" / "metrics.json"
MODELS_EXAMPLE = ROOT / "dse" / "data" / "examples" / "models.yaml"
KERNELS_EXAMPLE = ROOT / "dse" / "data" / "examples" / "kernels.yaml"
RELATIVE_TOLERANCE = 1e-9

Value = float | str | bool | None


def _number(value: Any) -> Value:
    if isinstance(value, (bool, str)):
        return value
    if value is None:
        return "None"  # null in the file means "this preset has no such figure"
    number = float(value)
    return number if math.isfinite(number) else repr(number)  # JSON has no inf/nan


def _workload_figures(prefix: str, result: Any, out: dict[str, Value]) -> None:
    out[f"{prefix}/feasible"] = result.feasible
    if result.infeasible_reasons:
        out[f"{prefix}/infeasible"] = "; ".join(result.infeasible_reasons)
    for key, value in result.metrics.items():
        out[f"{prefix}/{key}"] = _number(value)
    for key, value in result.time_by_bound_s.items():
        out[f"{prefix}/time_by_bound_s/{key}"] = _number(value)


def suite_files() -> list[Path]:
    """Every shipped suite: evaluators/suites/ and the ones search spaces bring."""
    from evaluators.suites import SUITES_DIR

    return sorted(SUITES_DIR.glob("*.yaml")) + sorted(
        (ROOT / "search_spaces" / "suites").glob("*.yaml"))


def suite_label(path: Path) -> str:
    """`suite:default`, `suite:search_spaces:whole_chip`: no "/" (it separates a case)."""
    from evaluators.suites import SUITES_DIR

    if path.parent == SUITES_DIR:
        return f"suite:{path.stem}"
    return "suite:" + path.relative_to(ROOT).with_suffix("").as_posix().replace(
        "/suites/", ":").replace("/", ":")


def golden_metrics() -> dict[str, dict[str, Value]]:
    """{preset: {"case/workload/metric": value}}: every figure this script pins."""
    from dse.config import list_presets, load_hardware
    from dse.core.calibration import DEFAULT_CALIBRATION, using_calibration
    from dse.errors import ConfigError
    from dse.report import evaluate_operator_workload
    from evaluators import evaluate_suite, evaluate_workloads, load_model_workloads

    presets = list_presets()
    designs = [load_hardware(name) for name in presets]
    out: dict[str, dict[str, Value]] = {name: {} for name in presets}
    with using_calibration(DEFAULT_CALIBRATION):
        for path in suite_files():
            label = suite_label(path)
            for name, result in zip(presets, evaluate_suite(designs, str(path)), strict=True):
                row = out[name]
                row[f"{label}/score"] = _number(result.score)
                row[f"{label}/power_w"] = _number(result.power_w)
                row[f"{label}/feasible"] = result.feasible
                for wl in result.workloads:
                    _workload_figures(f"{label}/{wl.workload}", wl, row)
        for workload in load_model_workloads(MODELS_EXAMPLE):
            label = f"models:{workload.name}"
            for name, result in zip(presets, evaluate_workloads(designs, workload),
                                    strict=True):
                _workload_figures(label, result, out[name])
        for name, hw in zip(presets, designs, strict=True):
            row = out[name]
            try:
                table = evaluate_operator_workload(hw, str(KERNELS_EXAMPLE))
            except ConfigError as exc:
                row["kernels/refused"] = str(exc).replace(str(ROOT) + "/", "")
                continue
            for i, op in enumerate(table.to_dict(orient="records")):
                for key, value in op.items():
                    row[f"kernels/{i}/{key}"] = _number(value)
            total = table.attrs["total"]
            for key, value in total.items():
                if key == "time_by_bound_s":
                    for bound, seconds in value.items():
                        row[f"kernels/total/time_by_bound_s/{bound}"] = _number(seconds)
                elif key not in ("hardware", "workload"):
                    row[f"kernels/total/{key}"] = _number(value)
    return out


def differences(pinned: dict[str, dict[str, Value]], now: dict[str, dict[str, Value]],
                rel: float = RELATIVE_TOLERANCE) -> list[str]:
    """One line per figure that is new, gone, or moved by more than `rel` (relative)."""
    lines: list[str] = []
    for preset in sorted(set(pinned) | set(now)):
        old, new = pinned.get(preset, {}), now.get(preset, {})
        for key in sorted(set(old) | set(new)):
            if key not in new:
                lines.append(f"{preset}: {key}: gone (was {old[key]!r})")
            elif key not in old:
                lines.append(f"{preset}: {key}: new ({new[key]!r})")
            else:
                a, b = old[key], new[key]
                same = (math.isclose(a, b, rel_tol=rel, abs_tol=0.0)
                        if isinstance(a, float) and isinstance(b, float) else a == b)
                if not same:
                    lines.append(f"{preset}: {key}: {a!r} -> {b!r}")
    return lines


def _case(key: str) -> str:
    return key.split("/", 1)[0]


def write(metrics: dict[str, dict[str, Value]], path: Path = GOLDEN) -> None:
    """Column layout, to keep ten thousand figures small: per case (a suite file, a model
    example, the kernels example) its figure names once, then one line of values a preset
    (null where a preset lacks that figure). Floats keep 12 significant digits, a thousand
    times finer than the test's tolerance."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cases: dict[str, set[str]] = {}
    for row in metrics.values():
        for key in row:
            cases.setdefault(_case(key), set()).add(key)
    blocks: list[str] = []
    for case in sorted(cases):
        names = sorted(cases[case])
        short = [key.split("/", 1)[1] for key in names]
        lines = [f'  "names": {json.dumps(short)}']
        for preset in sorted(metrics):
            values = [_rounded(metrics[preset].get(key)) for key in names]
            lines.append(f"  {json.dumps(preset)}: {json.dumps(values)}")
        blocks.append(f"{json.dumps(case)}: {{\n" + ",\n".join(lines) + "\n}")
    path.write_text("{\n" + ",\n".join(blocks) + "\n}\n")


def _rounded(value: Value) -> Value:
    return float(f"{value:.12g}") if isinstance(value, float) else value


def read(path: Path = GOLDEN) -> dict[str, dict[str, Value]]:
    """The pinned figures in the form `golden_metrics` returns."""
    out: dict[str, dict[str, Value]] = {}
    for case, block in json.loads(path.read_text()).items():
        names = block.pop("names")
        for preset, values in block.items():
            row = out.setdefault(preset, {})
            for name, value in zip(names, values, strict=True):
                if value is not None:
                    row[f"{case}/{name}"] = value
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the pinned file instead of rewriting it")
    args = parser.parse_args(argv)
    now = golden_metrics()
    if not args.check:
        write(now)
        count = sum(len(row) for row in now.values())
        print(f"pinned {count} figures of {len(now)} presets in {GOLDEN.relative_to(ROOT)}")
        return 0
    moved = differences(read(), now)
    for line in moved[:200]:
        print(line)
    if moved:
        print(f"{len(moved)} figures differ from {GOLDEN.relative_to(ROOT)}; if the change is "
              "meant, re-pin with `python scripts/regen_golden.py` and say why in the commit")
        return 1
    print("golden metrics unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
