"""The model catalogue: architectures that model-level workload files name.

Three families: decoder/encoder transformers (`TransformerArchitecture`), convolutional
networks (`CnnArchitecture`, ResNet-50 and a detection network built on it) and
recommendation models (`RecommendationArchitecture`, DLRM). Every built-in carries the
publication its shape comes from. Parameter and FLOP counts are exact for the shapes
given; they are what model FLOP utilisation is measured against.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

FfnKind = Literal["gelu", "swiglu"]
CnnFramework = Literal["ideal", "eager-pytorch", "torch-compile", "tensorrt"]
"""The software that runs a CNN (`framework:` in a workload file; `evaluators.cnn`):
`ideal` and `tensorrt` fold batch-norm into the convolution and fuse activations and
residual adds into its epilogue; `torch-compile` fuses them into one pass per
convolution; `eager-pytorch` runs each as its own memory-bound kernel, launched eagerly."""
CNN_FRAMEWORKS: tuple[str, ...] = ("ideal", "eager-pytorch", "torch-compile", "tensorrt")
ConvActivation = Literal["relu", "residual", "none"]


@dataclass(frozen=True, slots=True)
class TransformerArchitecture:
    """A stack of identical transformer blocks with token embeddings.

    `ffn_kind="gelu"` is the two-matrix MLP of GPT/BERT/MPT; `"swiglu"` the three-matrix
    gated MLP of Llama. `kv_heads < heads` is grouped-query attention.
    """

    layers: int
    hidden: int
    heads: int
    kv_heads: int
    ffn_hidden: int
    vocab: int
    ffn_kind: FfnKind = "gelu"
    causal: bool = True
    """Decoder (causal mask); False for encoders such as BERT."""
    tied_embeddings: bool = True
    """The output projection reuses the input embedding matrix (GPT, BERT, MPT)."""

    @property
    def family(self) -> str:
        return "transformer"

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @property
    def kv_hidden(self) -> int:
        """Width of the K (or V) projection: kv_heads x head_dim."""
        return self.kv_heads * self.head_dim

    @property
    def ffn_matrices(self) -> int:
        return 3 if self.ffn_kind == "swiglu" else 2

    @property
    def params_per_layer(self) -> float:
        """Weights of one block: QKV, output projection, MLP, two norms (biases ignored)."""
        attention = self.hidden * (self.hidden + 2 * self.kv_hidden) + self.hidden * self.hidden
        mlp = self.ffn_matrices * self.hidden * self.ffn_hidden
        norms = 2 * self.hidden
        return float(attention + mlp + norms)

    @property
    def embedding_params(self) -> float:
        tables = 1 if self.tied_embeddings else 2
        return float(tables * self.vocab * self.hidden)

    @property
    def params(self) -> float:
        return self.layers * self.params_per_layer + self.embedding_params + self.hidden

    @property
    def non_embedding_params(self) -> float:
        return self.layers * self.params_per_layer

    def matmul_flops_per_token(self) -> float:
        """Forward FLOP per token in the weight matmuls, logits included (2 x weights)."""
        per_layer = 2.0 * (self.params_per_layer - 2 * self.hidden)
        return self.layers * per_layer + 2.0 * self.vocab * self.hidden

    def attention_flops_per_token(self, context_tokens: float) -> float:
        """Forward FLOP per token for QK^T and attention-times-V over `context_tokens`."""
        return self.layers * 4.0 * self.hidden * context_tokens

    def model_flops_per_token_training(self, seq_len: int) -> float:
        """PaLM-style model FLOP per trained token: 3 x forward, attention unmasked.

        NOTE: Chowdhery et al. 2022 (PaLM, arXiv 2204.02311, appendix B) count
        6N + 12·L·H·Q·T per token with the full (non-causal) attention; MFU is defined on
        this count in most published tables, so dse uses it for `model_flops_utilization`.
        """
        return 3.0 * (self.matmul_flops_per_token() + self.attention_flops_per_token(seq_len))


@dataclass(frozen=True, slots=True)
class ConvLayer:
    """One convolution of a CNN at its input resolution."""

    in_channels: int
    out_channels: int
    size: int
    """Input height = width, pixels."""
    kernel: int
    stride: int = 1
    count: int = 1
    activation: ConvActivation = "relu"
    """What follows its batch-norm: `relu`; `residual` (add the block's shortcut, then
    ReLU: a bottleneck's last convolution); `none` (a projection shortcut)."""


@dataclass(frozen=True, slots=True)
class CnnArchitecture:
    """A convolutional network as a list of convolutions plus a classifier."""

    convs: tuple[ConvLayer, ...]
    classifier_in: int
    classes: int
    image_size: int = 224
    stem_max_pool: bool = False
    """A 3x3 stride-2 max pool follows the first convolution (ResNet): the first
    convolution's output is 4x the size the next layer reads."""
    detection_head: bool = False
    """A detection network: backbone plus box/class heads whose output is post-processed
    (non-maximum suppression) by host-side control flow."""

    @property
    def family(self) -> str:
        return "cnn"

    @property
    def params(self) -> float:
        conv = sum(c.count * c.in_channels * c.out_channels * c.kernel**2 for c in self.convs)
        bn = sum(c.count * 2 * c.out_channels for c in self.convs)
        return float(conv + bn + self.classifier_in * self.classes + self.classes)

    def forward_flops_per_sample(self) -> float:
        total = 0.0
        for c in self.convs:
            out = -(-c.size // c.stride)
            total += c.count * 2.0 * c.in_channels * c.out_channels * c.kernel**2 * out * out
        return total + 2.0 * self.classifier_in * self.classes


@dataclass(frozen=True, slots=True)
class RecommendationArchitecture:
    """DLRM: embedding tables for categorical features, MLPs for dense ones."""

    table_rows: tuple[int, ...]
    embedding_dim: int
    dense_features: int
    bottom_mlp: tuple[int, ...]
    top_mlp: tuple[int, ...]
    lookups_per_table: int = 1
    """Rows gathered per table per sample (1 for one-hot Criteo features)."""

    @property
    def family(self) -> str:
        return "recommendation"

    @property
    def embedding_params(self) -> float:
        return float(sum(self.table_rows) * self.embedding_dim)

    @property
    def mlp_shapes(self) -> tuple[tuple[int, int], ...]:
        """(in, out) of every MLP layer, bottom then top."""
        shapes: list[tuple[int, int]] = []
        prev = self.dense_features
        for width in self.bottom_mlp:
            shapes.append((prev, width))
            prev = width
        features = len(self.table_rows) + 1
        prev = self.embedding_dim + features * (features - 1) // 2
        for width in self.top_mlp:
            shapes.append((prev, width))
            prev = width
        return tuple(shapes)

    @property
    def mlp_params(self) -> float:
        return float(sum(i * o + o for i, o in self.mlp_shapes))

    @property
    def params(self) -> float:
        return self.embedding_params + self.mlp_params


Architecture = TransformerArchitecture | CnnArchitecture | RecommendationArchitecture


def _resnet50_convs() -> tuple[ConvLayer, ...]:
    """ResNet-50 v1.5 (He et al. 2016, arXiv 1512.03385, Table 1; stride on the 3x3)."""
    convs = [ConvLayer(3, 64, 224, 7, stride=2)]
    stages = ((64, 256, 56, 3, 1), (128, 512, 56, 4, 2), (256, 1024, 28, 6, 2),
              (512, 2048, 14, 3, 2))
    in_ch = 64
    for width, out_ch, size, blocks, stride in stages:
        out_size = size // stride
        # First block: 1x1 reduce at input size, strided 3x3, 1x1 expand, projection shortcut.
        convs.append(ConvLayer(in_ch, width, size, 1))
        convs.append(ConvLayer(width, width, size, 3, stride=stride))
        convs.append(ConvLayer(width, out_ch, out_size, 1, activation="residual"))
        convs.append(ConvLayer(in_ch, out_ch, size, 1, stride=stride, activation="none"))
        if blocks > 1:
            convs.append(ConvLayer(out_ch, width, out_size, 1, count=blocks - 1))
            convs.append(ConvLayer(width, width, out_size, 3, count=blocks - 1))
            convs.append(ConvLayer(width, out_ch, out_size, 1, count=blocks - 1,
                                   activation="residual"))
        in_ch = out_ch
    return tuple(convs)


def _retinanet_convs() -> tuple[ConvLayer, ...]:
    """RetinaNet-ResNet50-FPN at 800x800 (Lin et al. 2017, arXiv 1708.02002).

    NOTE: backbone scaled to an 800-pixel input; FPN levels P3-P7 with 256 channels; the
    class and box subnets are four 3x3 convs each plus an output conv (9 anchors x 80
    classes, 9 x 4 box coordinates), applied at every level. Shapes from the paper's
    section 4; the MLPerf SSD-ResNeXt50 detector has the same structure.
    """
    scale = 800 / 224
    backbone = [
        ConvLayer(c.in_channels, c.out_channels, round(c.size * scale), c.kernel, c.stride,
                  c.count, c.activation)
        for c in _resnet50_convs()
    ]
    head: list[ConvLayer] = []
    for size in (100, 50, 25, 13, 7):  # P3..P7 for an 800x800 image
        head.append(ConvLayer(256, 256, size, 3, count=8))
        head.append(ConvLayer(256, 9 * 80, size, 3))
        head.append(ConvLayer(256, 9 * 4, size, 3))
    lateral = [ConvLayer(512, 256, 100, 1), ConvLayer(1024, 256, 50, 1),
               ConvLayer(2048, 256, 25, 1), ConvLayer(256, 256, 100, 3, count=3)]
    return tuple(backbone + lateral + head)


# NOTE: Criteo Terabyte table sizes used by MLPerf DLRM (max 40M rows per table), from the
# facebookresearch/dlrm README `--max-ind-range=40000000` day_fea_count; dims from MLPerf
# Training DLRM (embedding 128, bottom MLP 13-512-256-128, top MLP 1024-1024-512-256-1).
_CRITEO_TB_ROWS = (
    39884406, 39043, 17289, 7420, 20263, 3, 7120, 1543, 63, 38532951, 2953546, 403346, 10,
    2208, 11938, 155, 4, 976, 14, 39979771, 25641295, 39664984, 585935, 12972, 108, 36,
)


def _llama(layers: int, hidden: int, heads: int, kv_heads: int, ffn: int,
           vocab: int) -> TransformerArchitecture:
    return TransformerArchitecture(layers, hidden, heads, kv_heads, ffn, vocab, "swiglu",
                                   causal=True, tied_embeddings=False)


def _mpt(layers: int, hidden: int, heads: int) -> TransformerArchitecture:
    # MPT: 4x GELU MLP, tied embeddings, vocab 50368 (mosaicml/llm-foundry yamls/pretrain).
    return TransformerArchitecture(layers, hidden, heads, heads, 4 * hidden, 50368, "gelu")


BUILTIN_MODELS: Mapping[str, Architecture] = {
    # Brown et al. 2020 (arXiv 2005.14165) Table 2.1; vocab padded to 51200 by Megatron.
    "gpt3-175b": TransformerArchitecture(96, 12288, 96, 96, 49152, 51200, "gelu"),
    # Touvron et al. 2023 (arXiv 2307.09288) and the released config.json files.
    "llama2-7b": _llama(32, 4096, 32, 32, 11008, 32000),
    "llama2-13b": _llama(40, 5120, 40, 40, 13824, 32000),
    "llama2-70b": _llama(80, 8192, 64, 8, 28672, 32000),
    # Llama 3 Herd of Models (arXiv 2407.21783) Table 3.
    "llama3-8b": _llama(32, 4096, 32, 8, 14336, 128256),
    "llama3-70b": _llama(80, 8192, 64, 8, 28672, 128256),
    "llama3-405b": _llama(126, 16384, 128, 8, 53248, 128256),
    # Devlin et al. 2018 (arXiv 1810.04805): 24 layers, 1024 hidden, 16 heads.
    "bert-large": TransformerArchitecture(24, 1024, 16, 16, 4096, 30522, "gelu",
                                          causal=False),
    # mosaicml/llm-foundry scripts/train/yamls/pretrain/mpt-*.yaml
    "mpt-1b": _mpt(24, 2048, 16),
    "mpt-3b": _mpt(32, 2560, 20),
    "mpt-7b": _mpt(32, 4096, 32),
    "mpt-13b": _mpt(40, 5120, 40),
    "mpt-30b": _mpt(48, 7168, 64),
    "mpt-70b": _mpt(80, 8192, 64),
    "resnet50": CnnArchitecture(_resnet50_convs(), classifier_in=2048, classes=1000,
                                stem_max_pool=True),
    "retinanet-resnet50": CnnArchitecture(_retinanet_convs(), classifier_in=0, classes=0,
                                          image_size=800, stem_max_pool=True,
                                          detection_head=True),
    "dlrm": RecommendationArchitecture(
        table_rows=_CRITEO_TB_ROWS, embedding_dim=128, dense_features=13,
        bottom_mlp=(512, 256, 128), top_mlp=(1024, 1024, 512, 256, 1)),
}
