"""The news question sets that answerability is fitted and judged on (RealTimeQA by quiz year).

- answerable: RealTimeQA questions over the corpus of all quiz evidence passages;
- near-topic: the same questions with their own evidence passage left out of what is read;
- off-topic: the same questions asked of BBC News 2004-05.

`scripts/fit_answerability.py` fits on 2020-21; `news_answerability.py` reports on 2022.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from common import CACHE, data_file
from open_domain import realtimeqa_articles, write_if_changed


def news_questions(years: tuple[str, ...]):
    """RealTimeQA questions of ``years`` (by quiz week), one per distinct question text."""
    from qa.squad import load_squad

    seen, out = set(), []
    for ex in load_squad(data_file("newsqa/realtimeqa-extractive-2020-2022.json")):
        week = ex.title.replace("RealTimeQA", "").strip()
        if week[:4] in years and ex.question not in seen:
            seen.add(ex.question)
            out.append(ex)
    return out


def assistant_for(corpus_dir: Path, index_dir: Path, reader: str, answerability: bool = True):
    from qa.assistant import Assistant
    from qa.settings import Settings

    assistant = Assistant(Settings(corpus_dir=corpus_dir, index_dir=index_dir, reader_model=reader,
                                   answerability=answerability))
    report = assistant.index()
    print(report.summary().splitlines()[0], file=sys.stderr)
    return assistant


def realtimeqa_assistant(reader: str, answerability: bool = True):

    from qa.squad import load_squad

    examples = load_squad(data_file("newsqa/realtimeqa-extractive-2020-2022.json"))
    articles = realtimeqa_articles(examples)
    work = CACHE / "open_domain" / "realtimeqa"
    write_if_changed(work / "corpus" / "realtimeqa.jsonl",
                     "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles))
    evidence = {a["text"]: a["id"] for a in articles}
    return assistant_for(work / "corpus", work / "index", reader, answerability), evidence


def bbc_assistant(reader: str, answerability: bool = True):
    bbc = data_file("news/bbc-2004-2005.jsonl")
    work = CACHE / "off_topic"
    records = [json.loads(line) for line in bbc.read_text(encoding="utf-8").splitlines() if line.strip()]
    write_if_changed(work / "corpus" / "bbc.jsonl",
                     "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return assistant_for(work / "corpus", work / "index", reader, answerability)


def near_topic_passages(assistant, question: str, answers, evidence_id: str, top_k: int):
    """The passages retrieval gives when the question's own evidence is not in the corpus, or
    None when the answer is still there beside the question's words (then it is answerable)."""
    from qa.answer_type import content_terms, stem, word_stems
    from qa.chunking import sentence_spans
    from qa.evaluation import normalize_answer

    passages = assistant.retriever.retrieve(assistant.snapshot(), question, top_k=top_k + 8)
    passages = [p for p in passages if p.record.chunk.article_id.rsplit("#", 1)[-1] != evidence_id][:top_k]
    terms = [stem(t) for t in content_terms(question)]
    golds = [normalize_answer(a) for a in answers if normalize_answer(a)]
    for p in passages:
        for s, e in sentence_spans(p.text):
            sentence = p.text[s:e]
            if any(g in normalize_answer(sentence) for g in golds):
                stems = word_stems(sentence)
                if terms and sum(t in stems for t in terms) >= len(terms) / 2:
                    return None
    return passages
