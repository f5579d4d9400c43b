"""BERT checkpoints run with torch alone, so a cold ``qa ask`` does not import transformers.

Both models qa ships are BERT encoders (the reader, `BertForQuestionAnswering`; the packaged
all-MiniLM-L6-v2, `BertModel`). Importing transformers' modelling stack (it pulls in
torch.distributed, dynamo and scipy) took about 3.4 s of a 10 s cold ``qa ask``, and its
``from_pretrained`` more (benchmarks/results/cold_start.md). A BERT layer is a few lines of
torch (scaled dot-product attention, post-norm, exact GELU), given the checkpoint's weights
(``model.safetensors``, read with safetensors); texts are cut by the checkpoint's own
``tokenizer.json`` through the `tokenizers` library, the one transformers' fast tokenizers wrap. The outputs equal transformers' within float error
(tests/test_bert.py). Checkpoints of any other kind load through transformers (`qa.reader`,
`qa.embedding`), which stays the reference.

Source: Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional Transformers for Language
Understanding"; the weight names are transformers' ``BertModel`` ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer.json"
# The transformers class a checkpoint's config must name for each head ("encoder": any BERT).
ARCHITECTURES = {"question_answering": "BertForQuestionAnswering", "encoder": "BertModel"}


def supports(folder: Path, head: str) -> bool:
    """True when ``folder`` holds a BERT checkpoint this module runs exactly: model type bert,
    absolute positions, exact GELU, an encoder only, one safetensors file and a tokenizer.json;
    ``head`` is "question_answering" or "encoder" (any BERT checkpoint's encoder)."""
    try:
        config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(config, dict):
        return False
    architectures = config.get("architectures") or []
    return (
        config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and not config.get("is_decoder") and not config.get("add_cross_attention")
        and (head == "encoder" or architectures == [ARCHITECTURES[head]])
        and (Path(folder) / WEIGHTS_FILE).is_file() and (Path(folder) / TOKENIZER_FILE).is_file()
    )


@dataclass
class EncoderOutput:
    """As transformers names it: ``last_hidden_state`` (batch, tokens, hidden)."""

    last_hidden_state: torch.Tensor


@dataclass
class QuestionAnsweringOutput:
    """As transformers names them: ``start_logits`` and ``end_logits``, each (batch, tokens)."""

    start_logits: torch.Tensor
    end_logits: torch.Tensor


class BertLayer(nn.Module):
    """Self-attention and a feed-forward block, each added to its input and layer-normalised
    (post-norm), as transformers' ``BertLayer`` with its SDPA attention."""

    def __init__(self, hidden: int, heads: int, intermediate: int, eps: float, device=None):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden, device=device)  # query, key, value stacked
        self.attention_output = nn.Linear(hidden, hidden, device=device)
        self.attention_norm = nn.LayerNorm(hidden, eps=eps, device=device)
        self.intermediate = nn.Linear(hidden, intermediate, device=device)
        self.output = nn.Linear(intermediate, hidden, device=device)
        self.output_norm = nn.LayerNorm(hidden, eps=eps, device=device)

    def forward(self, x: torch.Tensor, attend: torch.Tensor) -> torch.Tensor:
        # The Linear layers compute in their weights' dtype (bfloat16 after `use_bf16`), the
        # residual stream and the layer norms in float32: what CPU autocast does, without
        # casting every weight again on every call.
        dtype = self.qkv.weight.dtype
        b, t, h = x.shape
        q, k, v = self.qkv(x.to(dtype)).view(b, t, 3, self.heads, h // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=attend).transpose(1, 2).reshape(b, t, h)
        x = self.attention_norm(x + self.attention_output(a).float())
        return self.output_norm(x + self.output(F.gelu(self.intermediate(x.to(dtype)))).float())


class BertEncoder(nn.Module):
    """Embeddings (word + position + token type, LayerNorm) and a stack of `BertLayer`."""

    def __init__(self, config: dict, device=None):
        super().__init__()
        hidden, eps = int(config["hidden_size"]), float(config.get("layer_norm_eps", 1e-12))
        self.word_embeddings = nn.Embedding(int(config["vocab_size"]), hidden, device=device)
        self.position_embeddings = nn.Embedding(int(config["max_position_embeddings"]), hidden, device=device)
        self.token_type_embeddings = nn.Embedding(int(config.get("type_vocab_size", 2)), hidden, device=device)
        self.norm = nn.LayerNorm(hidden, eps=eps, device=device)
        self.layers = nn.ModuleList(
            BertLayer(hidden, int(config["num_attention_heads"]), int(config["intermediate_size"]), eps, device)
            for _ in range(int(config["num_hidden_layers"]))
        )

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        """Hidden states (batch, tokens, hidden) of ``input_ids`` (batch, tokens); positions
        where ``attention_mask`` is 0 are not attended to."""
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions)[None]
        x = self.norm(x + self.token_type_embeddings(token_type_ids))
        attend = attention_mask.bool()[:, None, None, :]  # (batch, heads, queries, keys)
        for layer in self.layers:
            x = layer(x, attend)
        return x


class BertModel(nn.Module):
    """A BERT encoder; ``model(**batch).last_hidden_state`` as with transformers' BertModel."""

    def __init__(self, config: dict, device=None):
        super().__init__()
        self.bert = BertEncoder(config, device)

    def forward(self, input_ids, attention_mask, token_type_ids=None) -> EncoderOutput:
        return EncoderOutput(self.bert(input_ids, attention_mask, token_type_ids))


class BertForQuestionAnswering(nn.Module):
    """A BERT encoder and a Linear to (start, end) logits per token, as transformers' class."""

    def __init__(self, config: dict, device=None):
        super().__init__()
        self.bert = BertEncoder(config, device)
        self.qa_outputs = nn.Linear(int(config["hidden_size"]), 2, device=device)

    def forward(self, input_ids, attention_mask, token_type_ids=None) -> QuestionAnsweringOutput:
        hidden = self.bert(input_ids, attention_mask, token_type_ids)
        logits = self.qa_outputs(hidden.to(self.qa_outputs.weight.dtype)).float()
        return QuestionAnsweringOutput(logits[..., 0], logits[..., 1])


def use_bf16(model: nn.Module) -> nn.Module:
    """``model`` (of this module) with its Linear layers in bfloat16, once, in place: the
    matrix products then run in bfloat16 (fast on CPUs with AVX-512 BF16 or AMX) while the
    embeddings, layer norms and outputs stay float32. CPU autocast computes the same but casts
    the weights again on every call, which cost ~0.3 s per single-question call here."""
    for module in model.modules():
        if isinstance(module, nn.Linear):
            module.to(torch.bfloat16)
    return model


def load(folder: Path, head: str) -> BertModel | BertForQuestionAnswering:
    """The model of ``folder`` (see `supports`) in float32, in eval mode, on the CPU.

    Raises:
        ValueError: the checkpoint lacks a weight the model needs, or has one it cannot place.
        OSError: the files cannot be read.
    """
    from safetensors.torch import load_file

    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    # Built on the CPU, its random initialisation overwritten below (~0.1 s): on the meta device
    # the initialisation goes through torch._refs, which imports torch._dynamo (1.5-2.5 s).
    kind = BertForQuestionAnswering if head == "question_answering" else BertModel
    model = kind(config)
    weights = load_file(folder / WEIGHTS_FILE)
    state = _state_dict(weights, int(config["num_hidden_layers"]), head)
    model.load_state_dict(state, strict=True)
    return model.float().eval()


def _state_dict(weights: dict[str, torch.Tensor], layers: int, head: str) -> dict[str, torch.Tensor]:
    """transformers' BERT weight names mapped onto this module's (query, key and value stacked
    into torch's ``in_proj``)."""
    prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""

    def get(name: str) -> torch.Tensor:
        try:
            return weights[prefix + name]
        except KeyError:
            raise ValueError(f"the checkpoint has no weight {prefix + name!r}") from None

    state = {
        "bert.word_embeddings.weight": get("embeddings.word_embeddings.weight"),
        "bert.position_embeddings.weight": get("embeddings.position_embeddings.weight"),
        "bert.token_type_embeddings.weight": get("embeddings.token_type_embeddings.weight"),
        "bert.norm.weight": get("embeddings.LayerNorm.weight"),
        "bert.norm.bias": get("embeddings.LayerNorm.bias"),
    }
    for i in range(layers):
        src, dst = f"encoder.layer.{i}.", f"bert.layers.{i}."
        for kind in ("weight", "bias"):
            state[dst + f"qkv.{kind}"] = torch.cat(
                [get(src + f"attention.self.{part}.{kind}") for part in ("query", "key", "value")])
            state[dst + f"attention_output.{kind}"] = get(src + f"attention.output.dense.{kind}")
            state[dst + f"attention_norm.{kind}"] = get(src + f"attention.output.LayerNorm.{kind}")
            state[dst + f"intermediate.{kind}"] = get(src + f"intermediate.dense.{kind}")
            state[dst + f"output.{kind}"] = get(src + f"output.dense.{kind}")
            state[dst + f"output_norm.{kind}"] = get(src + f"output.LayerNorm.{kind}")
    if head == "question_answering":
        for kind in ("weight", "bias"):  # the head sits outside the "bert." prefix
            if f"qa_outputs.{kind}" not in weights:
                raise ValueError(f"the checkpoint has no weight 'qa_outputs.{kind}'")
            state[f"qa_outputs.{kind}"] = weights[f"qa_outputs.{kind}"]
    return {k: v.float() for k, v in state.items()}


@dataclass(frozen=True)
class Padding:
    """How a checkpoint pads: its pad token, that token's id, and the side ("right"/"left")."""

    token: str = "[PAD]"
    id: int = 0
    side: str = "right"


def load_tokenizer(folder: Path):
    """(the checkpoint's ``tokenizer.json`` as a plain `tokenizers.Tokenizer` (see
    `plain_copy`), its `Padding` from ``tokenizer_config.json``)."""
    from tokenizers import Tokenizer

    folder = Path(folder)
    tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    path = folder / "tokenizer_config.json"
    config = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    token = str(config.get("pad_token", Padding.token))
    return tokenizer, Padding(token, tokenizer.token_to_id(token) or 0, str(config.get("padding_side", "right")))


def plain_copy(tokenizer):
    """A copy of ``tokenizer`` (a `tokenizers.Tokenizer`, e.g. a transformers fast tokenizer's
    ``backend_tokenizer``) with truncation and padding off, for its owner to set its own: one
    tokenizer object keeps one setting, and transformers changes its own on every call."""
    from tokenizers import Tokenizer

    copy = Tokenizer.from_str(tokenizer.to_str())
    copy.no_truncation()
    copy.no_padding()
    return copy
