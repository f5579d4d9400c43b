"""The answerability model (qa.answerability): the candidate ranker with its confidence, and the
verifier that decides whether the articles hold an answer at all.

The model is plain numbers in JSON; these tests build small ones by hand or fit them on made-up
features (no reader involved), then check the shipped model on the sample article.
"""

import json
import math
from dataclasses import replace

import pytest

from qa.answerability import Answerability, AnswerFeatures, QuestionFeatures, Verifier, fit

NAMES = tuple(AnswerFeatures.names())


def features(**values) -> AnswerFeatures:
    base = {n: 0.0 for n in NAMES} | {"retrieved_names": 1.0}
    return AnswerFeatures(**(base | values))


def model(verifier: Verifier | None = None) -> Answerability:
    weights = tuple(2.0 if n == "span_score" else 0.0 for n in NAMES)
    return Answerability(NAMES, tuple(0.0 for _ in NAMES), tuple(1.0 for _ in NAMES), weights, 0.0,
                         threshold=0.6, floor=0.2, verifier=verifier)


def test_question_features_summarise_the_candidates_best_first():
    m = model()
    ranked = [features(span_score=1.0, names_missing=0.5, margin=1.0, sentence_similarity=0.4),
              features(span_score=0.25, names_missing=0.0, margin=3.0, sentence_similarity=0.7)]
    q = QuestionFeatures.of(ranked, m)
    assert q.top_probability == pytest.approx(m.probability(ranked[0]))
    assert q.top_gap == pytest.approx(2.0 * 1.0 - 2.0 * 0.25)
    assert q.candidates == pytest.approx(math.log1p(2))
    assert q.best_margin == 3.0
    assert q.best_sentence_similarity == 0.7
    assert q.names_missing == 0.0  # the lowest: one candidate's article names everything


def test_without_candidates_the_articles_hold_no_answer():
    v = Verifier(("top_probability",), (0.0,), (1.0,), (1.0,), 0.0, floor=0.5)
    assert model(v).answerable([]) == 0.0
    assert model(None).answerable([features()]) is None  # no verifier: the floor alone decides


def test_a_fitted_verifier_tells_covered_questions_from_uncovered_ones():
    m = model()
    covered = [QuestionFeatures.of([features(span_score=s, retrieved_terms=0.8 + s / 10, top_similarity=0.6)], m)
               for s in (0.5, 1.0, 1.5, 2.0)]
    uncovered = [QuestionFeatures.of([features(span_score=s, retrieved_terms=0.2 + s / 10, top_similarity=0.35)], m)
                 for s in (0.5, 1.0, 1.5, 2.0)]
    names, mean, scale, weights, bias = fit(covered + uncovered, [1] * 4 + [0] * 4)
    v = Verifier(names, mean, scale, weights, bias, floor=0.5)
    assert all(v.probability(q) > 0.5 for q in covered)
    assert all(v.probability(q) < 0.5 for q in uncovered)


def test_the_model_file_round_trips_with_its_verifier(tmp_path):
    v = Verifier(("top_probability", "retrieved_terms"), (0.3, 0.5), (0.2, 0.1), (1.5, 2.0), -0.5, floor=0.4)
    m = model(v)
    m.save(tmp_path)
    loaded = Answerability.load(tmp_path)
    assert loaded == m
    ranked = [features(span_score=0.7, retrieved_terms=0.9)]
    assert loaded.answerable(ranked) == pytest.approx(m.answerable(ranked))


def test_a_verifier_fitted_on_unknown_features_is_refused(tmp_path):
    v = Verifier(("top_probability",), (0.0,), (1.0,), (1.0,), 0.0, floor=0.5)
    model(v).save(tmp_path)
    path = tmp_path / "answerability.json"
    data = json.loads(path.read_text())
    data["verifier"]["features"] = ["gut_feeling"]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="refit"):
        Answerability.load(tmp_path)


def test_a_refusal_by_the_verifier_says_what_fell_short():
    from qa.answer import Answer
    from qa.cli import render_answer

    refused = Answer(question="How many homes lost power?", query="How many homes lost power?", answer=None,
                     found=False, score=0.55, answerable=0.23)
    text = render_answer(refused, 0.245)
    # Not "best 0.55, threshold 0.25": that compared the span's confidence with the verifier's floor.
    assert "probability 0.23, under 0.24" in text and "best 0.55" not in text
    out_of_scope = replace(refused, scope="source: wikinews", answerable=0.0)
    assert "no indexed article is in the scope" in render_answer(out_of_scope, 0.245)


def test_an_answer_from_an_article_that_mentions_the_question_s_names_goes_first_only_if_credible():
    from qa.answer import Candidate
    from qa.assistant import answer_order
    from qa.candidates import ScoredCandidate

    def scored(answer: str, score: float, unmentioned: tuple[str, ...] = ()) -> ScoredCandidate:
        return ScoredCandidate(Candidate(answer, score, ()), features(names_missing=float(bool(unmentioned))),
                               places=(), unmentioned=unmentioned)

    # "Which MLB team was invited to the White House?": the passage that answers it never says
    # "Major League Baseball"; a span barely over the candidate floor from one that does (a
    # basketball team's visit) must not take its place.
    braves = scored("The Atlanta Braves", 0.90, unmentioned=("Major League Baseball",))
    bucks = scored("Milwaukee Bucks", 0.06)
    assert [c.candidate.answer for c in answer_order([braves, bucks], {}, credible=0.3)] == [
        "The Atlanta Braves", "Milwaukee Bucks"]
    # Another city's race: the article of the city asked about wins when its answer is credible.
    vienna = scored("1:59:40", 0.85, unmentioned=("Berlin",))
    berlin = scored("2:01:09", 0.45)
    assert answer_order([vienna, berlin], {}, credible=0.3)[0] is berlin
    # "Who said X?": the one the article names as the source of X goes before a likelier name;
    # so does the police's figure for "How many did the police say ...?", credible or not.
    a, b = scored("Anna", 0.8), scored("Troy Roberts", 0.5)
    assert answer_order([a, b], {id(b): 0.8}, credible=0.3)[0] is b
    own, police = scored("Tens of thousands", 0.88), scored("18,000", 0.12)
    assert answer_order([own, police], {id(police): 1.0}, credible=0.3)[0] is police
    # "How many marched in 2019?" of a 2023 story: the figure read beside 2019 goes first,
    # though under the report floor, before one read where the article never says 2019.
    this_year = replace(scored("12,000", 0.93), other_year="2019")
    that_year = scored("40,000", 0.08)
    assert answer_order([this_year, that_year], {}, credible=0.3)[0] is that_year


def test_a_figure_of_another_year_goes_after_its_own_articles_figures_only():
    from qa.answer import Candidate, Citation
    from qa.assistant import answer_order
    from qa.candidates import ScoredCandidate

    def scored(answer: str, score: float, article: str) -> ScoredCandidate:
        cited = Citation(article, article, 0, 1, "x", 0, f"{article}#0", 1)
        return ScoredCandidate(Candidate(answer, score, (cited,)), features(), places=())

    # "since 2018, when a fire near Valby ... destroyed 60 homes": after this fire's 27 and 19
    sixty, twenty_seven, nineteen = scored("60", 0.88, "kessin"), scored("27", 0.66, "kessin"), scored("19", 0.55, "kessin")
    order = answer_order([sixty, twenty_seven, nineteen], {}, credible=0.3, secondary={id(sixty)}, floor=0.055)
    assert [c.candidate.answer for c in order] == ["27", "19", "60"]
    # another article's candidate keeps its place: it does not pass the demoted one on its account
    forty_eight, fifty = scored("48", 0.8, "golf"), scored("50", 0.1, "golf")
    other = scored("29-year-old", 0.12, "tennis")
    order = answer_order([forty_eight, other, fifty], {}, credible=0.3, secondary={id(forty_eight)}, floor=0.055)
    assert [c.candidate.answer for c in order] == ["50", "48", "29-year-old"]
    # under the floor, a figure of the article does not move up
    low = scored("7", 0.01, "golf")
    assert answer_order([forty_eight, low], {}, credible=0.3, secondary={id(forty_eight)}, floor=0.055)[0] is forty_eight
