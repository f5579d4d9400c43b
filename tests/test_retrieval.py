"""Retrieval: chunks the embedder reads whole, overlap where there is no sentence end, and the
lexical (BM25) index beside the vectors, alone or fused with them."""

import json
import shutil

import numpy as np
import pytest

from qa.assistant import Assistant
from qa.embedding import Embedder
from qa.errors import IndexProblem
from qa.indexer import open_index, update_index
from qa.retrieval import Retriever
from qa.settings import Settings
from qa.stores.generations import MANIFEST
from qa.stores.lexical import Bm25Store
from tests.conftest import SAMPLE_ARTICLE

# 110 words but 392 word pieces (tickers and prices): the embedder reads only the first 254.
MARKET_REPORT = (
    "Market close\n\n"
    "NVDA +3.2% $487.21, AMD -1.1% $118.40, INTC +0.4% $43.92, TSM +2.7% $101.55, AVGO +1.9% $1,012.33, "
    "QCOM -0.6% $142.08, MU +4.1% $88.17, ASML +1.3% $702.46, AMAT +0.8% $161.29, LRCX -0.2% $755.10; "
    "AAPL -0.3% $189.71, MSFT +0.9% $374.58, GOOGL +1.4% $138.02, AMZN +2.2% $147.03, META +0.5% $335.12, "
    "TSLA -2.8% $234.30, NFLX +1.1% $478.59, ORCL +0.7% $115.27, CRM -0.9% $226.84, ADBE +1.6% $611.40; "
    "XOM -1.2% $102.66, CVX -0.8% $149.13, COP -1.5% $116.09, SLB +0.3% $52.18, OXY -0.4% $59.61; "
    "JPM +0.6% $158.22, BAC +0.2% $29.87, WFC -0.1% $44.35, GS +1.0% $345.17, MS +0.4% $86.90. "
    "Separately, Northwind Airlines said it would cut 1,200 jobs at its Denver hub after a third quarterly loss.\n"
)
NEIGHBOURS = {
    "airline-hiring.txt": "Airlines hire again\n\nSouthern Skies Airlines said it would hire 800 pilots "
    "and cabin crew in Phoenix next year as travel demand recovers, and its chief executive said the "
    "Denver route network would grow.\n",
    "factory-jobs.txt": "Car plant cuts\n\nA carmaker said it would cut 2,000 jobs at its plant in Ohio "
    "as sales of electric vehicles slowed, union leaders said on Monday.\n",
    "airport.txt": "Denver airport\n\nDenver International Airport expects a record number of passengers "
    "this winter, with airlines adding flights to ski resorts and new gates opening in the east concourse.\n",
}
# A live-updates log of 237 words without one full stop; a window of 180 words ended at "was".
LOG_ENTRIES = [
    "09:05 rescue teams reach the northern valley and road closures remain in place",
    "09:20 the regional governor says shelters are open in three towns",
    "09:41 power is restored to parts of the city",
    "10:02 trains are suspended between the coast and the capital until further notice",
    "10:15 volunteers gather at the stadium to sort donations",
    "10:30 the weather service extends the flood warning for another day",
    "10:48 schools are closed in the valley",
    "11:03 aid convoys leave the port with water and blankets",
    "11:20 hospitals report a steady stream of injured people",
    "11:37 the army sends helicopters to the mountain villages",
    "11:52 the mayor thanks the rescue teams for their work",
    "12:10 officials give an update on the evacuation of the valley",
    "12:25 the river is still rising near the old bridge",
    "12:40 firefighters pump water out of the metro stations",
    "12:50 police ask drivers to stay away from the flooded valley roads",
    "12:58 the prime minister will visit the region tomorrow",
    "13:14 the civil protection agency said the total number of people evacuated from their homes so far was",
    "2,340 and that more families were expected to leave overnight",
    "13:30 the red cross opens a second shelter in the sports hall",
    "13:45 farmers fear the harvest is lost in the lower valley",
    "14:02 the airport reopens after the runway is cleared of water",
    "14:20 insurers set up a special hotline for flood damage claims from residents",
]
FLOOD_LOG = "Flood live updates\n\n" + " ".join(LOG_ENTRIES) + "\n"


@pytest.fixture(scope="module")
def embedder():
    return Embedder()


@pytest.fixture
def news(corpus_dir):
    (corpus_dir / "market-close.txt").write_text(MARKET_REPORT)
    for name, text in NEIGHBOURS.items():
        (corpus_dir / name).write_text(text)
    return corpus_dir


@pytest.fixture
def cfg(news, tmp_path):
    return Settings(corpus_dir=news, index_dir=tmp_path / "index")


def test_no_chunk_is_longer_than_the_embedder_reads(cfg, embedder):
    snap, _ = update_index(cfg, embedder)
    records = snap.chunk_records(range(1, len(snap) + 1))
    assert len(records) == len(snap)
    for r in records.values():
        assert len(embedder.token_spans(r.chunk.text)) <= embedder.max_tokens == 254


def test_a_fact_in_the_last_sentence_of_a_long_report_is_retrieved_first(cfg, embedder):
    snap, _ = update_index(cfg, embedder)
    [first, *_] = Retriever(embedder).retrieve(snap, "How many jobs will Northwind Airlines cut at its Denver hub?")
    assert "cut 1,200 jobs at its Denver hub" in first.text
    assert first.record.chunk.article_id == "market-close.txt" and first.similarity > 0.6


def test_a_figure_after_a_chunk_boundary_without_full_stops_is_answered(trained_reader, corpus_dir, tmp_path):
    assert len(FLOOD_LOG.split()) == 237 + 3  # the title's three words
    (corpus_dir / "flood-log.txt").write_text(FLOOD_LOG)
    assistant = Assistant(Settings(corpus_dir=corpus_dir, index_dir=tmp_path / "index",
                                   reader_model=str(trained_reader)))
    answer = assistant.ask("What was the total number of people evacuated from their homes so far?")
    assert answer.found and answer.answer == "2,340"
    text = assistant.snapshot().article_text("flood-log.txt")
    [citation] = [c for c in answer.citations if c.article_id == "flood-log.txt"][:1]
    assert text[citation.start : citation.end] == "2,340"


def test_lexical_retrieval_finds_a_ticker_that_dense_retrieval_blurs(cfg, embedder):
    snap, _ = update_index(cfg, embedder)
    [first, *_] = Retriever(embedder, mode="lexical").retrieve(snap, "LRCX")
    assert first.record.chunk.article_id == "market-close.txt" and "LRCX" in first.text
    assert first.lexical_rank == 1 and first.lexical_score > 0 and first.dense_rank is None


def test_passages_found_by_bm25_alone_keep_their_dense_cosine_similarity(cfg, embedder):
    snap, _ = update_index(cfg, embedder)
    query = "Northwind Airlines Denver jobs"
    for mode in ("lexical", "hybrid"):
        for p in Retriever(embedder, mode=mode).retrieve(snap, query):
            expected = float(embedder.encode([p.text])[0] @ embedder.encode([query])[0])
            # bf16 embeddings: one text encoded alone or in the index's batches differs by ~2e-4.
            assert p.similarity == pytest.approx(expected, abs=2e-3)


def test_hybrid_fuses_both_rankings_by_reciprocal_rank(cfg, embedder):
    snap, _ = update_index(cfg, embedder)
    passages = Retriever(embedder, mode="hybrid", rrf_k=60).retrieve(snap, "Northwind Airlines job cuts")
    fused = [p.fusion_score for p in passages]
    assert fused == sorted(fused, reverse=True)
    for p in passages:
        expected = sum(1 / (60 + r) for r in (p.dense_rank, p.lexical_rank) if r is not None)
        assert p.fusion_score == pytest.approx(expected)
    assert any(p.dense_rank and p.lexical_rank for p in passages)


def test_a_question_with_no_indexed_word_gets_no_lexical_passages(cfg, embedder):
    snap, _ = update_index(cfg, embedder)
    assert Retriever(embedder, mode="lexical").retrieve(snap, "zyxwvut?") == []
    assert len(Retriever(embedder, mode="hybrid").retrieve(snap, "zyxwvut?")) == cfg.top_k


def test_the_lexical_index_follows_incremental_updates(cfg, embedder, news):
    update_index(cfg, embedder)
    (news / "valencia.txt").write_text("Floods in Valencia\n\nFlash floods in Valencia killed 223 people.\n")
    snap, report = update_index(cfg, embedder)
    assert report.added == ["valencia.txt"] and len(snap.lexical) == len(snap)
    [hit] = [p for p in Retriever(embedder, mode="lexical").retrieve(snap, "Valencia")]
    assert hit.record.chunk.article_id == "valencia.txt"
    (news / "valencia.txt").unlink()
    snap, _ = update_index(cfg, embedder)
    assert Retriever(embedder, mode="lexical").retrieve(snap, "Valencia") == []
    assert len(snap.lexical) == len(snap)


def test_the_lexical_index_is_saved_without_pickle(cfg, embedder):
    snap, _ = update_index(cfg, embedder)
    files = sorted((snap.folder / Bm25Store.FOLDER).iterdir())
    assert {f.suffix for f in files} == {".json", ".npy"}
    for f in files:
        if f.suffix == ".npy":
            assert np.load(f, allow_pickle=False).dtype != object
        else:
            json.loads(f.read_text())


def test_an_index_without_its_lexical_part_asks_for_a_rebuild(cfg, embedder):
    snap, _ = update_index(cfg, embedder)
    shutil.rmtree(snap.folder / Bm25Store.FOLDER)
    with pytest.raises(IndexProblem, match="qa index --rebuild"):
        open_index(cfg, embedder)


def test_an_index_of_the_previous_format_asks_for_a_rebuild(cfg, embedder):
    update_index(cfg, embedder)
    path = cfg.index_dir / MANIFEST
    manifest = json.loads(path.read_text())
    # What version 1 wrote: chunks measured in words, no lexical part.
    manifest.update(format_version=1, chunking={"words": 180, "overlap_words": 40})
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexProblem, match="format version 1.*qa index --rebuild"):
        open_index(cfg, embedder)


def test_an_unknown_retrieval_mode_is_refused(embedder):
    with pytest.raises(ValueError, match="dense, lexical, hybrid"):
        Retriever(embedder, mode="sparse")


def test_the_sample_article_is_chunked_within_the_models_windows(corpus_dir, tmp_path, embedder):
    shutil.copy(SAMPLE_ARTICLE, corpus_dir)
    snap, _ = update_index(Settings(corpus_dir=corpus_dir, index_dir=tmp_path / "i"), embedder)
    chunks = sorted((r.chunk for r in snap.chunk_records(range(1, len(snap) + 1)).values()), key=lambda c: c.index)
    for a, b in zip(chunks, chunks[1:]):
        assert b.start < a.end
        assert len(embedder.token_spans(snap.article_text(a.article_id)[b.start : a.end])) >= 48
