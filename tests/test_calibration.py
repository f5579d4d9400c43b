"""Fitting confidence: a logistic model of (margin, score) -> correct, and its threshold."""

import numpy as np

from qa.calibration import fit_calibration, fit_logistic, off_topic_questions, rejecting
from qa.reader import Calibration, Span


def test_logistic_fit_recovers_known_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 2))
    p = 1 / (1 + np.exp(-(2.0 * x[:, 0] - 1.0 * x[:, 1] + 0.5)))
    y = (rng.random(4000) < p).astype(float)
    w = fit_logistic(x, y)
    assert np.allclose(w, [2.0, -1.0, 0.5], atol=0.25)


def test_calibrated_confidence_separates_right_from_wrong_and_sets_a_threshold():
    rng = np.random.default_rng(1)
    preds = []
    for i in range(600):
        answerable = i % 3 != 0
        margin = rng.normal(3 if answerable else -3)
        preds.append({"margin": margin, "raw_score": margin + 10, "best_span": "paris" if answerable else "x",
                      "answers": ["Paris"] if answerable else []})
    cal, report = fit_calibration(preds, fitted_on="synthetic")
    high = cal.confidence(Span(0, 0, 1, "a", score=14.0, null_score=10.0))
    low = cal.confidence(Span(0, 0, 1, "a", score=7.0, null_score=10.0))
    assert high > 0.9 and low < 0.1
    assert 0.0 < cal.threshold < 1.0 and report["best_f1"] > 90


def test_rejecting_is_the_lowest_threshold_below_which_the_share_falls():
    conf = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    t = rejecting(conf, 0.9)
    assert sum(c < t for c in conf) == 9 and t <= 0.9 + 1e-5
    assert sum(c < rejecting(conf, 0.95) for c in conf) >= 9.5


def test_the_tentative_threshold_is_a_floor_under_the_threshold(tmp_path):
    cal = Calibration(threshold=0.49, tentative_threshold=0.3)
    assert cal.answer_floor == 0.3
    assert Calibration(threshold=0.49).answer_floor == 0.49
    assert Calibration(threshold=0.2, tentative_threshold=0.3).answer_floor == 0.2
    cal.save(tmp_path)
    assert Calibration.load(tmp_path) == cal


def test_off_topic_questions_get_other_articles_paragraphs_closest_first():
    from qa.embedding import Embedder
    from qa.squad import SquadExample

    articles = {
        "Paris": ["Paris is the capital of France.", "The Seine flows through Paris."],
        "Volcano": ["A volcano erupts molten rock.", "Lava cools into basalt."],
        "Chess": ["Chess is played on 64 squares.", "The queen is the strongest piece."],
    }
    questions = {"Paris": "Which chess piece is the strongest?", "Volcano": "What river flows through Paris?",
                 "Chess": "What does lava cool into?"}
    examples = [
        SquadExample(id=f"{title}{i}", title=title, question=questions[title] + "?" * i,
                     context=text, paragraph_index=i, answers=(text.split()[0],), answer_starts=(0,))
        for title, texts in articles.items() for i, text in enumerate(texts)
    ]
    pairs = off_topic_questions(examples, Embedder(), limit=0, k=8)
    assert len(pairs) == len(examples)
    for ex, (question, contexts) in zip(examples, pairs):
        assert question == ex.question and len(contexts) == 4  # every paragraph of the 2 others
        assert not set(contexts) & set(articles[ex.title])
    nearest = {q.rstrip("?"): c[0] for q, c in pairs}
    assert nearest["Which chess piece is the strongest"] == "The queen is the strongest piece."
    assert nearest["What river flows through Paris"] == "The Seine flows through Paris."
    assert nearest["What does lava cool into"] == "Lava cools into basalt."
