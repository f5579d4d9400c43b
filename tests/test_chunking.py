"""Chunks: sentence-aligned windows whose text is exactly the article's text at their span."""

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.chunking import chunk_article, sentence_spans, word_spans
from qa.corpus import scan_corpus
from tests.conftest import SAMPLE_ARTICLE

words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=12)
texts = st.lists(
    st.one_of(words, st.sampled_from([". ", "! ", "? ", "\n\n", "\n", " ", "Mr. ", "U.S. ", "\u201d "])),
    max_size=200,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=texts, size=st.integers(5, 60), overlap_share=st.floats(0, 0.5))
def test_chunk_text_is_always_the_article_text_at_its_span(text, size, overlap_share):
    overlap = min(int(size * overlap_share), size // 2)
    chunks = chunk_article("a", text, max_tokens=size, overlap_tokens=overlap)
    for c in chunks:
        assert c.text == text[c.start : c.end]
        assert c.text.strip() == c.text and c.text
    # every word of the text is in some chunk
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


@settings(max_examples=100, deadline=None)
@given(text=texts)
def test_chunks_advance_and_are_numbered_in_order(text):
    chunks = chunk_article("a", text, max_tokens=20, overlap_tokens=5)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(b.start > a.start and b.end > a.end for a, b in zip(chunks, chunks[1:]))


def test_windows_respect_size_and_overlap_on_a_real_article():
    [article] = scan_corpus(SAMPLE_ARTICLE.parent).articles
    chunks = chunk_article(article.id, article.text, max_tokens=180, overlap_tokens=40)
    assert len(chunks) > 3
    for a, b in zip(chunks, chunks[1:]):
        assert len(a.text.split()) <= 180
        assert b.start < a.end  # they overlap
        assert len(article.text[b.start : a.end].split()) >= 40 - 1
    # chunks start at sentence starts
    starts = {s for s, _ in sentence_spans(article.text)}
    assert all(c.start in starts for c in chunks)


def test_abbreviations_do_not_end_sentences():
    spans = sentence_spans("Mr. Smith met U.S. officials. They agreed.")
    assert len(spans) == 2


def test_a_sentence_longer_than_a_window_is_cut_at_words():
    text = " ".join(f"w{i}" for i in range(100)) + "."
    chunks = chunk_article("a", text, max_tokens=30, overlap_tokens=0)
    assert len(chunks) == 4 and all(len(c.text.split()) <= 30 for c in chunks)


def test_cjk_text_is_split_into_sentences():
    text = "北京今天下雨。明天会放晴！你要去吗？「好的。」他说。"
    assert [text[s:e] for s, e in sentence_spans(text)] == ["北京今天下雨。", "明天会放晴！", "你要去吗？", "「好的。」", "他说。"]


def test_a_cjk_paragraph_is_chunked_into_several_windows():
    text = "北京今天下了一场很大的雨，交通受到影响。" * 60  # 1,200 characters, no spaces
    chunks = chunk_article("a", text, max_tokens=180, overlap_tokens=40)
    assert len(chunks) > 5
    assert all(len(c.text) <= 200 and c.text == text[c.start : c.end] for c in chunks)


@settings(max_examples=200, deadline=None)
@given(text=texts, size=st.integers(8, 60), overlap_share=st.floats(0, 0.5))
def test_consecutive_chunks_always_overlap_and_fit_the_window(text, size, overlap_share):
    chunks = chunk_article("a", text, max_tokens=size, overlap_tokens=min(int(size * overlap_share), size // 2))
    for a, b in zip(chunks, chunks[1:]):
        assert b.start < a.end, "consecutive chunks share nothing"
    assert all(len(word_spans(c.text)) <= size for c in chunks)


def test_a_log_without_full_stops_is_cut_into_overlapping_windows():
    text = " ".join(f"{i:02d}:00 the count so far was {i * 10}" for i in range(60))  # 420 words, no full stop
    chunks = chunk_article("a", text, max_tokens=100, overlap_tokens=20)
    assert len(chunks) >= 5
    for a, b in zip(chunks, chunks[1:]):
        assert len(word_spans(text[b.start : a.end])) >= 20
        assert len(word_spans(a.text)) <= 100


def test_windows_are_measured_in_the_given_tokens():
    # A tokenizer that cuts every character: 10 words of 5 characters are 50 tokens.
    text = " ".join(["abcde"] * 10)
    chars = lambda t: [(i, i + 1) for i, ch in enumerate(t) if not ch.isspace()]  # noqa: E731
    chunks = chunk_article("a", text, max_tokens=20, overlap_tokens=5, token_spans=chars)
    assert all(len(chars(c.text)) <= 20 for c in chunks) and len(chunks) >= 3
    assert all(c.text == text[c.start : c.end] for c in chunks)


def test_a_word_longer_than_the_window_is_cut_at_its_tokens():
    text = "see " + "x" * 300 + " now"
    chars = lambda t: [(i, i + 1) for i, ch in enumerate(t) if not ch.isspace()]  # noqa: E731
    chunks = chunk_article("a", text, max_tokens=50, overlap_tokens=10, token_spans=chars)
    assert all(len(chars(c.text)) <= 50 for c in chunks)
    assert all(b.start < a.end for a, b in zip(chunks, chunks[1:]))
    assert chunks[-1].text.endswith("now")
