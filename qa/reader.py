"""The extractive reader: finds answer spans in passages with any Hugging Face QA checkpoint.

transformers 5 has no question-answering pipeline, so the span decoding lives here.

Why spans are scored independently (raw start logit + end logit, no softmax per window): a
softmax normalises within one window, so a weak span in a window with nothing better would look
as confident as a strong span elsewhere. Raw logit sums compare across windows, passages and
articles, which is what multi-passage answering needs (Haystack's reader does the same).

"No answer": every window also scores its [CLS] position (start and end logits at index 0);
the margin between a span's score and the [CLS] score of its window is the evidence that the
window holds an answer at all. `Calibration` maps (span score, margin) to a probability that
the span is a correct answer, fitted on SQuAD v2.0 and stored with the model
(``calibration.json``), so a threshold on it means the same for every question.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.answer_type import SMALL_NUMBERS
from qa.errors import InvalidQuestion, ModelProblem

CALIBRATION_FILE = "calibration.json"
# fp32: plain eager; bf16: autocast (AVX-512 BF16/AMX CPUs); int8: dynamic quantisation of the
# Linear layers (weights int8, activations quantised on the fly).
PRECISIONS = ("fp32", "bf16", "int8")


def question_budget(max_length: int, stride: int, special: int = 3) -> int:
    """The most tokens a question may have in a window of ``max_length`` tokens read with
    ``stride`` (see `Reader.question_budget`); ``special``: [CLS] q [SEP] c [SEP] has 3."""
    return max(1, (max_length - stride - special) // 2)


def context_budget(max_length: int, stride: int, special: int = 3) -> int:
    """The most context tokens that fit in one window beside the longest question allowed:
    a chunk no longer than this is read whole, in one window, whatever the question."""
    return max(1, max_length - question_budget(max_length, stride, special) - special)


# Spans kept per window. The best ones are mostly wordings of one answer ("18,412", "18,412
# votes", "received 18,412 votes"), so with 20 a second source's figure two sentences on
# ("put her total at 18,450") was never read; with 40 it is (a new user's articles: 2 of 3
# disagreements surfaced). Decoding 40 costs nothing next to the model.
TOP_SPANS = 40

# Every figure of a window is scored too, as the span that is exactly the figure ("34", "one
# million", "1.7 million"), whatever its rank: where sources disagree, the best spans are
# wordings of the first source's figure ("27", "at 27", "death toll at 27", ...), and the others'
# ("34 bodies", "at least 41 residents") were never candidates, so never shown as differing.
# Downstream, a figure still needs the candidate floor and the checks of `qa.candidates`.
_SCALE = r"(?:hundred|thousand|million|billion|trillion)"
_FIGURE = re.compile(
    rf"\d[\d,.]*\d(?:\s+{_SCALE})?|\d(?:\s+{_SCALE})?|\b(?:"
    + "|".join(w for w in SMALL_NUMBERS if w != "zero")
    + rf"|a\s+dozen|dozens|hundreds|thousands)(?:\s+{_SCALE})?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Span:
    """An answer span found in ``contexts[context_index]`` at characters [start, end)."""

    context_index: int
    start: int
    end: int
    text: str
    score: float  # start logit + end logit
    null_score: float  # [CLS] start + end logits of the same window

    @property
    def margin(self) -> float:
        return self.score - self.null_score


@dataclass(frozen=True)
class Calibration:
    """confidence = sigmoid(w_margin * margin + w_score * score + bias).

    The default (1, 0, 0) is the plain "span beats [CLS]" rule: confidence > 0.5 exactly when
    the span scores higher than no-answer.
    """

    w_margin: float = 1.0
    w_score: float = 0.0
    bias: float = 0.0
    threshold: float = 0.5  # confidence below this is "no answer" for one paragraph (SQuAD v2.0)
    fitted_on: str = ""
    # The Assistant's floor: from here up to ``threshold`` an answer is shown as tentative, below
    # it the articles "do not say". None: no tentative band (the floor is ``threshold``).
    tentative_threshold: float | None = None

    @property
    def answer_floor(self) -> float:
        """The confidence under which the Assistant says the articles do not hold the answer."""
        if self.tentative_threshold is None:
            return self.threshold
        return min(self.tentative_threshold, self.threshold)

    def confidence(self, span: Span) -> float:
        return self.confidence_of(span.margin, span.score)

    def confidence_of(self, margin: float, score: float) -> float:
        """The confidence of a span with this margin over [CLS] and this raw score."""
        z = self.w_margin * margin + self.w_score * score + self.bias
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    @classmethod
    def load(cls, folder: Path) -> Calibration:
        path = folder / CALIBRATION_FILE
        if not path.exists():
            return cls()
        data = json.loads(path.read_text())
        keys = ("w_margin", "w_score", "bias", "threshold", "fitted_on", "tentative_threshold")
        return cls(**{k: data[k] for k in keys if k in data})

    def save(self, folder: Path, extra: dict | None = None) -> None:
        data = {
            "w_margin": self.w_margin, "w_score": self.w_score, "bias": self.bias,
            "threshold": self.threshold, "fitted_on": self.fitted_on,
            "tentative_threshold": self.tentative_threshold,
        }
        (folder / CALIBRATION_FILE).write_text(json.dumps(data | (extra or {}), indent=2))


@dataclass(frozen=True)
class ReaderOutput:
    """Best spans over all contexts (best first) and each context's best no-answer score."""

    spans: list[Span]
    null_scores: list[float]


# "auto": a BERT checkpoint runs with `qa.bert` (torch alone; the same logits, a faster cold
# start), any other through transformers; "transformers": every checkpoint through transformers.
BACKENDS = ("auto", "transformers")


class Reader:
    """Reads passages with an `AutoModelForQuestionAnswering` checkpoint (folder or hub id).

    Construction is cheap; the model loads on first use (`warm_up`), once, and is shared by
    threads (inference holds no per-call state in the model). ``backend``: see `BACKENDS`
    (int8 always runs through transformers).
    """

    def __init__(
        self,
        model: str,
        max_length: int = 384,
        stride: int = 128,
        batch_size: int = 8,
        max_answer_tokens: int = 30,
        precision: str = "fp32",
        device: str = "cpu",
        backend: str = "auto",
    ):
        if not 0 <= stride < max_length:
            raise ValueError(f"the reader's stride ({stride}) must be smaller than its window ({max_length})")
        self.model_name = model
        self.max_length = max_length
        self.stride = stride
        self.batch_size = batch_size
        self.max_answer_tokens = max_answer_tokens
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
        self.precision = precision
        self.device = device  # "cpu" or a torch CUDA device ("cuda", "cuda:1")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}")
        self.backend = backend
        self._model = None
        self._tokenizer = None  # a `tokenizers.Tokenizer`, no truncation (counts question tokens)
        self._windows = None  # the same, cutting question + context into the reader's windows
        self._pad_right, self._pad_id = True, 0
        self._autocast = False
        self.calibration = Calibration()
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            folder = Path(self.model_name)
            if not folder.exists() and (self.model_name.startswith((".", "/")) or "models/" in self.model_name):
                raise ModelProblem(
                    f"The reader model folder {self.model_name} does not exist. The default reader "
                    "ships in models/reader (train one with scripts/train_reader.py), or give "
                    "any extractive QA checkpoint: a local folder or a Hugging Face hub id."
                )
            try:
                from qa import bert  # imports torch: only when a model loads

                if self.backend == "auto" and self.precision != "int8" and bert.supports(folder, "question_answering"):
                    model, tokenizer, pad_right, pad_id = self._load_bert(folder)
                else:
                    model, tokenizer, pad_right, pad_id = self._load_transformers()
            except ModelProblem:
                raise
            except Exception as exc:  # noqa: BLE001 - hub/offline/format errors all need the same advice
                raise ModelProblem(
                    f"Cannot load the reader model {self.model_name!r}: {exc}. qa runs offline: "
                    "give a local folder, or a hub id that is already in the Hugging Face cache."
                ) from exc
            model.eval()
            if self.device != "cpu":
                if self.precision == "int8":
                    raise ModelProblem("int8 (dynamic quantisation) runs on the CPU only; use bf16 on a GPU")
                try:
                    model.to(self.device)
                except (RuntimeError, AssertionError) as exc:
                    raise ModelProblem(f"Cannot put the reader on {self.device!r}: {exc}") from exc
            # bf16: a qa.bert model keeps bfloat16 weights (once); transformers' runs in autocast.
            self._autocast = self.precision == "bf16"
            if self.precision == "bf16" and isinstance(model, bert.BertForQuestionAnswering):
                bert.use_bf16(model)
                self._autocast = False
            if self.precision == "int8":
                import warnings

                import torch
                from torch.ao.quantization import quantize_dynamic

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
            # Windows: the question whole, the context cut into windows of max_length tokens
            # overlapping by stride (what a fast tokenizer's return_overflowing_tokens does).
            windows = bert.plain_copy(tokenizer)
            windows.enable_truncation(self.max_length, stride=self.stride,
                                      strategy="only_second" if pad_right else "only_first")
            self._tokenizer, self._windows, self._model = tokenizer, windows, model
            self._pad_right, self._pad_id = pad_right, pad_id
            self.calibration = Calibration.load(folder) if folder.is_dir() else Calibration()

    def _load_bert(self, folder: Path):
        """(model, tokenizer, padding on the right, pad id) with `qa.bert`: no transformers."""
        from qa import bert

        tokenizer, padding = bert.load_tokenizer(folder)
        return bert.load(folder, "question_answering"), tokenizer, padding.side == "right", padding.id

    def _load_transformers(self):
        """(model, tokenizer, padding on the right, pad id) with transformers' Auto classes."""
        import torch
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer
        from transformers.utils import logging as hf_logging

        from qa import bert

        hf_logging.disable_progress_bar()  # no "Loading weights" bar in the middle of answers
        hf_tokenizer = AutoTokenizer.from_pretrained(self.model_name)
        model = AutoModelForQuestionAnswering.from_pretrained(self.model_name, dtype=torch.float32)
        if not getattr(hf_tokenizer, "is_fast", False):
            raise ModelProblem(
                f"The reader {self.model_name!r} has no fast tokenizer (tokenizer.json); qa "
                "needs its character offsets to cite answers."
            )
        return model, bert.plain_copy(hf_tokenizer.backend_tokenizer), hf_tokenizer.padding_side == "right", hf_tokenizer.pad_token_id or 0

    @property
    def question_budget(self) -> int:
        """The most tokens a question may have (loads the tokenizer).

        Every window holds the question, the special tokens and a slice of the context that
        overlaps the previous window by ``stride`` tokens. A question of at most half of what is
        left after the stride still lets each window read as many new context tokens as the
        question has, so a long question costs at most about twice the windows of a short one
        (at 384/128: 126 tokens). Beyond ``max_length - stride - special tokens`` the tokenizer
        cannot cut windows at all ("stride must be strictly less than max_len").
        """
        self.warm_up()
        special = self._tokenizer.num_special_tokens_to_add(True)
        return question_budget(self.max_length, self.stride, special)

    def question_tokens(self, question: str) -> int:
        """The number of tokens ``question`` takes in the reader's window (loads the tokenizer)."""
        self.warm_up()
        return len(self._tokenizer.encode(question, add_special_tokens=False).ids)

    def check_question(self, question: str) -> None:
        """Raise `InvalidQuestion` when ``question`` is over `question_budget` tokens."""
        n, budget = self.question_tokens(question), self.question_budget
        if n > budget:
            raise InvalidQuestion(
                f"The question is {n} tokens long; the reader takes at most {budget} tokens "
                "(a token is about three quarters of an English word, or one Chinese character). "
                "Ask a shorter, single question."
            )

    def read(self, question: str, contexts: Sequence[str], top_n: int = TOP_SPANS) -> ReaderOutput:
        """Score answer spans for ``question`` in every context: the ``top_n`` best of each
        window (`TOP_SPANS`), and every figure of it as exactly that figure (`_FIGURE`).

        Long contexts are read in overlapping windows (``max_length`` tokens, ``stride`` tokens
        of overlap); the same span seen in two windows keeps its best score.

        Raises:
            InvalidQuestion: ``question`` is over `question_budget` tokens.
        """
        import torch

        self.warm_up()
        self.check_question(question)
        if not contexts:
            return ReaderOutput([], [])
        pad_right = self._pad_right
        pairs = [(question, c) if pad_right else (c, question) for c in contexts]
        # Each context's first window, then its overflowing ones, as transformers lists them.
        windows = [(c, w) for c, e in enumerate(self._windows.encode_batch(pairs)) for w in (e, *e.overflowing)]
        ctx_seq = 1 if pad_right else 0
        best: dict[tuple[int, int, int], Span] = {}
        null_scores = [math.inf] * len(contexts)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i][1].ids))
        for lo in range(0, len(windows), self.batch_size):
            idx = order[lo : lo + self.batch_size]
            batch = self._pad([windows[i][1] for i in idx])
            with torch.inference_mode(), torch.autocast(
                torch.device(self.device).type, dtype=torch.bfloat16, enabled=self._autocast
            ):
                out = self._model(**batch)
            starts = out.start_logits.float().cpu().numpy()
            ends = out.end_logits.float().cpu().numpy()
            for row, w in enumerate(idx):
                c, window = windows[w]
                seq_ids = window.sequence_ids
                offsets = window.offsets
                null = float(starts[row, 0] + ends[row, 0])
                null_scores[c] = min(null_scores[c], null)
                found = self._top_spans(starts[row], ends[row], seq_ids, ctx_seq, top_n)
                found += self._figure_spans(starts[row], ends[row], seq_ids, offsets, ctx_seq, contexts[c])
                for s_tok, e_tok, score in found:
                    start, end = offsets[s_tok][0], offsets[e_tok][1]
                    key = (c, start, end)
                    if key not in best or best[key].score < score:
                        best[key] = Span(c, start, end, contexts[c][start:end], score, null)
        spans = sorted(best.values(), key=lambda s: s.score, reverse=True)
        return ReaderOutput(spans, [s if s != math.inf else 0.0 for s in null_scores])

    def _pad(self, windows) -> dict:
        """Token ids, token types and attention masks of ``windows`` (`tokenizers.Encoding`),
        padded on the right to the longest, as torch tensors on the reader's device (on the
        right whatever the tokenizer's side: the logits are read by position from 0)."""
        import torch

        width = max(len(w.ids) for w in windows)
        ids = np.full((len(windows), width), self._pad_id, dtype=np.int64)
        types = np.zeros((len(windows), width), dtype=np.int64)
        mask = np.zeros((len(windows), width), dtype=np.int64)
        for row, w in enumerate(windows):
            n = len(w.ids)
            ids[row, :n], types[row, :n], mask[row, :n] = w.ids, w.type_ids, w.attention_mask
        return {k: torch.from_numpy(v).to(self.device)
                for k, v in (("input_ids", ids), ("token_type_ids", types), ("attention_mask", mask))}

    @staticmethod
    def _figure_spans(start_logits, end_logits, seq_ids, offsets, ctx_seq: int, context: str):
        """(start, end, score) of every figure (`_FIGURE`) of one window's context part whose
        first and last characters begin and end tokens."""
        tokens = [i for i, s in enumerate(seq_ids) if s == ctx_seq]
        if not tokens:
            return []
        lo, hi = offsets[tokens[0]][0], offsets[tokens[-1]][1]
        starts = {offsets[i][0]: i for i in tokens}
        ends = {offsets[i][1]: i for i in tokens}
        out = []
        for m in _FIGURE.finditer(context, lo, hi):
            s_tok, e_tok = starts.get(m.start()), ends.get(m.end())
            if s_tok is not None and e_tok is not None and e_tok >= s_tok:
                out.append((s_tok, e_tok, float(start_logits[s_tok] + end_logits[e_tok])))
        return out

    def _top_spans(self, start_logits, end_logits, seq_ids, ctx_seq: int, top_n: int):
        """The ``top_n`` (start, end, score) of one window: end >= start, within the answer
        length cap, both inside the context part of the window."""
        n = len(seq_ids)
        in_ctx = np.array([s == ctx_seq for s in seq_ids])
        if not in_ctx.any():
            return []
        s = np.where(in_ctx, start_logits[:n], -np.inf)
        e = np.where(in_ctx, end_logits[:n], -np.inf)
        # Only look at the best starts and ends: the sum of two top-k lists holds the top-k sums.
        k = min(top_n, int(in_ctx.sum()))
        s_idx = np.argpartition(-s, k - 1)[:k]
        e_idx = np.argpartition(-e, k - 1)[:k]
        grid = s[s_idx][:, None] + e[e_idx][None, :]
        length = e_idx[None, :] - s_idx[:, None]
        grid = np.where((length >= 0) & (length < self.max_answer_tokens), grid, -np.inf)
        flat = np.argsort(-grid, axis=None)[:top_n]
        result = []
        for f in flat:
            i, j = divmod(int(f), k)
            if not np.isfinite(grid[i, j]):
                break
            result.append((int(s_idx[i]), int(e_idx[j]), float(grid[i, j])))
        return result

    def confidence(self, span: Span) -> float:
        return self.calibration.confidence(span)
