"""Workload suites: named, weighted sets of model-level workloads with one score.

A suite is a YAML file in `evaluators/suites/`:

```yaml
name: vision
description: ...
reference: nvidia-a100-80gb      # preset the scores are relative to
workloads:
  - weight: 2
    throughput: samples_per_s    # optional; default by evaluator (see THROUGHPUT_METRIC)
    precisions: [bf16, fp16]     # optional: the first one the design supports is used
    workload: {name: resnet50-train, kind: training, model: resnet50, batch: 2048, ...}
    fallbacks:                   # optional: other plans (the best per chip counts)
      - {system: {chips: 16, data_parallel: 16}}
```
or, for a suite made of suites, `include: [{suite: vision, weight: 1}, ...]`.

Score (documented contract, see docs/evaluators.md): for a design, the weighted geometric
mean over workloads of (throughput per chip of the design / throughput per chip of the
reference chip on the same workload):

    score = exp( sum_i w_i * ln(T_i / T_i_ref) / sum_i w_i )

1.0 means "as fast as the reference"; 0.0 when any workload is infeasible (the reasons
are kept). An entry's `fallbacks` are other plans (each a partial workload document
merged over the first: usually more chips, more model parallelism, recompute); a design
is scored on the plan, among those it can hold, with the highest throughput per chip, so
a design that needs more chips for the same work pays for them, and one with more memory
never scores less for fitting a plan it does not need. Included suites contribute
their workloads with weights scaled so that each included suite carries its `weight` in
total. `power_w` is the weighted mean of the
workloads' average power per chip.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dse.config import load_hardware
from dse.config._problems import closest, problems_from_validation_error
from dse.config._types import Number
from dse.config._yaml import read_yaml_mapping
from dse.core.calibration import DEFAULT_CALIBRATION, using_calibration
from dse.errors import ConfigError, Problem
from dse.hardware import PRECISIONS, Hardware
from evaluators._program import breakdowns_recorded, recording_breakdowns
from evaluators.api import SuiteResult, WorkloadMetrics
from evaluators.evaluation import evaluate_workloads
from evaluators.workload_files import ModelWorkload, parse_model_workloads

SUITES_DIR = Path(__file__).parent / "suites"

THROUGHPUT_METRIC: Mapping[str, str] = {
    "transformer_training": "tokens_per_s_per_chip",
    "transformer_inference": "output_tokens_per_s_per_chip",
    "cnn": "samples_per_s_per_chip",
    "detection": "samples_per_s_per_chip",
    "recommendation": "samples_per_s_per_chip",
    "mixed_pipeline": "samples_per_s_per_chip",
}


def default_throughput_metric(workload: ModelWorkload) -> str:
    """The metric a suite scores a workload on unless the suite names one."""
    if workload.evaluator == "transformer_inference" and workload.output_tokens == 0:
        return "samples_per_s_per_chip"  # encoders (BERT) serve samples, not tokens
    return THROUGHPUT_METRIC[workload.evaluator]


@dataclass(frozen=True, slots=True)
class SuiteEntry:
    workload: ModelWorkload
    weight: float
    throughput_metric: str
    precisions: tuple[str, ...]
    """Acceptable precisions, preferred first; empty: only the workload's own."""
    fallbacks: tuple[ModelWorkload, ...] = ()
    """Plans tried, in order, for designs that cannot hold the workload's own plan."""


@dataclass(frozen=True, slots=True)
class Suite:
    name: str
    description: str
    reference: str
    entries: tuple[SuiteEntry, ...]
    source: str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# NOTE: a weight of 10^6 against another of 1 already makes the second workload
# irrelevant to the score; larger ratios are typos.
Weight = Annotated[Number, Field(gt=0, le=1e6)]


class _EntrySchema(_Strict):
    weight: Weight = 1.0
    throughput: str | None = None
    precisions: list[str] = []
    workload: dict[str, Any]
    fallbacks: list[dict[str, Any]] = []


class _IncludeSchema(_Strict):
    suite: str = Field(min_length=1)
    weight: Weight = 1.0


class _SuiteSchema(_Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    reference: str = Field(min_length=1)
    workloads: list[_EntrySchema] = []
    include: list[_IncludeSchema] = []


def list_suites() -> list[str]:
    """Names of the suites shipped in evaluators/suites/."""
    return sorted(p.stem for p in SUITES_DIR.glob("*.yaml"))


def _suite_path(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    return SUITES_DIR / f"{name_or_path}.yaml"


def resolve_in_suite(name_or_path: str, suite_file: str | Path) -> str:
    """A name an `include:` or `reference:` of a suite file gives, ready to load.

    A path (ends in .yaml/.yml or has a `/`) is relative to the suite file's folder, as
    paths in a search-space file are relative to that file; a name (a shipped suite, a
    hardware preset) is returned as it is.

    # NOTE: relative to the file, not to the current directory, so that a suite file
    # and the files it names can be copied together (a results folder keeps copies,
    # dse.results.inputs) and still load from any directory.
    """
    if not (name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path):
        return name_or_path
    path = Path(name_or_path).expanduser()
    if not path.is_absolute():
        path = Path(suite_file).resolve().parent / path
    return str(path)


_LOADING = threading.local()
"""`.chain`: the suites this thread is loading now, so a suite that includes itself,
directly or through others, is a problem, not a RecursionError."""


@lru_cache(maxsize=64)
def load_suite(name_or_path: str) -> Suite:
    """A suite by name (evaluators/suites/NAME.yaml) or path; ConfigError lists problems."""
    path = _suite_path(name_or_path)
    source = str(path)
    if not path.exists():
        close = closest(str(name_or_path), list_suites())
        hint = f"did you mean {close!r}? " if close else ""
        raise ConfigError(f"no such suite; {hint}known suites: {', '.join(list_suites())}",
                          str(name_or_path))
    resolved = path.resolve()
    loading: list[Path] = _LOADING.__dict__.setdefault("chain", [])
    if resolved in loading:
        chain = " -> ".join(p.name for p in [*loading, resolved])
        raise ConfigError(f"includes itself ({chain})", source)
    loading.append(resolved)
    try:
        return _load_suite(path, source)
    finally:
        loading.remove(resolved)


def _load_suite(path: Path, source: str) -> Suite:
    raw = read_yaml_mapping(path)
    try:
        doc = _SuiteSchema.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation_error(exc, source, model=_SuiteSchema)) from None
    problems: list[Problem] = []
    entries: list[SuiteEntry] = []
    try:
        load_hardware(resolve_in_suite(doc.reference, path))  # as scored: a preset or a file
    except ConfigError as exc:
        problems.append(Problem(source, "reference", exc.problems[0].message))
    if doc.workloads:
        try:
            workloads = parse_model_workloads(
                [e.workload for e in doc.workloads], source,
                [f"workloads[{i}].workload" for i in range(len(doc.workloads))],
            )
        except ConfigError as exc:
            problems.extend(exc.problems)
            workloads = []
        for index, (spec, workload) in enumerate(zip(doc.workloads, workloads, strict=False)):
            metric = spec.throughput or default_throughput_metric(workload)
            for p in spec.precisions:
                if p not in PRECISIONS:
                    problems.append(Problem(source, f"workloads[{index}].precisions",
                                            f"{p!r} is not one of {', '.join(PRECISIONS)}"))
            fallbacks: list[ModelWorkload] = []
            if spec.fallbacks:
                docs = [{**spec.workload, **f} for f in spec.fallbacks]
                try:
                    fallbacks = parse_model_workloads(
                        docs, source,
                        [f"workloads[{index}].fallbacks[{j}]" for j in range(len(docs))],
                    )
                except ConfigError as exc:
                    problems.extend(exc.problems)
            entries.append(SuiteEntry(workload, spec.weight, metric, tuple(spec.precisions),
                                      tuple(fallbacks)))
    for index, inc in enumerate(doc.include):
        try:
            sub = load_suite(resolve_in_suite(inc.suite, path))
        except ConfigError as exc:
            problems.append(Problem(source, f"include[{index}].suite",
                                    "; ".join(str(p) for p in exc.problems)))
            continue
        total = sum(e.weight for e in sub.entries)
        entries.extend(replace(e, weight=inc.weight * e.weight / total) for e in sub.entries)
    if not entries and not problems:
        problems.append(Problem(source, "workloads", "a suite needs workloads or include"))
    names = [e.workload.name for e in entries]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(Problem(source, "workloads", f"workload name {name!r} appears twice"))
    if problems:
        raise ConfigError(problems)
    return Suite(doc.name, doc.description, resolve_in_suite(doc.reference, path),
                 tuple(entries), source)


def _precision_for(entry: SuiteEntry, hw: Hardware) -> str:
    for precision in entry.precisions:
        if hw.supports(precision):
            return precision
    return entry.workload.precision


def _only_memory(result: WorkloadMetrics) -> bool:
    return not result.feasible and all("does not fit" in r for r in result.infeasible_reasons)


def evaluate_entry(designs: Sequence[Hardware], entry: SuiteEntry) -> list[WorkloadMetrics]:
    """One suite entry on many designs: one evaluator call per precision and plan tried.

    NOTE: the fallbacks are options, not only rescues: a design that holds several plans
    is scored on the one with the highest per-chip throughput. A design with more memory
    can still run the plan a smaller one needed, so more memory never lowers its figure
    (issue 11: 2x DDR moved a Dojo-like design from the 32-chip DLRM plan, where its
    tables fit in HBM, to the 8-chip one: 4.5x less per chip). Designs that fail a plan for
    other reasons than memory (precision, links) are not tried on the next.
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for index, hw in enumerate(designs):
        groups[_precision_for(entry, hw)].append(index)
    out: list[WorkloadMetrics | None] = [None] * len(designs)
    metric = entry.throughput_metric
    for precision, indices in groups.items():
        pending = indices
        for plan in (entry.workload, *entry.fallbacks):
            workload = plan if plan.precision == precision else replace(plan,
                                                                        precision=precision)
            results = evaluate_workloads([designs[i] for i in pending], workload)
            retry: list[int] = []
            for i, r in zip(pending, results, strict=True):
                # The first plan's reasons stand unless another plan fits.
                best = out[i]
                if best is None or (r.feasible and (not best.feasible or r.metrics.get(
                        metric, 0.0) > best.metrics.get(metric, 0.0))):
                    out[i] = r
                if r.feasible or _only_memory(r):
                    retry.append(i)
            pending = retry
            if not pending:
                break
    return [r for r in out if r is not None]


@lru_cache(maxsize=16)
def reference_throughputs(suite_name: str) -> tuple[float, ...]:
    """Throughput of the suite's reference chip on each entry (cached per process)."""
    suite = load_suite(suite_name)
    reference = load_hardware(suite.reference)
    values: list[float] = []
    problems: list[Problem] = []
    for entry in suite.entries:
        # NOTE: the yardstick is the reference chip under the shipped calibration, whatever
        # calibration the designs are evaluated with (the cache must not depend on it).
        with using_calibration(DEFAULT_CALIBRATION):
            result = evaluate_entry([reference], entry)[0]
        value = result.metrics.get(entry.throughput_metric, 0.0)
        if not result.feasible or value <= 0:
            problems.append(Problem(suite.source, f"workloads.{entry.workload.name}",
                                    f"infeasible on the reference {suite.reference}: "
                                    + "; ".join(result.infeasible_reasons)))
        values.append(value)
    if problems:
        raise ConfigError(problems)
    return tuple(values)


def evaluate_suite(designs: Sequence[Hardware], suite: str, *, breakdown: bool = False
                   ) -> list[SuiteResult]:
    """Score every design on a suite: one evaluator call per workload, not per design.

    breakdown: fill each workload's `time_by_phase_s` and `time_by_operator_class_s`
    (`dse show`; a search leaves them empty)."""
    spec = load_suite(suite)
    references = reference_throughputs(suite)
    with recording_breakdowns(breakdown or breakdowns_recorded()):
        per_entry = [evaluate_entry(designs, entry) for entry in spec.entries]
    total_weight = sum(e.weight for e in spec.entries)
    out: list[SuiteResult] = []
    for d in range(len(designs)):
        results = tuple(column[d] for column in per_entry)
        reasons = tuple(f"{r.workload}: {reason}" for r in results
                        for reason in r.infeasible_reasons)
        feasible = all(r.feasible for r in results)
        log_sum = 0.0
        power = 0.0
        for entry, ref, r in zip(spec.entries, references, results, strict=True):
            power += entry.weight * r.metrics.get("power_w", 0.0)
            value = r.metrics.get(entry.throughput_metric, 0.0)
            if feasible and value > 0:
                log_sum += entry.weight * math.log(value / ref)
        score = math.exp(log_sum / total_weight) if feasible else 0.0
        out.append(SuiteResult(spec.name, score, power / total_weight, feasible, reasons,
                               results))
    return out


def suite_report(hardware: Hardware, suite: str = "default", breakdown: bool = False
                 ) -> dict[str, Any]:
    """One design on a suite, ready for JSON (`dse evaluate --suite`): the score, and per
    workload its weight, throughput relative to the reference, metrics and time by bound."""
    from evaluators.evaluation import metrics_to_dict

    spec = load_suite(suite)
    references = reference_throughputs(suite)
    result = evaluate_suite([hardware], suite, breakdown=breakdown)[0]
    rows: list[dict[str, Any]] = []
    for entry, ref, metrics in zip(spec.entries, references, result.workloads, strict=True):
        row = metrics_to_dict(metrics)
        value = metrics.metrics.get(entry.throughput_metric, 0.0)
        row.update({"weight": entry.weight, "throughput_metric": entry.throughput_metric,
                    "relative_throughput": value / ref if metrics.feasible else 0.0})
        rows.append(row)
    return {"hardware": hardware.name, "suite": spec.name, "reference": spec.reference,
            "score": result.score, "power_w": result.power_w, "feasible": result.feasible,
            "infeasible_reasons": list(result.infeasible_reasons), "workloads": rows}
