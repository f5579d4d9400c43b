"""Evaluation metrics: the official SQuAD definitions, retrieval hits and miss breakdowns."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pytest

from qa.evaluation import (
    ScoredQuestion,
    best_threshold,
    contains_answer,
    evaluate_reader,
    exact_match,
    f1_score,
    first_hit,
    hit_at_k,
    ndcg_at_k,
    normalize_answer,
    recall_at_k,
    retrieval_metrics,
    score_answer,
    squad_scores,
    summarize,
)
from qa.squad import SquadExample

# --- normalisation: the official script's behaviour, including its quirks -------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Eiffel Tower!", "eiffel tower"),
        ("  Denver   Broncos ", "denver broncos"),
        ("an apple a day", "apple day"),
        ("THE END", "end"),
        # Punctuation goes before articles, so a hyphen glues "the" to the next word.
        ("the-end", "theend"),
        ("U.S.", "us"),
        ("$1,000.50", "100050"),
        # Only ASCII punctuation is removed: typographic quotes stay.
        ("Cat\u2019s", "cat\u2019s"),
        ("theatre", "theatre"),
        ("", ""),
    ],
)
def test_normalize_answer_matches_the_official_script(text, expected):
    assert normalize_answer(text) == expected


def test_exact_match_ignores_case_punctuation_and_articles():
    assert exact_match("The Eiffel Tower!", "eiffel tower") == 1.0
    assert exact_match("Eiffel", "Eiffel Tower") == 0.0


def test_f1_counts_word_overlap():
    # pred [cat, sat], ref [cat, sat, on, mat]: precision 1, recall 1/2.
    assert f1_score("the cat sat", "a cat sat on the mat") == pytest.approx(2 / 3)


def test_f1_counts_repeated_words_once_per_occurrence():
    # pred [x, x, y], ref [x, y]: 2 words in common, precision 2/3, recall 1.
    assert f1_score("x x y", "x y") == pytest.approx(0.8)


def test_f1_is_zero_without_common_words():
    assert f1_score("Paris", "London") == 0.0


def test_f1_of_empty_prediction_is_one_only_against_no_answer():
    assert f1_score("", "") == 1.0
    assert f1_score("", "Paris") == 0.0
    assert f1_score("Paris", "") == 0.0


def test_scores_take_the_best_reference():
    assert squad_scores("Denver Broncos", ["Broncos", "Denver Broncos"]) == (1.0, 1.0)
    em, f1 = squad_scores("the Broncos", ["Denver Broncos", "Carolina Panthers"])
    assert em == 0.0 and f1 == pytest.approx(2 / 3)


def test_no_answer_question_only_rewards_an_empty_prediction():
    assert squad_scores("", []) == (1.0, 1.0)
    assert squad_scores(None, []) == (1.0, 1.0)
    assert squad_scores("Paris", []) == (0.0, 0.0)
    assert squad_scores("", ["Paris"]) == (0.0, 0.0)


def test_references_that_normalise_to_nothing_mean_no_answer():
    # As in the v2.0 script: "the" normalises to "", so the question counts as unanswerable.
    assert squad_scores("", ["the", "."]) == (1.0, 1.0)
    assert squad_scores("Paris", ["", "Paris"]) == (1.0, 1.0)


# --- retrieval hits ----------------------------------------------------------------------------


def test_contains_answer_matches_normalised_text_on_word_boundaries():
    assert contains_answer("He arrived in the U.S. on Monday.", ["US"])
    assert contains_answer("Some 13,000 containers were shipped.", ["13,000"])
    assert not contains_answer("The start of the show.", ["art"])
    assert not contains_answer("anything", [])


def test_first_hit_gives_the_rank_of_the_first_passage_with_the_answer():
    passages = ["nothing here", "still nothing", "Paris is the capital", "Paris again"]
    assert first_hit(passages, ["paris"]) == 3
    assert first_hit(passages, ["Lyon"]) is None
    assert hit_at_k(passages, ["Paris"], 3) and not hit_at_k(passages, ["Paris"], 2)


# --- end-to-end scoring and miss breakdown -----------------------------------------------------


def test_misses_are_split_between_retrieval_and_reader():
    passages = ["The capital is Paris.", "Lyon is large."]
    correct = score_answer("a", ["Paris"], "Paris", True, passages)
    retrieval = score_answer("b", ["Marseille"], "Lyon", True, passages)
    wrong = score_answer("c", ["Paris"], "Lyon", True, passages)
    abstained = score_answer("d", ["Paris"], None, False, passages)
    false_answer = score_answer("e", [], "Lyon", True, passages)
    right_abstention = score_answer("f", [], None, False, passages)
    assert correct.outcome == "correct" and correct.hit_rank == 1
    assert retrieval.outcome == "retrieval"
    assert wrong.outcome == "reader_wrong"
    assert abstained.outcome == "reader_no_answer"
    assert false_answer.outcome == "false_answer"
    assert right_abstention.outcome == "correct"


def test_an_answer_not_found_scores_as_empty_even_with_a_guess():
    scored = score_answer("a", ["Paris"], "Paris", False, ["Paris"])
    assert scored.exact_match == 0.0 and scored.outcome == "reader_no_answer"


def test_summary_reports_percentages_hits_and_misses():
    scored = [
        ScoredQuestion("1", True, 1.0, 1.0, True, 1, 5),
        ScoredQuestion("2", True, 0.0, 0.5, True, 3, 5),
        ScoredQuestion("3", True, 0.0, 0.0, True, None, 5),
        ScoredQuestion("4", False, 1.0, 1.0, False, None, 5),
    ]
    summary = summarize(scored, ks=(1, 5))
    assert summary["scored"] == 4 and summary["answerable"] == 3
    assert summary["exact_match"] == 50.0
    assert summary["f1"] == 62.5
    assert summary["hit@1"] == pytest.approx(33.33)
    assert summary["hit@5"] == pytest.approx(66.67)
    assert summary["no_answer_accuracy"] == 100.0
    assert summary["correct"] == 2
    assert summary["misses"] == {
        "retrieval": 1, "reader_no_answer": 0, "reader_wrong": 1, "false_answer": 0,
    }


def test_summary_of_nothing_is_empty_but_valid():
    assert summarize([]) == {"scored": 0, "answerable": 0, "unanswerable": 0}


# --- ranked retrieval (BEIR) --------------------------------------------------------------------


def test_ndcg_is_one_for_the_ideal_ranking_and_uses_linear_gains():
    qrels = {"a": 2, "b": 1, "c": 0}
    assert ndcg_at_k(["a", "b", "c"], qrels, 10) == pytest.approx(1.0)
    # b then a: DCG = 1/log2(2) + 2/log2(3); ideal = 2/log2(2) + 1/log2(3).
    expected = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert ndcg_at_k(["b", "a"], qrels, 10) == pytest.approx(expected)


def test_ndcg_cut_ignores_documents_past_k_and_counts_unretrieved_relevant_ones():
    qrels = {"a": 1, "b": 1}
    assert ndcg_at_k(["x", "a", "b"], qrels, 1) == 0.0
    # Only "a" retrieved at rank 1; the ideal ranking has both.
    assert ndcg_at_k(["a"], qrels, 10) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_recall_counts_relevant_documents_in_the_first_k():
    qrels = {"a": 1, "b": 2, "c": 0}
    assert recall_at_k(["a", "x", "b"], qrels, 2) == 0.5
    assert recall_at_k(["a", "x", "b"], qrels, 3) == 1.0


def test_retrieval_metrics_average_over_judged_queries_only():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 0}}
    run = {"q1": ["a"], "q2": ["x"]}
    assert retrieval_metrics(run, qrels, ndcg_ks=(10,), recall_ks=(100,)) == {
        "queries": 2, "ndcg@10": 0.5, "recall@100": 0.5,
    }


# --- the v2.0 no-answer threshold -------------------------------------------------------------


def test_best_threshold_answers_confident_questions_and_abstains_on_the_rest():
    scores = [0.9, 0.8, 0.3, 0.2]
    metric = [1.0, 1.0, 0.0, 1.0]
    answerable = [True, True, False, True]
    # Answer the top two (2 points), abstain on the rest: +1 for the unanswerable one = 3/4;
    # answering all would also score 3 (1+1+0+1); the script keeps the first maximum.
    best, thresh = best_threshold(scores, metric, answerable)
    assert best == 75.0 and thresh == 0.8


def test_best_threshold_is_infinite_when_abstaining_everywhere_is_best():
    best, thresh = best_threshold([0.5, 0.4], [0.0, 0.0], [False, False])
    assert best == 100.0 and math.isinf(thresh)


def test_best_threshold_never_splits_equal_scores():
    # Both questions share a score: answering one means answering both.
    best, thresh = best_threshold([0.5, 0.5], [1.0, 0.0], [True, False])
    assert best == 50.0


# --- evaluate_reader with a stand-in reader ---------------------------------------------------


@dataclass
class _Span:
    text: str
    start: int
    score: float


@dataclass
class _Out:
    spans: list
    no_answer: bool


class _FakeReader:
    """Answers with the first word of the context, unsure when the question says so."""

    @dataclass
    class calibration:  # noqa: N801 - mirrors Reader.calibration
        threshold = 0.5

    def read(self, question, contexts):
        word = contexts[0].split()[0]
        unsure = "unanswerable" in question
        return _Out([_Span("!", 0, 5.0), _Span(word, 0, 0.2 if unsure else 0.9)], unsure)

    def confidence(self, span):
        return span.score


def _example(i, context, answers, impossible=False, question="q?"):
    return SquadExample(
        id=str(i), title="t", question=question, context=context, answers=tuple(answers),
        answer_starts=tuple(0 for _ in answers), is_impossible=impossible,
    )


def test_evaluate_reader_on_a_v1_file_always_answers():
    examples = [
        _example(1, "Paris is big", ["Paris"]),
        _example(2, "Lyon is big", ["Marseille"]),
        _example(3, "Nice is big", ["Nice"], question="unanswerable?"),
    ]
    result = evaluate_reader(_FakeReader(), examples)
    assert result["questions"] == 3
    assert result["exact_match"] == pytest.approx(66.67)
    assert "NoAns_accuracy" not in result
    assert [p["prediction"] for p in result["predictions"]] == ["Paris", "Lyon", "Nice"]
    json.dumps(result)  # plain JSON


def test_evaluate_reader_on_a_v2_file_reports_no_answer_metrics():
    examples = [
        _example(1, "Paris is big", ["Paris"]),
        _example(2, "Lyon is big", [], impossible=True, question="unanswerable?"),
        _example(3, "Nice is big", [], impossible=True),
    ]
    result = evaluate_reader(_FakeReader(), examples)
    assert result["HasAns_f1"] == 100.0
    assert result["NoAns_accuracy"] == 50.0
    assert result["exact_match"] == pytest.approx(66.67)
    # Threshold sweep: answering only score >= 0.9 gets Paris right but answers "Nice" (0.9).
    assert result["best_exact"] == pytest.approx(66.67)
    assert result["questions_per_second"] > 0
    json.dumps(result)


def test_evaluate_reader_skips_spans_that_normalise_to_nothing():
    # The fake reader's top span "!" is punctuation only: the next one is the answer.
    result = evaluate_reader(_FakeReader(), [_example(1, "Paris is big", ["Paris"])])
    assert result["predictions"][0]["best_span"] == "Paris"


def test_evaluate_reader_threshold_overrides_the_readers_own():
    examples = [_example(1, "Paris is big", [], impossible=True), _example(2, "Lyon is big", ["Lyon"])]
    strict = evaluate_reader(_FakeReader(), examples, threshold=0.95)
    assert strict["NoAns_accuracy"] == 100.0 and strict["HasAns_f1"] == 0.0


def test_evaluate_reader_honours_the_limit():
    examples = [_example(i, "Paris is big", ["Paris"]) for i in range(5)]
    assert evaluate_reader(_FakeReader(), examples, limit=2)["questions"] == 2


def test_quiz_references_accept_the_article_s_way_of_writing_the_choice():
    from qa.evaluation import quiz_references, squad_scores

    # A quoted title and a count in digits are the same answers as the article's unquoted
    # title and its count in words; everything else is left as it is.
    assert squad_scores("Arthur", quiz_references(["\u201cArthur\u201d"])) == (1.0, 1.0)
    assert squad_scores("seven", quiz_references(["7"])) == (1.0, 1.0)
    assert squad_scores("12", quiz_references(["twelve"])) == (1.0, 1.0)
    assert squad_scores("Arthur", ["\u201cArthur\u201d"]) == (0.0, 0.0)  # the official normalisation
    assert quiz_references(["Kohl\u2019s"]) == ["Kohl\u2019s"]  # an apostrophe inside is kept
    assert squad_scores("70th", quiz_references(["70"]))[1] == 0.0  # a rank is not the count
    assert quiz_references(["1,500"]) == ["1,500"]
