"""Scoped questions (issue 15): filters by article, source and date apply *in* retrieval."""

from __future__ import annotations

import json
import sys

import pytest

from qa.assistant import Assistant
from qa.errors import InvalidInput
from qa.filters import Filters
from qa.retrieval import Retriever

# Three short reports of troop numbers in different sources and months, beside the sample
# article (no source, no date): a question about troops finds the sample article first.
RECORDS = [
    {"id": "bbc-1", "title": "Troops arrive", "date": "2024-10-20", "source": "BBC",
     "text": "About 3,000 North Korean troops have arrived in eastern Russia, officials said."},
    {"id": "bbc-2", "title": "Troops train", "date": "2024-11-02", "source": "BBC",
     "text": "North Korean troops are training near the Ukrainian border, according to Kyiv."},
    {"id": "wn-1", "title": "Troops counted", "date": "2024-09-01", "source": "Wikinews",
     "text": "Analysts counted 500 North Korean troops at a base in Vladivostok."},
]


@pytest.fixture
def scoped(settings, corpus_dir):
    (corpus_dir / "reports.jsonl").write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    assistant = Assistant(settings)
    assistant.index()
    return assistant


def _ids(passages):
    return [p.record.chunk.article_id for p in passages]


def test_bad_dates_are_refused_with_the_expected_form():
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        Filters(since="last week")
    with pytest.raises(InvalidInput, match="after"):
        Filters(since="2024-12-01", until="2024-01-01")


def test_an_empty_filter_is_no_filter():
    assert not Filters()
    assert not Filters(source="  ", articles=("",))


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_a_source_filter_returns_top_k_passages_all_of_that_source(scoped, mode):
    snapshot = scoped.snapshot()
    allowed = Filters(source="bbc").chunk_ids(snapshot)
    retriever = Retriever(scoped.embedder, top_k=2, mode=mode)
    query = "What did Kyrylo Budanov claim about North Korean infantry in Russia's Far East?"
    passages = retriever.retrieve(snapshot, query, allowed=allowed)
    # Filtered in retrieval: both places go to BBC passages, though the sample article's
    # chunks match better (filtering the overall top 2 afterwards would leave none).
    assert len(passages) == 2
    assert all("#bbc-" in a for a in _ids(passages))
    assert not any("#bbc-" in a for a in _ids(retriever.retrieve(snapshot, query)))


def test_a_date_range_keeps_only_dated_articles_inside_it(scoped):
    snapshot = scoped.snapshot()
    allowed = Filters(since="2024-10-01", until="2024-10-31").chunk_ids(snapshot)
    passages = Retriever(scoped.embedder, top_k=8).retrieve(snapshot, "troops", allowed=allowed)
    assert _ids(passages) and all(a.endswith("#bbc-1") for a in _ids(passages))


def test_ask_with_filters_reads_only_those_articles_and_says_so(scoped):
    article = next(a.id for a in scoped.articles() if a.id.endswith("#wn-1"))
    answer = scoped.ask("How many North Korean troops?", filters=Filters(articles=(article,)))
    assert {p.article_id for p in answer.passages} == {article}
    assert answer.scope == f"article: {article}"
    assert answer.to_dict()["scope"] == answer.scope


def test_a_filter_that_matches_nothing_answers_not_found(scoped):
    answer = scoped.ask("How many North Korean troops?", filters=Filters(source="Reuters"))
    assert not answer.found and not answer.passages
    assert answer.scope == "source: Reuters"


def test_qa_ask_takes_source_and_dates(scoped, settings, capsys):
    from qa.cli import main

    rc = main(["ask", "How many troops?", "--corpus", str(settings.corpus_dir), "--index",
               str(settings.index_dir), "--reader", settings.reader_model, "--source", "BBC",
               "--since", "2024-10-01", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scope"] == "source: BBC; since 2024-10-01"
    assert out["passages"] and all("#bbc-" in p["article_id"] for p in out["passages"])


def test_qa_ask_refuses_a_bad_date(settings, capsys):
    from qa.cli import main

    rc = main(["ask", "How many troops?", "--corpus", str(settings.corpus_dir), "--index",
               str(settings.index_dir), "--since", "yesterday"])
    assert rc != 0
    assert "YYYY-MM-DD" in capsys.readouterr().err


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
