"""Lexical retrieval: BM25 over the chunk texts, beside the vectors in each index generation.

Why: news questions hinge on names, figures and tickers, which an embedder of 384 dimensions
blurs and exact word matching does not (see ``Settings.retrieval`` and README "Retrieval").

The index is bm25s's (Pyserini's k1=0.9, b=0.4; English Snowball stemming and stop words), saved
as JSON and ``.npy`` arrays written with ``allow_pickle=False`` (no pickle), plus ``ids.npy``,
the chunk id of each BM25 document. BM25's statistics (document frequencies, average length)
are corpus-wide, so an update rebuilds it from all the chunk texts of the new generation rather
than patching it: measured at 1k / 10k / 100k chunks in benchmarks/results/lexical_update.md.

The lexical part sits behind `LexicalStore` (search, save, load), like `qa.stores.vectors.VectorStore`,
so a search engine can take its place.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.errors import ModelProblem

K1, B = 0.9, 0.4  # Pyserini's BM25 defaults, also used by benchmarks/retrieval_beir.py
LANGUAGE = "english"


class LexicalStore(Protocol):
    """What qa needs from a lexical index over chunks. Ids are int64 chunk ids."""

    def __len__(self) -> int: ...
    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]: ...
    def save(self, folder: Path) -> None: ...


def _libraries():
    try:
        import bm25s
        import Stemmer
    except ImportError as exc:
        raise ModelProblem("Lexical retrieval needs bm25s and PyStemmer: pip install bm25s PyStemmer") from exc
    # bm25s sets its own logger to DEBUG on import, which printed "Building index from IDs
    # objects" under every `qa index`.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s, Stemmer.Stemmer(LANGUAGE)


class Bm25Store:
    """BM25 over chunk texts with bm25s; exact scores of every chunk for each query."""

    FOLDER = "lexical"
    IDS = "ids.npy"

    def __init__(self, ids: np.ndarray, model) -> None:
        self.ids = np.asarray(ids, dtype=np.int64)
        self._model = model

    @classmethod
    def build(cls, ids: Sequence[int], texts: Sequence[str]) -> Bm25Store:
        """Index ``texts`` (one per chunk id in ``ids``)."""
        bm25s, stemmer = _libraries()
        model = bm25s.BM25(k1=K1, b=B)
        if len(texts):
            tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=stemmer, show_progress=False)
            model.index(tokens, show_progress=False)
        return cls(np.asarray(ids, dtype=np.int64), model if len(texts) else None)

    @classmethod
    def load(cls, folder: Path) -> Bm25Store:
        """Load what `save` wrote in ``folder`` (raises OSError / ValueError when it is not there
        or broken)."""
        bm25s, _ = _libraries()
        path = folder / cls.FOLDER
        ids = np.load(path / cls.IDS, allow_pickle=False)
        if not len(ids):
            return cls(ids, None)
        return cls(ids, bm25s.BM25.load(str(path), allow_pickle=False, show_progress=False))

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, chunk ids) of the ``k`` best chunks with a positive score, best first; both
        1-D, possibly shorter than ``k`` (no query word in any chunk: empty). ``allowed``: rank
        only these chunk ids (the others' scores are dropped before the top k is taken)."""
        empty = np.zeros(0, np.float32), np.zeros(0, np.int64)
        if self._model is None or k <= 0:
            return empty
        bm25s, stemmer = _libraries()
        words = bm25s.tokenize([query], stopwords="en", stemmer=stemmer, show_progress=False,
                               return_ids=False)[0]
        words = [w for w in words if w in self._model.vocab_dict]
        if not words:
            return empty
        scores = np.asarray(self._model.get_scores(words), dtype=np.float32)
        if allowed is not None:
            scores = np.where(np.isin(self.ids, allowed), scores, 0.0).astype(np.float32)
        k = min(k, int((scores > 0).sum()))
        if k == 0:
            return empty
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return scores[top], self.ids[top]

    def save(self, folder: Path) -> None:
        path = folder / self.FOLDER
        path.mkdir(exist_ok=True)
        np.save(path / self.IDS, self.ids, allow_pickle=False)
        if self._model is not None:
            self._model.save(str(path), allow_pickle=False, show_progress=False)

    def files(self, folder: Path) -> list[Path]:
        """The files `save` wrote in ``folder`` (to fsync them)."""
        return sorted((folder / self.FOLDER).iterdir())
