"""The embedder: vectors in input order whatever order it encodes in, and its tokenizer's view."""

import numpy as np

from qa.embedding import Embedder


def test_vectors_come_back_in_input_order_across_length_sorted_groups():
    embedder = Embedder(batch_size=2)  # groups of 8: several groups, lengths interleaved
    texts = [("word " * n).strip() + f" {n}" for n in (3, 40, 1, 17, 60, 2, 9, 33, 5, 25, 12, 70, 4, 8, 1, 50, 7)]
    seen = []
    together = embedder.encode(texts, progress=lambda done, total: seen.append((done, total)))
    alone = np.stack([embedder.encode([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-5)
    assert seen[-1] == (len(texts), len(texts)) and len(seen) == 3


def test_the_embedder_reads_its_max_seq_length_less_special_tokens():
    embedder = Embedder()
    assert embedder.max_tokens == 256 - 2
    text = "AAPL -0.3% $189.71, MSFT"
    spans = embedder.token_spans(text)
    assert len(spans) > len(text.split()) and all(0 <= s < e <= len(text) for s, e in spans)
