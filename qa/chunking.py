"""Chunks: overlapping, sentence-aligned windows of an article, each with its exact span.

Why sentence-aligned: a window cut mid-sentence can separate an answer from the words that
make it an answer, and the embedder scores a half sentence poorly. Why overlap: a fact that
straddles two windows is still whole in one of them, also where a "sentence" has no end (a
live-updates log without full stops is cut at words, and its windows overlap all the same).

Why measured in word pieces: the embedder reads only its first ``max_seq_length`` word pieces
and ignores the rest, so a window sized in words (a market report full of tickers and figures
is 3-4 word pieces a word) could hide its last sentences from retrieval. In an index the
windows are measured with the embedder's own tokenizer (`qa.embedding.Embedder.token_spans`).

The one invariant everything downstream relies on: ``chunk.text == article.text[chunk.start:
chunk.end]``. Citations are character offsets into the article, so a reader can always check
them against the source.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
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

# text -> the (start, end) character span of each of its tokens, in order
TokenSpans = Callable[[str], list[tuple[int, int]]]


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


def word_spans(text: str) -> list[tuple[int, int]]:
    """One token per word (an ideograph or a kana counts as a word): the unit when no tokenizer
    is given."""
    return [(m.start(), m.end()) for m in _WORD.finditer(text)]


def chunk_article(
    article_id: str,
    text: str,
    max_tokens: int = 180,
    overlap_tokens: int = 40,
    token_spans: TokenSpans = word_spans,
) -> list[Chunk]:
    """Split ``text`` into windows of at most ``max_tokens`` tokens, each overlapping the next.

    Tokens are what ``token_spans`` finds (the embedder's word pieces in an index; words by
    default). A window starts at a sentence start and ends at a sentence end where sentences
    allow, and repeats at least ``overlap_tokens`` tokens of the window before it (a whole
    sentence where one fits in half a window). A sentence too long for a window is cut at
    words, and a word longer than a quarter window at its tokens: every two consecutive windows
    share text, whatever the punctuation.

    Raises:
        ValueError: unless ``max_tokens > 0`` and ``0 <= overlap_tokens <= max_tokens // 2``.
    """
    if max_tokens <= 0 or not 0 <= overlap_tokens <= max_tokens // 2:
        raise ValueError("need max_tokens > 0 and 0 <= overlap_tokens <= max_tokens // 2")
    atoms = _atoms(text, token_spans, max(1, max_tokens // 4))
    cum = [0]  # cum[j] - cum[i]: the tokens of atoms[i:j]
    for a in atoms:
        cum.append(cum[-1] + a.tokens)
    chunks: list[Chunk] = []
    i, previous_end = 0, 0
    while i < len(atoms):
        j = _window_end(atoms, cum, i, previous_end, max_tokens)
        start, end = atoms[i].start, atoms[j - 1].end
        chunks.append(Chunk(article_id, len(chunks), start, end, text[start:end]))
        if j >= len(atoms):
            break
        i, previous_end = _next_start(atoms, cum, i, j, overlap_tokens, max_tokens), j
    return chunks


@dataclass(frozen=True)
class _Atom:
    """A word (or one token of a very long word) and the number of tokens it holds."""

    start: int
    end: int
    tokens: int
    sentence_start: bool


def _atoms(text: str, token_spans: TokenSpans, longest: int) -> list[_Atom]:
    """The words of ``text`` in order, each with its token count; a word of more than
    ``longest`` tokens becomes one atom per token."""
    words = [
        (m.start(), m.end(), m.start() == s)
        for s, e in sentence_spans(text)
        for m in _WORD.finditer(text, s, e)
    ]
    ends = [e for _, e, _ in words]
    # A token belongs to the word it starts in, or to the next word when it starts in the
    # white space before it (sentencepiece puts the space into the token).
    starts: list[list[int]] = [[] for _ in words]
    for s, _ in token_spans(text):
        k = bisect_right(ends, s)
        if k < len(words):
            starts[k].append(max(s, words[k][0]))
    atoms: list[_Atom] = []
    for (s, e, first), token_starts in zip(words, starts):
        if len(token_starts) <= longest:
            atoms.append(_Atom(s, e, max(1, len(token_starts)), first))
            continue
        cuts = sorted({s, *token_starts})
        for a, b in zip(cuts, [*cuts[1:], e]):
            atoms.append(_Atom(a, b, 1, first and a == s))
    return atoms


def _window_end(atoms: list[_Atom], cum: list[int], i: int, previous_end: int, max_tokens: int) -> int:
    """The end (an exclusive atom index) of the window that starts at atom ``i``: after
    ``previous_end``, at the last sentence end that fits if that fills at least half the window,
    else at the last word that fits."""
    j = max(bisect_right(cum, cum[i] + max_tokens) - 1, i + 1)  # atoms[i:j] is the most that fits
    if j >= len(atoms):
        return len(atoms)
    for k in range(j, max(i, previous_end), -1):
        if atoms[k].sentence_start:  # atoms[i:k] ends at a sentence end
            return k if cum[k] - cum[i] >= max_tokens // 2 else j
    return j


def _next_start(atoms: list[_Atom], cum: list[int], i: int, j: int, overlap: int, max_tokens: int) -> int:
    """Where the window after ``atoms[i:j]`` starts, strictly between ``i`` and ``j``: the
    latest sentence start that repeats at least ``overlap`` tokens but at most half a window,
    else the latest word that repeats at least ``overlap`` tokens."""
    w = bisect_right(cum, cum[j] - overlap) - 1  # the latest atom with cum[j] - cum[w] >= overlap
    w = max(min(w, j - 1), i + 1)  # = j only for windows of one atom (max_tokens < 8)
    for k in range(w, i, -1):
        if cum[j] - cum[k] > max(overlap, max_tokens // 2):
            break
        if atoms[k].sentence_start:
            return k
    return w
