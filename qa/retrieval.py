"""Retrieval: the chunks most similar to a query, by cosine similarity of embeddings."""

from __future__ import annotations

from dataclasses import dataclass

from qa.embedding import Embedder
from qa.store import ChunkRecord, IndexSnapshot


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its similarity to the query (cosine, -1..1)."""

    record: ChunkRecord
    similarity: float

    @property
    def text(self) -> str:
        return self.record.chunk.text


class Retriever:
    """Dense retrieval over an `IndexSnapshot` with a sentence-transformers `Embedder`."""

    def __init__(self, embedder: Embedder, top_k: int = 8):
        self.embedder = embedder
        self.top_k = top_k

    def retrieve(self, snapshot: IndexSnapshot, query: str, top_k: int | None = None) -> list[Passage]:
        """The ``top_k`` best chunks for ``query``, best first.

        Raises:
            IndexProblem: the embedder's vectors do not fit the index (rebuild it).
        """
        k = top_k or self.top_k
        vector = self.embedder.encode([query])
        snapshot.check_dimension(vector.shape[1])
        scores, ids = snapshot.vectors.search(vector, k)
        records = snapshot.chunk_records(i for i in ids[0] if i >= 0)
        return [
            Passage(records[int(i)], float(s))
            for s, i in zip(scores[0], ids[0])
            if int(i) in records
        ]
