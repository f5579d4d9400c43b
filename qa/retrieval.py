"""Retrieval: the chunks that best match a query, by embeddings (dense), by BM25 (lexical), or
both fused by reciprocal rank (hybrid).

Reciprocal rank fusion (Cormack, Clarke and Buettcher, SIGIR 2009) scores a chunk by
``sum(weight / (rrf_k + rank))`` over the rankings it appears in (rank 1 = first). It needs no
score calibration between BM25 and cosine, which live on unrelated scales.

Every passage keeps its dense cosine similarity in ``similarity``, whichever mode found it
(a chunk BM25 alone found gets the cosine of its stored vector with the query's), because the
answerability model reads it as a feature (`qa.candidates`): it must mean the same in every mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.embedding import Embedder
from qa.stores.generations import IndexSnapshot
from qa.stores.metadata import ChunkRecord

MODES = ("dense", "lexical", "hybrid")


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk and how it was found.

    ``similarity``: cosine similarity of the chunk's and the query's embeddings (-1..1), in every
    mode. ``dense_rank`` / ``lexical_rank``: 1-based rank in the dense / BM25 ranking, None when
    that ranking was not run or did not reach the chunk; ``lexical_score``: its BM25 score (None
    likewise); ``fusion_score``: its reciprocal-rank-fusion score (hybrid only).
    """

    record: ChunkRecord
    similarity: float
    dense_rank: int | None = None
    lexical_score: float | None = None
    lexical_rank: int | None = None
    fusion_score: float | None = None

    @property
    def text(self) -> str:
        return self.record.chunk.text


class Retriever:
    """Dense, lexical or hybrid retrieval over an `IndexSnapshot`.

    Args:
        embedder: the sentence-transformers `Embedder` the index was built with.
        top_k: passages returned per query.
        mode: "dense", "lexical" or "hybrid" (see the module docstring and README "Retrieval").
        depth: how deep each ranking is read before fusion (hybrid).
        rrf_k: the rank offset of reciprocal rank fusion (60 in Cormack et al.).
        lexical_weight: the BM25 ranking's weight in the fusion; the dense ranking's is 1.
    """

    def __init__(self, embedder: Embedder, top_k: int = 8, mode: str = "dense", depth: int = 50,
                 rrf_k: int = 60, lexical_weight: float = 1.0):
        if mode not in MODES:
            raise ValueError(f"retrieval must be one of {', '.join(MODES)}, not {mode!r}")
        self.embedder = embedder
        self.top_k = top_k
        self.mode = mode
        self.depth = depth
        self.rrf_k = rrf_k
        self.lexical_weight = lexical_weight

    def retrieve(self, snapshot: IndexSnapshot, query: str, top_k: int | None = None,
                 mode: str | None = None, allowed: np.ndarray | None = None) -> list[Passage]:
        """The ``top_k`` best chunks for ``query``, best first (``mode`` overrides the default).
        ``allowed``: search only these chunk ids (a scoped question, `qa.filters`); both
        rankings are restricted before their top k is taken.

        Raises:
            IndexProblem: the embedder's vectors do not fit the index (rebuild it).
        """
        k = top_k or self.top_k
        mode = mode or self.mode
        vector = self.embedder.encode([query])
        snapshot.check_dimension(vector.shape[1])
        dense: dict[int, tuple[int, float]] = {}  # chunk id -> (rank, cosine)
        lexical: dict[int, tuple[int, float]] = {}  # chunk id -> (rank, BM25 score)
        if mode != "lexical":
            scores, ids = snapshot.vectors.search(vector, k if mode == "dense" else max(k, self.depth), allowed)
            dense = {int(i): (r, float(s)) for r, (s, i) in enumerate(zip(scores[0], ids[0]), 1) if i >= 0}
        if mode != "dense":
            scores, ids = snapshot.lexical.search(query, k if mode == "lexical" else max(k, self.depth), allowed)
            lexical = {int(i): (r, float(s)) for r, (s, i) in enumerate(zip(scores, ids), 1)}
        fused: dict[int, float] = {}
        if mode == "hybrid":
            for i, (r, _) in dense.items():
                fused[i] = 1.0 / (self.rrf_k + r)
            for i, (r, _) in lexical.items():
                fused[i] = fused.get(i, 0.0) + self.lexical_weight / (self.rrf_k + r)
            order = sorted(fused, key=lambda i: (-fused[i], dense.get(i, (np.inf,))[0]))[:k]
        else:
            order = list(dense if mode == "dense" else lexical)[:k]
        cosine = {i: s for i, (_, s) in dense.items()}
        unseen = [i for i in order if i not in cosine]
        if unseen:  # found by BM25 alone: its similarity is still the dense cosine
            sims = snapshot.vectors.vectors_of(np.array(unseen, dtype=np.int64)) @ vector[0]
            cosine.update(zip(unseen, (float(s) for s in sims)))
        records = snapshot.chunk_records(order)
        return [
            Passage(
                records[i], cosine[i],
                dense_rank=dense[i][0] if i in dense else None,
                lexical_score=lexical[i][1] if i in lexical else None,
                lexical_rank=lexical[i][0] if i in lexical else None,
                fusion_score=fused.get(i),
            )
            for i in order
            if i in records
        ]
