"""How good qa's answers are: SQuAD exact match and F1, retrieval hits, and miss breakdowns.

The answer metrics follow the official SQuAD evaluation scripts (v1.1 and v2.0) to the letter,
so figures computed here compare with published ones:

- answers are normalised by lower-casing, dropping ASCII punctuation, dropping the articles
  a/an/the and collapsing white space (`normalize_answer`);
- exact match and F1 take the maximum over the reference answers;
- as in the v2.0 script, a question whose references all normalise to nothing is an
  unanswerable one: only an empty prediction scores on it.

Everything here works on plain strings and dicts, so `qa batch`, `qa eval reader` and the
benchmark scripts share one definition of every number they print.
"""

from __future__ import annotations

import collections
import math
import re
import string
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from qa.answer_type import SMALL_NUMBERS

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


# ---------------------------------------------------------------------------------------------
# Answer metrics (official SQuAD definitions)
# ---------------------------------------------------------------------------------------------


def spread(items: Sequence, limit: int | None) -> list:
    """``limit`` items spread evenly over ``items`` (all of them when limit is None).

    Evaluations subsample this way rather than taking the first N, which would all come from
    the first article or week.
    """
    if limit is None or limit >= len(items):
        return list(items)
    if limit <= 0:
        return []
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def normalize_answer(text: str) -> str:
    """Lower-case, remove punctuation, articles and extra white space (official SQuAD order)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def answer_tokens(text: str) -> list[str]:
    """The normalised words of an answer; [] for an empty answer."""
    return normalize_answer(text).split() if text else []


def exact_match(prediction: str, reference: str) -> float:
    """1.0 when prediction and reference are equal after normalisation, else 0.0."""
    return float(normalize_answer(prediction) == normalize_answer(reference))


def f1_score(prediction: str, reference: str) -> float:
    """Word-overlap F1 between normalised prediction and reference.

    When either side is empty (a no-answer), F1 is 1.0 if both are empty and 0.0 otherwise,
    as in the v2.0 script.
    """
    pred, ref = answer_tokens(prediction), answer_tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    common = collections.Counter(pred) & collections.Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred)
    recall = same / len(ref)
    return 2 * precision * recall / (precision + recall)


def gold_answers(references: Iterable[str]) -> list[str]:
    """References that survive normalisation; [""] (the no-answer) when none does."""
    golds = [r for r in references if normalize_answer(r)]
    return golds or [""]


def squad_scores(prediction: str | None, references: Sequence[str]) -> tuple[float, float]:
    """(exact match, F1) of one prediction, each the maximum over the references.

    Args:
        prediction: the predicted answer; None or "" means "no answer".
        references: the reference answers; none (or only blank ones) means the question has
            no answer, so only a no-answer prediction scores 1.

    Returns:
        Both scores in [0, 1].
    """
    prediction = prediction or ""
    golds = gold_answers(references)
    em = max(exact_match(prediction, g) for g in golds)
    f1 = max(f1_score(prediction, g) for g in golds)
    return em, f1


_ENCLOSING_QUOTES = re.compile("^[\u201c\u2018\u00ab\u201e]+|[\u201d\u2019\u00bb]+$")


def quiz_references(references: Sequence[str]) -> list[str]:
    """``references`` with the other ways an article writes the same answer, for references
    that are quiz choices, not spans (RealTimeQA): a title without the typographic quotes the
    quiz wraps it in ("\u201cArthur\u201d" -> "Arthur": the official normalisation drops ASCII
    quotes only), and a small count in words or digits ("7" -> "seven"). Each variant is one
    more reference, so the maximum over references applies as for SQuAD's several annotators.
    """
    as_words = {d: w for w, d in SMALL_NUMBERS.items()}
    out = list(references)
    for r in references:
        bare = _ENCLOSING_QUOTES.sub("", r.strip())
        word = SMALL_NUMBERS.get(bare.lower()) or as_words.get(bare)
        out += [v for v in (bare, word) if v and v not in out]
    return out


def has_answer(references: Sequence[str]) -> bool:
    """Whether the references hold at least one real (non-blank) answer."""
    return gold_answers(references) != [""]


# ---------------------------------------------------------------------------------------------
# Retrieval hits and misses
# ---------------------------------------------------------------------------------------------


def contains_answer(passage: str, references: Sequence[str]) -> bool:
    """Whether a normalised reference occurs in the normalised passage, on word boundaries.

    Word boundaries matter: "art" must not count as found inside "start".
    """
    padded = f" {normalize_answer(passage)} "
    golds = (normalize_answer(g) for g in references)
    return any(f" {g} " in padded for g in golds if g)


def first_hit(passages: Sequence[str], references: Sequence[str]) -> int | None:
    """1-based rank of the first passage that contains a reference answer, or None."""
    for rank, passage in enumerate(passages, start=1):
        if contains_answer(passage, references):
            return rank
    return None


def hit_at_k(passages: Sequence[str], references: Sequence[str], k: int) -> bool:
    """Whether one of the first ``k`` passages contains a reference answer."""
    return first_hit(passages[:k], references) is not None


@dataclass(frozen=True)
class ScoredQuestion:
    """One question answered end to end and scored against its references.

    ``hit_rank`` is the rank of the first retrieved passage holding a reference answer (None:
    no retrieved passage does); ``retrieved`` is how many passages were retrieved.
    """

    id: str
    answerable: bool
    exact_match: float
    f1: float
    found: bool
    hit_rank: int | None
    retrieved: int

    @property
    def outcome(self) -> str:
        """What happened, in one word: "correct", or the kind of miss.

        - ``retrieval``: no retrieved passage holds the answer, so the reader could not find it;
        - ``reader_no_answer``: a passage held it but qa said it is not in the articles;
        - ``reader_wrong``: a passage held it but the reader picked another span;
        - ``false_answer``: the question has no answer in the articles but qa gave one.
        """
        if self.exact_match >= 1.0:
            return "correct"
        if not self.answerable:
            return "false_answer"
        if self.hit_rank is None:
            return "retrieval"
        return "reader_wrong" if self.found else "reader_no_answer"


def score_answer(
    id: str, references: Sequence[str], answer: str | None, found: bool, passages: Sequence[str]
) -> ScoredQuestion:
    """Score one end-to-end answer (``found`` False means qa answered "not in the articles")."""
    em, f1 = squad_scores(answer if found else "", references)
    answerable = has_answer(references)
    rank = first_hit(passages, references) if answerable else None
    return ScoredQuestion(id, answerable, em, f1, found, rank, len(passages))


def summarize(scored: Sequence[ScoredQuestion], ks: Sequence[int] = (1, 5, 20)) -> dict:
    """Exact match, F1, hit@k and the miss breakdown over scored questions.

    Args:
        scored: the questions that had reference answers.
        ks: the k values of hit@k; a k beyond the number of passages retrieved is still
            reported (it then equals hit@all), and ``hit@all`` is always added.

    Returns:
        Percentages rounded to 2 decimals: ``exact_match`` and ``f1`` over every scored question;
        ``hit@k`` over the answerable ones; ``misses`` counts each kind of miss (see
        `ScoredQuestion.outcome`); ``no_answer_accuracy`` when some questions have no answer.
    """
    n = len(scored)
    answerable = [s for s in scored if s.answerable]
    unanswerable = [s for s in scored if not s.answerable]
    out: dict = {"scored": n, "answerable": len(answerable), "unanswerable": len(unanswerable)}
    if not n:
        return out
    out["exact_match"] = _pct(sum(s.exact_match for s in scored), n)
    out["f1"] = _pct(sum(s.f1 for s in scored), n)
    if answerable:
        out["answerable_exact_match"] = _pct(sum(s.exact_match for s in answerable), len(answerable))
        out["answerable_f1"] = _pct(sum(s.f1 for s in answerable), len(answerable))
        for k in sorted(set(ks)):
            hits = sum(1 for s in answerable if s.hit_rank is not None and s.hit_rank <= k)
            out[f"hit@{k}"] = _pct(hits, len(answerable))
        out["hit@all"] = _pct(sum(1 for s in answerable if s.hit_rank is not None), len(answerable))
    if unanswerable:
        out["no_answer_accuracy"] = _pct(sum(1 for s in unanswerable if not s.found), len(unanswerable))
    outcomes = collections.Counter(s.outcome for s in scored)
    out["correct"] = outcomes.pop("correct", 0)
    out["misses"] = {
        kind: outcomes.get(kind, 0)
        for kind in ("retrieval", "reader_no_answer", "reader_wrong", "false_answer")
    }
    return out


def _pct(part: float, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


# ---------------------------------------------------------------------------------------------
# Ranked retrieval (BEIR-style: nDCG@k and recall@k, as trec_eval computes them)
# ---------------------------------------------------------------------------------------------


def ndcg_at_k(ranked: Sequence[str], relevance: dict[str, int], k: int) -> float:
    """nDCG@k with linear gains (trec_eval's ``ndcg_cut``, which BEIR reports).

    Args:
        ranked: document ids, best first.
        relevance: graded judgements of this query (document id -> grade; <= 0: not relevant).
        k: cut-off.
    """
    dcg = sum(
        max(relevance.get(doc, 0), 0) / math.log2(rank + 1)
        for rank, doc in enumerate(ranked[:k], start=1)
    )
    ideal = sorted((g for g in relevance.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 1) for rank, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranked: Sequence[str], relevance: dict[str, int], k: int) -> float:
    """Share of the relevant documents (grade > 0) found in the first ``k``."""
    relevant = {doc for doc, g in relevance.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant & set(ranked[:k])) / len(relevant)


def retrieval_metrics(
    run: dict[str, Sequence[str]],
    qrels: dict[str, dict[str, int]],
    ndcg_ks: Sequence[int] = (10,),
    recall_ks: Sequence[int] = (100,),
) -> dict:
    """Mean nDCG@k and recall@k over the judged queries (those with a relevant document).

    Args:
        run: query id -> ranked document ids (a query missing from the run scores 0).
        qrels: query id -> {document id: grade}.

    Returns:
        ``{"queries": n, "ndcg@10": ..., "recall@100": ...}``, metrics in [0, 1] rounded to 4.
    """
    queries = [q for q, rel in qrels.items() if any(g > 0 for g in rel.values())]
    out: dict = {"queries": len(queries)}
    for k in ndcg_ks:
        total = sum(ndcg_at_k(run.get(q, ()), qrels[q], k) for q in queries)
        out[f"ndcg@{k}"] = round(total / len(queries), 4) if queries else 0.0
    for k in recall_ks:
        total = sum(recall_at_k(run.get(q, ()), qrels[q], k) for q in queries)
        out[f"recall@{k}"] = round(total / len(queries), 4) if queries else 0.0
    return out


# ---------------------------------------------------------------------------------------------
# No-answer threshold (SQuAD v2.0)
# ---------------------------------------------------------------------------------------------


def best_threshold(
    scores: Sequence[float], answered_metric: Sequence[float], answerable: Sequence[bool]
) -> tuple[float, float]:
    """The answer-score threshold that maximises a v2.0 metric, as the official script does.

    A question is answered when its score is >= the threshold, and abstains otherwise. Abstaining
    is worth 1 on an unanswerable question and 0 on an answerable one; answering is worth
    ``answered_metric`` (the EM or F1 of the best non-empty span) on an answerable question and
    0 on an unanswerable one.

    Args:
        scores: the reader's confidence in its best span, per question (higher: more sure).
        answered_metric: EM or F1 (0..1) of that span, per question.
        answerable: whether each question has an answer.

    Returns:
        (best metric in percent, threshold). The threshold is +inf when abstaining on every
        question is best.
    """
    n = len(scores)
    if n == 0:
        return 0.0, math.inf
    total = float(sum(1 for a in answerable if not a))  # everything abstains
    best, best_thresh = total, math.inf
    order = sorted(range(n), key=lambda i: -scores[i])
    i = 0
    while i < n:
        j = i
        # Questions with the same score are answered together: a threshold cannot split them.
        while j < n and scores[order[j]] == scores[order[i]]:
            q = order[j]
            total += answered_metric[q] if answerable[q] else -1.0
            j += 1
        if total > best:
            best, best_thresh = total, scores[order[i]]
        i = j
    return round(100.0 * best / n, 2), best_thresh


# ---------------------------------------------------------------------------------------------
# Reader evaluation (qa eval reader)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpanPrediction:
    """What the reader made of one (question, paragraph) pair.

    ``text`` is the best non-empty span (even when the reader would rather abstain),
    ``score`` the reader's calibrated confidence in it, and ``no_answer`` whether that
    confidence is under the no-answer threshold.
    """

    text: str
    start: int
    score: float
    no_answer: bool
    raw_score: float = 0.0  # the span's start + end logits
    margin: float = 0.0  # raw_score minus its window's [CLS] (no-answer) score


def read_one(reader, question: str, context: str, threshold: float | None = None) -> SpanPrediction:
    """Ask the reader one question about one paragraph: the one place evaluation calls it.

    The span is chosen as `qa.assistant.Assistant` chooses its answer: the highest calibrated
    confidence (`qa.reader.Reader.confidence`) among spans that are not empty after
    normalisation, and "no answer" when it is under ``threshold`` (None: the threshold
    calibrated with the reader).

    Args:
        reader: a `qa.reader.Reader`, or anything with its ``read``, ``confidence`` and
            ``calibration.threshold`` (tests pass a fake one).
    """
    return read_passages(reader, question, [context], threshold)


def read_passages(reader, question: str, contexts: Sequence[str], threshold: float | None = None) -> SpanPrediction:
    """`read_one` over several passages at once, as the Assistant reads its retrieved passages:
    the best span of all of them (``start`` is then an offset in its own passage)."""
    out = reader.read(question, list(contexts))
    if threshold is None:
        threshold = reader.calibration.threshold
    best, best_conf = None, float("-inf")
    for span in out.spans:
        if not normalize_answer(span.text):
            continue
        conf = float(reader.confidence(span))
        if conf > best_conf:
            best, best_conf = span, conf
    if best is None:
        return SpanPrediction("", -1, 0.0, True)
    return SpanPrediction(
        best.text, int(best.start), best_conf, best_conf < threshold,
        float(getattr(best, "score", 0.0)), float(getattr(best, "margin", 0.0)),
    )


def evaluate_reader(
    reader,
    examples: Sequence,
    limit: int | None = None,
    threshold: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Answer every SQuAD question from its own paragraph and score the answers.

    Args:
        reader: a `qa.reader.Reader` (see `read_one`).
        examples: `qa.squad.SquadExample` items (v1.1 or v2.0).
        limit: score only the first ``limit`` questions (None or 0: all).
        threshold: no-answer threshold on the calibrated confidence (None: the reader's own).
        progress: called with (done, total) after each question.

    Returns:
        A dict. On a file without unanswerable questions (v1.1) the best span is always taken:
        ``exact_match``, ``f1``. On a v2.0 file the reader's own no-answer decision is applied
        for ``exact_match``/``f1``, and ``HasAns_exact``, ``HasAns_f1``, ``NoAns_accuracy``,
        ``best_exact``/``best_exact_thresh`` and ``best_f1``/``best_f1_thresh`` (the answer-score
        threshold that maximises each, official v2.0 sweep) are added. Always:
        ``questions``, ``seconds``, ``questions_per_second``, and ``predictions``: one dict per
        question (id, question, prediction, best_span, score, no_answer, answers,
        exact_match, f1).
    """
    if limit:
        examples = examples[:limit]
    v2 = any(getattr(ex, "is_impossible", False) for ex in examples)
    predictions: list[dict] = []
    ems: list[float] = []
    f1s: list[float] = []
    span_em: list[float] = []
    span_f1: list[float] = []
    scores: list[float] = []
    answerable: list[bool] = []
    t0 = time.perf_counter()
    for i, ex in enumerate(examples):
        pred = read_one(reader, ex.question, ex.context, threshold)
        refs = [] if ex.is_impossible else list(ex.answers)
        final = "" if (v2 and pred.no_answer) else pred.text
        em, f1 = squad_scores(final, refs)
        best_em, best_f1 = squad_scores(pred.text, refs)
        ems.append(em)
        f1s.append(f1)
        span_em.append(best_em)
        span_f1.append(best_f1)
        scores.append(pred.score)
        answerable.append(has_answer(refs))
        predictions.append(
            {
                "id": ex.id,
                "question": ex.question,
                "prediction": final,
                "best_span": pred.text,
                "start": pred.start,
                "score": round(pred.score, 6),
                "raw_score": round(pred.raw_score, 4),
                "margin": round(pred.margin, 4),
                "no_answer": pred.no_answer,
                "answers": refs,
                "exact_match": em,
                "f1": round(f1, 4),
            }
        )
        if progress:
            progress(i + 1, len(examples))
    seconds = time.perf_counter() - t0
    n = len(predictions)
    result: dict = {
        "questions": n,
        "exact_match": _pct(sum(ems), n),
        "f1": _pct(sum(f1s), n),
    }
    if v2:
        has = [i for i in range(n) if answerable[i]]
        no = [i for i in range(n) if not answerable[i]]
        result["HasAns_total"] = len(has)
        result["HasAns_exact"] = _pct(sum(ems[i] for i in has), len(has))
        result["HasAns_f1"] = _pct(sum(f1s[i] for i in has), len(has))
        result["NoAns_total"] = len(no)
        result["NoAns_accuracy"] = _pct(sum(ems[i] for i in no), len(no))
        for name, metric in (("exact", span_em), ("f1", span_f1)):
            best, thresh = best_threshold(scores, metric, answerable)
            result[f"best_{name}"] = best
            # JSON has no infinity: None means "abstain on every question".
            result[f"best_{name}_thresh"] = None if math.isinf(thresh) else round(thresh, 6)
    result["seconds"] = round(seconds, 2)
    result["questions_per_second"] = round(n / seconds, 2) if seconds > 0 else 0.0
    result["predictions"] = predictions
    return result


# ---------------------------------------------------------------------------------------------
# Command line: ``qa eval reader`` (registered by qa.cli)
# ---------------------------------------------------------------------------------------------


def register_cli(sub) -> None:
    """Add ``qa eval reader`` to the ``qa`` command's subparsers."""
    from qa.settings import DEFAULT_READER

    p = sub.add_parser("eval", help="measure qa's quality (reader on SQuAD)",
                       description="Evaluation commands.")
    what = p.add_subparsers(dest="eval_command", required=True, metavar="WHAT")
    r = what.add_parser(
        "reader", help="reader exact match / F1 on a SQuAD v1.1 or v2.0 file",
        description="Answer every question of a SQuAD file from its own paragraph and print a JSON "
        "summary: exact_match and f1 (official normalisation, best over the references); on v2.0 "
        "files also HasAns_f1, NoAns_accuracy and the best no-answer threshold.",
    )
    r.add_argument("file", metavar="FILE.json", help="SQuAD v1.1 or v2.0 file, e.g. ../shared/data/squad/dev-v1.1-public.json")
    r.add_argument("--reader", metavar="PATH", default=str(DEFAULT_READER),
                   help="extractive QA checkpoint (default: the reader installed with qa, models/reader)")
    r.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    r.add_argument("--out", metavar="PRED.jsonl", help="write one prediction per question here")
    r.add_argument("--threshold", type=float, metavar="P",
                   help="no-answer threshold on the confidence (default: the reader's calibrated one)")
    r.add_argument("--precision", choices=("fp32", "bf16", "int8"), default="bf16",
                   help="inference precision (default bf16: same F1 as fp32, 2.5x faster here; see benchmarks/results/reader_speed.md)")
    r.add_argument("--max-length", type=int, default=384, metavar="TOKENS", help="reader window (default 384)")
    r.add_argument("--stride", type=int, default=128, metavar="TOKENS", help="window overlap (default 128)")
    r.add_argument("--threads", type=int, default=0, metavar="N", help="torch threads (default: torch's)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.set_defaults(func=_cmd_eval_reader)


def _cmd_eval_reader(args) -> int:
    import json
    import sys
    from pathlib import Path

    from tqdm import tqdm

    from qa.errors import InvalidInput
    from qa.reader import Reader
    from qa.squad import load_squad

    try:
        examples = load_squad(args.file)
    except (FileNotFoundError, ValueError) as exc:
        raise InvalidInput(str(exc)) from exc
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    reader = Reader(args.reader, max_length=args.max_length, stride=args.stride, precision=args.precision)
    reader.warm_up()
    total = min(len(examples), args.limit) if args.limit else len(examples)
    bar = tqdm(total=total, unit="q", desc="questions", file=sys.stderr, disable=args.no_progress)
    try:
        result = evaluate_reader(reader, examples, limit=args.limit, threshold=args.threshold,
                                 progress=lambda done, _total: bar.update(1))
    finally:
        bar.close()
    predictions = result.pop("predictions")
    result = {
        "file": str(args.file), "reader": str(args.reader), "precision": args.precision,
        "threshold": args.threshold if args.threshold is not None else reader.calibration.threshold,
    } | result
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as f:
            for p in predictions:
                f.write(json.dumps(p, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2))
    return 0
