"""Fitting confidence: a logistic model of (margin, score) -> correct, and its threshold."""

import numpy as np

from qa.calibration import fit_calibration, fit_logistic
from qa.reader import Span


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
