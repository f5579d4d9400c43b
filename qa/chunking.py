"""Chunks: overlapping, sentence-aligned windows of an article, each with its exact span.

Why sentence-aligned: a window cut mid-sentence can separate an answer from the words that
make it an answer, and the embedder scores a half sentence poorly. Why overlap: a fact that
straddles two windows is still whole in one of them.

The one invariant everything downstream relies on: ``chunk.text == article.text[chunk.start:
chunk.end]``. Citations are character offsets into the article, so a reader can always check
them against the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before white space,
# at the full-width 。！？ of Chinese and Japanese (which need no space after them), or at a
# paragraph break. Common abbreviations and initials are not sentence ends.
_CJK_CLOSERS = "\u300d\u300f\u3011\u3009\u300b\uff09\u201d\u2019\"'"  # 」』】〉》） ” ’
_SENTENCE_END = re.compile(
    r"[.!?][\"'\u201d\u2019)\]]*(?=\s)|[\u3002\uff01\uff1f\uff0e][" + _CJK_CLOSERS + r"]*|\n\s*\n"
)
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "col", "lt", "sgt", "capt", "gov",
    "sen", "rep", "pres", "rev", "vs", "etc", "inc", "ltd", "co", "corp", "no", "fig", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k",
    "u.n", "e.g", "i.e", "a.m", "p.m", "approx", "est", "dept", "univ", "mt", "ft",
}
# Chinese and Japanese are written without spaces: each ideograph or kana counts as a word (one
# word piece each for the embedder and the reader), so window sizes mean the same in every script.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_WORD = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")


@dataclass(frozen=True)
class Chunk:
    """A window of an article; ``text == article.text[start:end]``."""

    article_id: str
    index: int  # position of the chunk within its article
    start: int
    end: int
    text: str

    @property
    def id(self) -> str:
        return f"{self.article_id}::{self.index}"


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, white space excluded; together they cover all words."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        end = m.end() if not m.group().startswith("\n") else m.start()
        if m.group().startswith("."):
            word = text[max(0, text.rfind(" ", 0, m.start()) + 1) : m.start()].lower().strip("(\"'\u201c")
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
        _add_span(text, start, end, spans)
        start = m.end()
    _add_span(text, start, len(text), spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        spans.append((start + lead, start + lead + len(stripped)))


def chunk_article(article_id: str, text: str, words: int = 180, overlap: int = 40) -> list[Chunk]:
    """Split ``text`` into windows of about ``words`` words, sentence-aligned, overlapping by
    at least ``overlap`` words where sentences allow.

    A sentence longer than a window is cut at word boundaries (still with exact spans).
    """
    if words <= 0 or overlap < 0 or overlap >= words:
        raise ValueError("need words > 0 and 0 <= overlap < words")
    units: list[tuple[int, int, int]] = []  # (start, end, word count)
    for s, e in sentence_spans(text):
        toks = [(m.start(), m.end()) for m in _WORD.finditer(text, s, e)]
        for lo in range(0, len(toks), words):
            part = toks[lo : lo + words]
            units.append((part[0][0], part[-1][1], len(part)))
    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        j, count = i, 0
        while j < len(units) and (count == 0 or count + units[j][2] <= words):
            count += units[j][2]
            j += 1
        start, end = units[i][0], units[j - 1][1]
        chunks.append(Chunk(article_id, len(chunks), start, end, text[start:end]))
        if j >= len(units):
            break
        # Step back from j so the next window repeats >= `overlap` words, but always advance.
        k, back = j, 0
        while k - 1 > i and back < overlap:
            k -= 1
            back += units[k][2]
        i = k
    return chunks
