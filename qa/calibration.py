"""Fitting the reader's confidence and no-answer threshold on SQuAD v2.0.

Raw span scores (start + end logits) rank spans but are not probabilities: "score 7.3" means
nothing to a reader of the news. We fit a logistic regression from (margin over [CLS], raw
score) to "this span is a correct answer" on SQuAD v2.0 dev, where a third of the questions
have no answer in their paragraph, and pick the confidence threshold that maximises v2.0 F1.
The result is stored next to the model (``calibration.json``) and used by `qa.reader.Reader`.

A second, lower threshold is fitted for the Assistant (`Calibration.tentative_threshold`).
SQuAD v2.0's unanswerable questions are adversarial: written against the paragraph, with its
names and numbers, so "How many could eventually be sent?" and a near-miss look alike to the
reader, and the first threshold rejects both. The other way the articles fail to answer is the
common one in use: the corpus does not cover the topic at all, and retrieval hands the reader
the nearest passages of unrelated articles. `off_topic_questions` builds that case from the
same dev file (each question with the closest paragraphs of *other* articles); the tentative
threshold is the lowest confidence that rejects 95% of them. Between the two the Assistant
answers, marked as tentative; below the second it says the articles do not hold the answer.

Run: ``python scripts/calibrate_reader.py [--reader models/reader] [--limit N]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from qa.evaluation import best_threshold, spread
from qa.reader import Calibration


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, iterations: int = 50) -> np.ndarray:
    """Weights (last one the bias) of a logistic regression, by Newton's method."""
    X = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(X.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(X @ w, -50, 50)))
        grad = X.T @ (p - y) + l2 * w
        hess = (X * (p * (1 - p))[:, None]).T @ X + l2 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def rejecting(confidences: Sequence[float] | np.ndarray, share: float) -> float:
    """The smallest threshold t with at least ``share`` of ``confidences`` below it."""
    conf = np.sort(np.asarray(confidences, dtype=float))
    if not len(conf):
        raise ValueError("no confidences to fit a threshold on")
    return float(conf[min(len(conf) - 1, int(math.ceil(share * len(conf))) - 1)]) + 1e-6


def off_topic_questions(examples: Sequence, embedder, limit: int = 1000, k: int = 8) -> list[tuple[str, list[str]]]:
    """Questions paired with the ``k`` paragraphs of other articles closest to them.

    What retrieval returns when the corpus does not cover a question's topic: the nearest
    passages, from unrelated articles. The reader must find no answer there. ``limit``
    questions are taken spread over the file (all articles, not the first few).

    Args:
        examples: `qa.squad.SquadExample` items (their titles tell the articles apart).
        embedder: a `qa.embedding.Embedder` (normalised vectors, so inner product = cosine).
    """
    paragraphs: dict[tuple[str, int], str] = {}
    for ex in examples:
        paragraphs.setdefault((ex.title, ex.paragraph_index), ex.context)
    keys = list(paragraphs)
    titles = np.array([title for title, _ in keys])
    if len(set(titles)) < 2:
        raise ValueError("off-topic questions need a file with at least two articles")
    examples = spread(examples, limit or None)
    p_vec = embedder.encode([paragraphs[key] for key in keys])
    q_vec = embedder.encode([ex.question for ex in examples])
    pairs = []
    for i, ex in enumerate(examples):
        sims = np.where(titles == ex.title, -np.inf, p_vec @ q_vec[i])
        top = np.argsort(-sims, kind="stable")[: min(k, int(np.isfinite(sims).sum()))]
        pairs.append((ex.question, [paragraphs[keys[j]] for j in top]))
    return pairs


def fit_calibration(
    predictions: Sequence[dict], fitted_on: str = "", min_noans_accuracy: float = 0.7
) -> tuple[Calibration, dict]:
    """Calibration from `qa.evaluation.evaluate_reader` predictions of a v2.0 file.

    A prediction is correct when the question has answers and its best span has F1 >= 0.5
    against them; any span for an unanswerable question is wrong.

    The threshold: the official v2.0 sweep maximises overall F1, which for a weak no-answer
    signal means abstaining on most answerable questions too. qa instead takes the lowest
    threshold that still rejects ``min_noans_accuracy`` of the unanswerable questions, and
    answers everything above it: a reader of the news would rather see a cited answer with
    a modest confidence than be told, wrongly, that the articles do not say.
    """
    margin = np.array([p["margin"] for p in predictions], dtype=float)
    raw = np.array([p["raw_score"] for p in predictions], dtype=float)
    answerable = [bool(p["answers"]) for p in predictions]
    from qa.evaluation import squad_scores

    span_f1 = [squad_scores(p["best_span"], p["answers"])[1] if p["answers"] else 0.0 for p in predictions]
    y = np.array([1.0 if a and f >= 0.5 else 0.0 for a, f in zip(answerable, span_f1)])
    w = fit_logistic(np.stack([margin, raw], axis=1), y)
    cal = Calibration(w_margin=float(w[0]), w_score=float(w[1]), bias=float(w[2]), fitted_on=fitted_on)
    conf = 1.0 / (1.0 + np.exp(-np.clip(w[0] * margin + w[1] * raw + w[2], -50, 50)))
    best_f1, thresh = best_threshold(conf.tolist(), span_f1, answerable)
    no_conf = conf[~np.array(answerable)]
    if len(no_conf):
        threshold = rejecting(no_conf, min_noans_accuracy)
    else:
        threshold = 1.0 if math.isinf(thresh) else float(thresh)
    cal = Calibration(cal.w_margin, cal.w_score, cal.bias, threshold=round(threshold, 6), fitted_on=fitted_on)
    # Expected calibration error over 10 bins: how far confidence is from accuracy.
    bins = np.minimum((conf * 10).astype(int), 9)
    ece = sum(abs(conf[bins == b].mean() - y[bins == b].mean()) * (bins == b).sum()
              for b in range(10) if (bins == b).any()) / len(conf)
    # v2.0 scores with the fitted threshold (what `qa eval reader` on the same file reports).
    answered = conf >= cal.threshold
    has = [i for i, a in enumerate(answerable) if a]
    no = [i for i, a in enumerate(answerable) if not a]
    has_f1 = 100.0 * sum(span_f1[i] for i in has if answered[i]) / max(1, len(has))
    no_acc = 100.0 * sum(1 for i in no if not answered[i]) / max(1, len(no))
    report = {"questions": len(predictions), "best_f1": best_f1,
              "best_f1_threshold": None if math.isinf(thresh) else round(float(thresh), 4),
              "threshold": cal.threshold, "min_noans_accuracy": min_noans_accuracy,
              "HasAns_f1": round(has_f1, 2), "NoAns_accuracy": round(no_acc, 2),
              "expected_calibration_error": round(float(ece), 4), "positive_rate": round(float(y.mean()), 4)}
    return cal, report
