"""HTML for the chat page: an `Answer` as a chat reply and as a sources panel.

Pure functions from qa's dataclasses to strings, so that what people see can be tested without a
browser. Every piece of article text (titles, passages, answers, dates, sources, the question)
goes through `escape`, which makes it inert both as HTML and as the Markdown the chat component
renders: a ``<script>`` in an article is shown as text, never run.

Numbering: the best answer's citations come first, then each alternative's, so "[2]" in
"12,000 — South Korean media reports: ... [2]" is the second entry of the sources panel.

Claims: under the answer, one line per value, each with who claims it (the claimant, or the
publication when the article says it in its own voice), the statement with the value marked, the
citation number and the article's source and date. When other reports give other values, the
reply says that the sources differ and lists every value that way.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qa.answer import Answer, Citation
from qa.claims import claimant_text

MAX_MAIN_CITATIONS = 3
MAX_ALTERNATIVE_CITATIONS = 2
MAX_CLOSEST_PASSAGES = 3

# Characters that Markdown, LaTeX delimiters or a template engine could act on, written as
# numeric character references: the browser shows them as the characters themselves.
_INERT = {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-!|~$<>&\"'=:"}
_INERT_RE = re.compile("[" + re.escape("".join(_INERT)) + "]")


def escape(text: object) -> str:
    """``text`` as inert HTML: no tag, entity, Markdown or template syntax survives.

    Line breaks become ``<br>`` so a passage keeps its paragraphs.
    """
    s = _INERT_RE.sub(lambda m: _INERT[m.group()], str(text))
    return s.replace("\r\n", "\n").replace("\n", "<br>")


@dataclass(frozen=True)
class Source:
    """One numbered entry of the sources panel: where an answer (or alternative) was read."""

    number: int
    answer: str
    citation: Citation
    primary: bool  # a citation of the best answer (not of an alternative)


def number_sources(answer: Answer) -> list[Source]:
    """The citations of a found answer, numbered: the best answer's first, then alternatives'."""
    if not answer.found:
        return []
    sources: list[Source] = []
    for c in answer.citations[:MAX_MAIN_CITATIONS]:
        sources.append(Source(len(sources) + 1, answer.answer or "", c, True))
    for alt in answer.alternatives:
        for c in alt.citations[:MAX_ALTERNATIVE_CITATIONS]:
            sources.append(Source(len(sources) + 1, alt.answer, c, False))
    return sources


def reply_html(answer: Answer) -> str:
    """The chat reply: the answer with its confidence and citations, other reports, the
    search query used, and a details section with per-stage timings."""
    sources = number_sources(answer)
    parts = ['<div class="qa-reply">']
    if answer.found:
        refs = _refs(s.number for s in sources if s.primary)
        if answer.tentative:
            parts.append(
                f'<p class="qa-answer qa-tentative"><span class="qa-hedge">Possibly</span> '
                f'<strong class="qa-answer-text">{escape(_oneline(answer.answer))}</strong> {refs} '
                f'<span class="qa-confidence">low confidence {answer.score:.2f}</span></p>'
                '<p class="qa-muted">The cited passage may not answer exactly this question: check it.</p>'
            )
            if answer.unmentioned:
                parts.append(
                    '<p class="qa-muted qa-unmentioned">The cited article never mentions '
                    f'{escape(", ".join(answer.unmentioned))}: it may be about another event.</p>'
                )
        else:
            parts.append(
                f'<p class="qa-answer"><strong class="qa-answer-text">{escape(_oneline(answer.answer))}</strong> '
                f'{refs} <span class="qa-confidence">confidence {answer.score:.2f}</span></p>'
            )
        if answer.alternatives:
            parts.append('<p class="qa-differ">The sources differ:</p>')
        else:
            parts.append('<p class="qa-says">Who says it:</p>')
        parts.append(claims_html(sources))
        parts.append('<ul class="qa-citations">')
        for title, group in _by_article(sources):
            places = " · ".join(f"[{s.number}] paragraph {s.citation.paragraph}" for s in group)
            parts.append(f"<li><strong>{escape(title)}</strong>: {places}</li>")
        parts.append("</ul>")
    else:
        parts.append(
            '<p class="qa-not-found">I could not find the answer in the articles.</p>'
        )
        if answer.passages:
            parts.append("<p>The closest passages are shown under Sources:</p><ul>")
            for p in answer.passages[:MAX_CLOSEST_PASSAGES]:
                parts.append(f"<li>{escape(p.title)} <span class=\"qa-muted\">(similarity "
                             f"{p.similarity:.2f})</span></li>")
            parts.append("</ul>")
    scope = (f' <span class="qa-scope">only {escape(answer.scope)}</span>' if answer.scope else "")
    parts.append(f'<p class="qa-query">Search query used: <em>{escape(answer.query)}</em>{scope}</p>')
    parts.append(_details(answer))
    parts.append("</div>")
    return "".join(parts)


def claims_html(sources: Sequence[Source]) -> str:
    """One line per value (answer first): each claim of it with its claimant, its statement
    with the value marked, its citation number, and the article's source and date. The same
    claimant saying the same value in two places is one claim with two numbers."""
    values: dict[str, list[list[Source]]] = {}
    for s in sources:
        claims = values.setdefault(_oneline(s.answer), [])
        same = next((g for g in claims if _claim_key(g[0]) == _claim_key(s)), None)
        if same is None:
            claims.append([s])
        else:
            same.append(s)
    lines = []
    for value, claims in values.items():
        said = "; ".join(_claim(group) for group in claims)
        kind = " qa-claim-line-primary" if claims[0][0].primary else ""
        lines.append(f'<li class="qa-claim-line{kind}"><strong class="qa-claim-value">{escape(value)}</strong> '
                     f"\u2014 {said}</li>")
    return f'<ul class="qa-claims">{"".join(lines)}</ul>'


def _claim_key(s: Source) -> tuple:
    c = s.citation
    who = c.claimant.text.lower() if c.claimant else None
    return (c.article_id, who, c.statement.start if c.statement else c.start)


def _claim(group: list[Source]) -> str:
    """``claimant: “statement” [n] · date · source`` for one claim (its sources in ``group``)."""
    c = group[0].citation
    who = f'<span class="qa-claimant">{escape(claimant_text(c))}</span>'
    said = ""
    if c.statement is not None:
        st = c.statement
        said = (f' <q class="qa-statement">{highlight(_oneline_keep(st.text), c.start - st.start, c.end - st.start)}'
                "</q>")
    meta = [escape(m) for m in (c.date, c.source) if m and not (c.claimant is None and m == c.source)]
    tail = f' <span class="qa-muted">{" · ".join(meta)}</span>' if meta else ""
    return f'<span class="qa-claim">{who}:{said} {_refs(s.number for s in group)}{tail}</span>'


def sources_html(answer: Answer | None) -> str:
    """The sources panel for one reply: each cited passage with the answer highlighted, or the
    closest passages when the answer was not found."""
    if answer is None:
        return '<div class="qa-sources"><p class="qa-muted">Sources of the latest answer appear here.</p></div>'
    parts = ['<div class="qa-sources">']
    sources = number_sources(answer)
    if sources:
        for s in sources:
            start, end = s.citation.answer_in_passage
            kind = "" if s.primary else " qa-source-alternative"
            parts.append(
                f'<div class="qa-source{kind}" data-source="{s.number}">'
                f'<div class="qa-source-head"><span class="qa-num">[{s.number}]</span> '
                f'{_place(s.citation)}</div>'
                f'<div class="qa-source-claimant">Who says {escape(_oneline(s.answer))}: '
                f'{escape(claimant_text(s.citation))}</div>'
                f'<blockquote class="qa-passage">{highlight(s.citation.passage, start, end)}</blockquote>'
                "</div>"
            )
    elif answer.passages:
        parts.append('<p class="qa-muted">No answer was found; these are the closest passages.</p>')
        for i, p in enumerate(answer.passages[:MAX_CLOSEST_PASSAGES], 1):
            parts.append(
                f'<div class="qa-source qa-source-closest" data-source="{i}">'
                f'<div class="qa-source-head"><span class="qa-num">[{i}]</span> '
                f'<strong>{escape(p.title)}</strong> <span class="qa-muted">similarity '
                f"{p.similarity:.2f}</span></div>"
                f'<blockquote class="qa-passage">{escape(p.text)}</blockquote></div>'
            )
    else:
        parts.append('<p class="qa-muted">No passage was retrieved.</p>')
    parts.append("</div>")
    return "".join(parts)


def highlight(passage: str, start: int, end: int) -> str:
    """``passage`` escaped, with ``passage[start:end]`` wrapped in ``<mark>``."""
    start = max(0, min(start, len(passage)))
    end = max(start, min(end, len(passage)))
    return (f"{escape(passage[:start])}<mark>{escape(passage[start:end])}</mark>"
            f"{escape(passage[end:])}")


def articles_html(articles: Sequence) -> str:
    """The indexed articles as a table (title, date, source, chunks, file)."""
    if not articles:
        return '<p class="qa-muted">No article is indexed yet. Upload one above.</p>'
    rows = "".join(
        f"<tr><td>{escape(a.title)}</td><td>{escape(a.date or '')}</td>"
        f"<td>{escape(a.source or '')}</td><td>{a.chunks}</td><td>{escape(a.path)}</td></tr>"
        for a in articles
    )
    return (
        '<table class="qa-articles"><thead><tr><th>Title</th><th>Date</th><th>Source</th>'
        f"<th>Chunks</th><th>File</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def message_html(text: str, kind: str = "error") -> str:
    """A plain message in the chat (an error or a notice), escaped."""
    return f'<div class="qa-reply"><p class="qa-{kind}">{escape(text)}</p></div>'


def question_html(question: str) -> str:
    """The user's question as shown in the chat, escaped."""
    return f'<span class="qa-question">{escape(question)}</span>'


def _by_article(sources: list[Source]) -> list[tuple[str, list[Source]]]:
    """Sources grouped by article, in order of first citation, so each title shows once."""
    groups: dict[str, tuple[str, list[Source]]] = {}
    for s in sources:
        groups.setdefault(s.citation.article_id, (s.citation.title, []))[1].append(s)
    return list(groups.values())


def _oneline(text: str | None) -> str:
    return " ".join((text or "").split())


def _oneline_keep(text: str) -> str:
    """``text`` on one line with its length kept (each line break becomes a space), so offsets
    into it still hold."""
    return text.replace("\r", " ").replace("\n", " ")


def _refs(numbers: Iterable[int]) -> str:
    return "".join(f'<span class="qa-ref">[{n}]</span>' for n in numbers)


def _place(c: Citation) -> str:
    """Title, paragraph, date, source and link of a citation, for the sources panel."""
    text = f"<strong>{escape(c.title)}</strong>, paragraph {c.paragraph}"
    meta = [escape(m) for m in (c.date, c.source) if m]
    if meta:
        text += f' <span class="qa-muted">· {" · ".join(meta)}</span>'
    url = (c.url or "").strip()
    if re.match(r"^https?://", url, re.IGNORECASE):
        text += (f' <a href="{html.escape(url, quote=True)}" target="_blank" '
                 'rel="noopener noreferrer nofollow">link</a>')
    return text


def _details(answer: Answer) -> str:
    t = answer.timings_ms
    stages = [f"{escape(k)} {v:.0f} ms" for k, v in t.items() if k != "total"]
    total = f"; total {t['total']:.0f} ms" if "total" in t else ""
    return (
        '<details class="qa-details"><summary>Details</summary>'
        f'<p class="qa-timings">{" · ".join(stages)}{total}</p>'
        f"<p>Score {answer.score:.3f}; {len(answer.passages)} passages retrieved.</p>"
        "</details>"
    )
