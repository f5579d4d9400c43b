"""The embedder: vectors in input order whatever order it encodes in, and its tokenizer's view."""

import numpy as np

from qa.embedding import Embedder


def test_vectors_come_back_in_input_order_across_length_sorted_groups():
    embedder = Embedder(batch_size=2, precision="fp32")  # groups of 8: several groups, lengths interleaved
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


def test_the_packaged_model_runs_without_sentence_transformers_and_gives_its_vectors():
    """The plain mean-pooling path must give the vectors the index was built with by
    sentence-transformers: same texts, same vectors (padding, truncation at 256 word pieces,
    spaces around, other scripts, an empty string)."""
    from sentence_transformers import SentenceTransformer

    from qa.embedding import MeanPoolingEncoder, resolve_model

    embedder = Embedder(precision="fp32")
    embedder.warm_up()
    assert isinstance(embedder._model, MeanPoolingEncoder)
    texts = ["How many containers of munitions has North Korea shipped to Russia?",
             "  spaces around  ", "", "北朝鲜向俄罗斯运送了多少集装箱？", "Ünïcödé — “quotes” …",
             " ".join(["a long text of many words"] * 120), "x"]
    reference = SentenceTransformer(resolve_model("")[1], device="cpu").encode(
        texts, batch_size=3, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    assert np.allclose(embedder.encode(texts), reference, atol=1e-5)


def test_bf16_vectors_point_where_fp32_ones_do():
    """The default precision: every vector within cosine 0.9999 of its fp32 twin, so an index
    built with either serves queries embedded with the other."""
    texts = ["How many containers of munitions has North Korea shipped to Russia?", "x", "",
             " ".join(["a long text of many words"] * 120), "Ünïcödé — “quotes” …"]
    fast, exact = Embedder(batch_size=2), Embedder(batch_size=2, precision="fp32")
    assert fast.precision == "bf16"
    cosines = (fast.encode(texts) * exact.encode(texts)).sum(axis=1)
    assert cosines.min() > 0.9999, cosines
