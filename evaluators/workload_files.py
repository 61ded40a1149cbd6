"""Model-level workload files: YAML (one or more documents) -> `ModelWorkload`.

The format is a contract, like the operator files:

```yaml
name: gpt-175b-pretrain
kind: training                 # training | inference
model: gpt3-175b               # built-in name, or an inline transformer architecture
precision: bf16
seq_len: 2048
global_batch: 1536             # sequences per optimizer step
recompute: selective           # none | selective | full
system: {chips: 1024, tensor_parallel: 8, pipeline_parallel: 8, data_parallel: 16,
         micro_batch: 1, zero_stage: 1}
```

Every problem in a file is reported at once with the file, the document and the key
path (`dse.errors.ConfigError`); nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dse.config._problems import closest, problems_from_validation_error
from dse.config._types import Count, Flag, Number
from dse.config._yaml import read_yaml_documents
from dse.errors import ConfigError, Problem
from dse.hardware import PRECISIONS
from evaluators.models import (
    BUILTIN_MODELS,
    Architecture,
    CnnArchitecture,
    CnnFramework,
    RecommendationArchitecture,
    TransformerArchitecture,
)
from evaluators.serving import ServingSoftware

Kind = Literal["training", "inference"]
Recompute = Literal["none", "selective", "full"]


# --------------------------------------------------------------------------- domain


@dataclass(frozen=True, slots=True)
class ParallelPlan:
    """How a workload is spread over chips. chips = tensor x pipeline x data parallel."""

    chips: int = 1
    tensor_parallel: int = 1
    pipeline_parallel: int = 1
    data_parallel: int = 1
    micro_batch: int = 1
    """Sequences (or samples) per micro-batch per data-parallel replica."""
    zero_stage: int = 0
    """0: replicated; 1: optimizer state sharded over data parallel; 2: + gradients;
    3: + parameters (FSDP full shard)."""
    sequence_parallel: bool = False
    """Megatron sequence parallelism: norms/dropout sharded, all-reduce -> gather/scatter."""
    virtual_stages: int = 1
    """Interleaved 1F1B: model chunks per pipeline stage (divides the bubble)."""


@dataclass(frozen=True, slots=True)
class DetectionOptions:
    """Host-side post-processing of a detector (non-maximum suppression)."""

    nms_iterations: int = 100
    """Data-dependent loop iterations per image, each reading a scalar back to control
    flow (e.g. 'is any candidate box left?')."""
    candidate_boxes: int = 1000


@dataclass(frozen=True, slots=True)
class MixedPipelineOptions:
    """A preprocessing + SQL-like scan/join + training pipeline on one device group."""

    rows_scanned: int = 100_000_000
    row_bytes: int = 64
    join_rows: int = 10_000_000
    preprocess_bytes_per_sample: float = 150_528.0
    """Raw input decoded per training sample (224x224x3 uint8 image by default)."""
    batches_between_switches: int = 1
    """Training steps between switches back to the preprocessing/SQL phases."""


@dataclass(frozen=True, slots=True)
class ModelWorkload:
    """One model-level workload, ready for an evaluator."""

    name: str
    kind: Kind
    model_name: str
    model: Architecture
    evaluator: str
    precision: str = "bf16"
    seq_len: int = 0
    global_batch: int = 0
    """Training: sequences/samples per optimizer step."""
    batch: int | None = None
    """Inference batch; None means `auto` (the largest that fits memory)."""
    recompute: Recompute = "none"
    prompt_tokens: int = 0
    output_tokens: int = 0
    system: ParallelPlan = field(default_factory=ParallelPlan)
    detection: DetectionOptions = field(default_factory=DetectionOptions)
    pipeline: MixedPipelineOptions = field(default_factory=MixedPipelineOptions)
    serving_software: ServingSoftware = "ideal"
    """Decoder inference: the serving framework whose per-step host work the device waits
    on (`evaluators.serving`); `ideal` hides all of it."""
    framework: CnnFramework = "ideal"
    """CNN training and inference: the software that runs the layers (`evaluators.cnn`);
    `ideal` fuses batch-norm, activations and residual adds into the convolutions."""


# --------------------------------------------------------------------------- schema


# NOTE: every count is a whole number >= 1 where zero means nothing (a batch of 0
# samples, 0 layers), and at most MAX_COUNT: 10^12 is orders of magnitude beyond any
# model dimension, batch or chip count we know of; a larger value is a unit slip.
MAX_COUNT = 1_000_000_000_000
Size = Annotated[Count, Field(gt=0, le=MAX_COUNT)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class InlineTransformer(_Strict):
    layers: Size
    hidden: Size
    heads: Size
    kv_heads: Size | None = None
    ffn_hidden: Size | None = None
    vocab: Size
    ffn_kind: Literal["gelu", "swiglu"] = "gelu"
    causal: Flag = True
    tied_embeddings: Flag | None = None


class SystemSchema(_Strict):
    chips: Size = 1
    tensor_parallel: Size = 1
    pipeline_parallel: Size = 1
    data_parallel: Size | None = None
    micro_batch: Size = 1
    zero_stage: Count = Field(default=0, ge=0, le=3)
    sequence_parallel: Flag = False
    virtual_stages: Size = 1


class DetectionSchema(_Strict):
    nms_iterations: Count = Field(default=100, ge=0, le=MAX_COUNT)
    candidate_boxes: Size = 1000


class PipelineSchema(_Strict):
    rows_scanned: Count = Field(default=100_000_000, ge=0, le=MAX_COUNT)
    row_bytes: Size = 64
    join_rows: Count = Field(default=10_000_000, ge=0, le=MAX_COUNT)
    preprocess_bytes_per_sample: Number = Field(default=150_528.0, ge=0, le=1e15)
    batches_between_switches: Size = 1


class ServingSchema(_Strict):
    software: ServingSoftware = "ideal"


class WorkloadSchema(_Strict):
    name: str = Field(min_length=1, max_length=200)
    kind: Kind
    model: str | InlineTransformer
    evaluator: str | None = None
    precision: str = "bf16"
    seq_len: Size | None = None
    global_batch: Size | None = None
    batch: Size | Literal["auto"] | None = None
    recompute: Recompute = "none"
    prompt_tokens: Size | None = None
    output_tokens: Size | None = None
    system: SystemSchema = SystemSchema()
    postprocess: DetectionSchema | None = None
    pipeline: PipelineSchema | None = None
    serving: ServingSchema | None = None
    framework: CnnFramework | None = None


# --------------------------------------------------------------------------- loading


def _key_path(loc: Sequence[int | str]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("str", "int", "InlineTransformer", "literal['auto']") or (
            item.startswith("function-")  # the label of a Count/Number union branch
        ):
            continue  # pydantic's union-branch labels are not keys of the file
        else:
            parts.append(("." if parts else "") + item)
    return "".join(parts)


def default_evaluator(kind: str, model: Architecture) -> str:
    """The evaluator a workload uses when the file does not name one."""
    if isinstance(model, TransformerArchitecture):
        return "transformer_training" if kind == "training" else "transformer_inference"
    if isinstance(model, CnnArchitecture):
        return "detection" if model.detection_head else "cnn"
    return "recommendation"


# Which model families and kinds each evaluator accepts.
_EVALUATOR_ACCEPTS: dict[str, tuple[tuple[type, ...], tuple[str, ...]]] = {
    "transformer_training": ((TransformerArchitecture,), ("training",)),
    "transformer_inference": ((TransformerArchitecture,), ("inference",)),
    "cnn": ((CnnArchitecture,), ("training", "inference")),
    "detection": ((CnnArchitecture,), ("inference",)),
    "recommendation": ((RecommendationArchitecture,), ("training", "inference")),
    "mixed_pipeline": ((CnnArchitecture, RecommendationArchitecture), ("training",)),
}


def _resolve_model(raw: str | InlineTransformer, prefix: str,
                   problems: list[Problem], source: str) -> Architecture | None:
    if isinstance(raw, str):
        found = BUILTIN_MODELS.get(raw)
        if found is None:
            close = closest(raw, sorted(BUILTIN_MODELS))
            hint = f"did you mean {close!r}? " if close else ""
            problems.append(Problem(source, f"{prefix}model",
                                    f"unknown model {raw!r}; {hint}built-in models: "
                                    + ", ".join(sorted(BUILTIN_MODELS))))
        return found
    kv_heads = raw.kv_heads if raw.kv_heads is not None else raw.heads
    ok = True
    if raw.hidden % raw.heads:
        problems.append(Problem(source, f"{prefix}model.hidden",
                                f"{raw.hidden} is not a multiple of heads={raw.heads}"))
        ok = False
    if raw.heads % kv_heads:
        problems.append(Problem(source, f"{prefix}model.kv_heads",
                                f"heads={raw.heads} is not a multiple of kv_heads={kv_heads}"))
        ok = False
    if not ok:
        return None
    ffn = raw.ffn_hidden if raw.ffn_hidden is not None else 4 * raw.hidden
    tied = raw.tied_embeddings if raw.tied_embeddings is not None else raw.ffn_kind == "gelu"
    return TransformerArchitecture(raw.layers, raw.hidden, raw.heads, kv_heads, ffn, raw.vocab,
                                   raw.ffn_kind, raw.causal, tied)


def _check(doc: WorkloadSchema, model: Architecture, prefix: str, source: str,
           problems: list[Problem]) -> ParallelPlan:
    def bad(key: str, message: str) -> None:
        problems.append(Problem(source, f"{prefix}{key}", message))

    if doc.precision not in PRECISIONS:
        bad("precision", f"{doc.precision!r} is not one of {', '.join(PRECISIONS)}")
    s = doc.system
    model_parallel = s.tensor_parallel * s.pipeline_parallel
    data_parallel = s.data_parallel if s.data_parallel is not None else s.chips // model_parallel
    if model_parallel * data_parallel != s.chips:
        bad("system.chips", f"{s.chips} chips != tensor_parallel {s.tensor_parallel} x "
            f"pipeline_parallel {s.pipeline_parallel} x data_parallel {data_parallel}")
    if isinstance(model, TransformerArchitecture):
        if model.heads % s.tensor_parallel:
            bad("system.tensor_parallel",
                f"{s.tensor_parallel} does not divide the model's {model.heads} heads")
        if model.layers % s.pipeline_parallel:
            bad("system.pipeline_parallel",
                f"{s.pipeline_parallel} does not divide the model's {model.layers} layers")
        elif model.layers % (s.pipeline_parallel * s.virtual_stages):
            bad("system.virtual_stages", f"pipeline_parallel x virtual_stages = "
                f"{s.pipeline_parallel * s.virtual_stages} does not divide {model.layers} layers")
        if doc.kind == "training":
            if doc.seq_len is None:
                bad("seq_len", "required for transformer training")
            if doc.global_batch is None:
                bad("global_batch", "required for transformer training")
            elif doc.global_batch % (data_parallel * s.micro_batch):
                bad("global_batch", f"{doc.global_batch} sequences are not a multiple of "
                    f"data_parallel {data_parallel} x micro_batch {s.micro_batch}")
            if doc.batch is not None:
                bad("batch", "transformer training takes global_batch and system.micro_batch")
        else:
            if model.causal:
                for key in ("prompt_tokens", "output_tokens"):
                    if getattr(doc, key) is None:
                        bad(key, "required for decoder inference")
            elif doc.seq_len is None:
                bad("seq_len", "required for encoder inference")
    else:
        if s.tensor_parallel > 1 or s.pipeline_parallel > 1:
            bad("system", "only data parallelism is modelled for CNN and recommendation models")
        batch_key = "global_batch" if doc.global_batch is not None else "batch"
        batch = doc.global_batch if doc.global_batch is not None else doc.batch
        if batch is None:
            bad("batch", "required (samples per step) for CNN and recommendation workloads")
        elif batch == "auto" and doc.kind == "training":
            bad("batch", "'auto' is for inference only")
        elif isinstance(batch, int) and batch % data_parallel:
            bad(batch_key, f"{batch} samples are not a multiple of data_parallel {data_parallel}")
    if doc.serving is not None and not (isinstance(model, TransformerArchitecture)
                                        and model.causal and doc.kind == "inference"):
        bad("serving", "a serving framework applies to decoder inference only")
    if doc.framework is not None:
        if not isinstance(model, CnnArchitecture) or model.detection_head:
            bad("framework", "a CNN framework applies to CNN classification models only "
                "(serving.software is the decoder-inference counterpart)")
        elif doc.framework == "tensorrt" and doc.kind == "training":
            bad("framework", "tensorrt runs inference only; train with eager-pytorch, "
                "torch-compile or ideal")
    return ParallelPlan(s.chips, s.tensor_parallel, s.pipeline_parallel, max(data_parallel, 1),
                        s.micro_batch, s.zero_stage, s.sequence_parallel, s.virtual_stages)


def _schema_problems(exc: ValidationError, source: str, prefix: str) -> list[Problem]:
    """One problem per key path, in the wording of every other dse config file.

    NOTE: a union field (`batch: <count> | auto`, `model: <name> | <architecture>`)
    fails once per branch; the author wants the branch they meant: the first error at a
    key path is kept, and a "must be a string" is dropped when the value was a mapping
    that has problems of its own deeper down.
    """
    found: dict[str, Problem] = {}
    string_branch: set[str] = set()
    problems = problems_from_validation_error(exc, source, model=WorkloadSchema)
    for problem, error in zip(problems, exc.errors(), strict=True):
        path = _key_path(error["loc"])
        if error["type"] == "string_type" and isinstance(error.get("input"), dict):
            string_branch.add(path)
        found.setdefault(path, Problem(source, prefix + path if path else prefix.rstrip("."),
                                       problem.message))
    return [
        problem for path, problem in found.items()
        if path not in string_branch or not any(p.startswith(path + ".") for p in found)
    ]


def parse_model_workloads(
    documents: Sequence[Any], source: str, locations: Sequence[str] | None = None
) -> list[ModelWorkload]:
    """Validate already-parsed YAML documents; raise ConfigError with every problem.

    `locations` (one per document) is where each document sits in the file, used as the
    start of every key path (a suite's `workloads[2].workload`); by default
    `document[i]` when there are several documents, nothing when there is one.
    """
    from evaluators.registry import EVALUATORS  # late: the registry imports evaluators

    problems: list[Problem] = []
    out: list[ModelWorkload] = []
    for index, raw in enumerate(documents):
        if locations is not None:
            where = locations[index]
        else:
            where = f"document[{index}]" if len(documents) > 1 else ""
        if not isinstance(raw, dict):
            problems.append(Problem(source, where, "a workload document must be a mapping"))
            continue
        prefix = f"{where}." if where else ""
        try:
            doc = WorkloadSchema.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_schema_problems(exc, source, prefix))
            continue
        model = _resolve_model(doc.model, prefix, problems, source)
        if model is None:
            continue
        plan = _check(doc, model, prefix, source, problems)
        evaluator = doc.evaluator or default_evaluator(doc.kind, model)
        if evaluator not in EVALUATORS:
            close = closest(evaluator, list(EVALUATORS))
            hint = f"did you mean {close!r}? " if close else ""
            problems.append(Problem(source, f"{prefix}evaluator", f"unknown evaluator "
                                    f"{evaluator!r}; {hint}known: {', '.join(EVALUATORS)}"))
            continue
        families, kinds = _EVALUATOR_ACCEPTS.get(evaluator, ((object,), (doc.kind,)))
        if not isinstance(model, families) or doc.kind not in kinds:
            problems.append(Problem(source, f"{prefix}evaluator", f"{evaluator} does not "
                                    f"run {doc.kind} of a {model.family} model"))
            continue
        batch = doc.global_batch if doc.global_batch is not None else doc.batch
        det = doc.postprocess or DetectionSchema()
        pipe = doc.pipeline or PipelineSchema()
        out.append(ModelWorkload(
            name=doc.name, kind=doc.kind,
            model_name=doc.model if isinstance(doc.model, str) else "inline",
            model=model, evaluator=evaluator, precision=doc.precision,
            seq_len=doc.seq_len or 0,
            global_batch=batch if isinstance(batch, int) else 0,
            batch=None if batch == "auto" else (batch if isinstance(batch, int) else None),
            recompute=doc.recompute, prompt_tokens=doc.prompt_tokens or 0,
            output_tokens=doc.output_tokens or 0, system=plan,
            detection=DetectionOptions(det.nms_iterations, det.candidate_boxes),
            pipeline=MixedPipelineOptions(pipe.rows_scanned, pipe.row_bytes, pipe.join_rows,
                                          pipe.preprocess_bytes_per_sample,
                                          pipe.batches_between_switches),
            serving_software=(doc.serving or ServingSchema()).software,
            framework=doc.framework or "ideal"))
    if problems:
        raise ConfigError(problems)
    return out


def load_model_workloads(path: str | Path) -> list[ModelWorkload]:
    """Read a (multi-document) model-level workload file; ConfigError lists every problem."""
    documents = read_yaml_documents(path)
    if not documents:
        raise ConfigError("the file holds no workload", str(path))
    return parse_model_workloads(documents, str(path))


def is_model_workload_file(path: str | Path) -> bool:
    """True when the file's first document has a top-level `kind:` (model-level format).

    A file that cannot be read or parsed is not a model workload; the operator-workload
    loader then reports what is wrong with it.
    """
    try:
        documents = read_yaml_documents(path)
    except ConfigError:
        return False
    return bool(documents) and isinstance(documents[0], dict) and "kind" in documents[0]
