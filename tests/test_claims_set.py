"""The attribution set: every stored offset gives the stored text, in the data it was written on."""

from __future__ import annotations

import pytest

from benchmarks.claims import DATA, WIKINEWS, article_texts, load_set
from qa.chunking import sentence_spans


@pytest.fixture(scope="module")
def items():
    if not (DATA / WIKINEWS).exists():
        pytest.skip(f"shared data missing: {DATA / WIKINEWS}")
    return load_set(article_texts())


def test_the_set_has_at_least_100_sentences_with_both_kinds_of_voice(items):
    assert len(items) >= 100
    own = sum(i.claimant is None for i in items)
    assert 30 <= own <= len(items) - 60


def test_every_sentence_is_one_of_qas_sentences_and_the_claimant_is_in_it_or_the_one_before(items):
    for item in items:
        spans = sentence_spans(item.text)
        assert item.sentence in spans
        if item.claimant is not None:
            k = spans.index(item.sentence)
            lo = spans[k - 1][0] if k else item.sentence[0]
            assert lo <= item.claimant[0] < item.claimant[1] <= item.sentence[1]
