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

# The page's one script: a click on a "[n]" of a reply scrolls the sources panel to entry n and
# makes it flash (the reply and the panel are re-rendered on every answer, so the handler is
# delegated from the document rather than bound to the marks). The panel shows the latest
# answer's sources; the script keeps each panel it has shown, so an earlier reply's [n] brings
# that reply's sources back first.
SCRIPT = r"""
var qaPanels = {};
new MutationObserver(function () {
  var panel = document.querySelector("#qa-sources .qa-sources[data-answer]");
  if (panel) qaPanels[panel.getAttribute("data-answer")] = panel.outerHTML;
}).observe(document.documentElement, {childList: true, subtree: true});
document.addEventListener("click", function (event) {
  var ref = event.target.closest && event.target.closest("a.qa-ref, .qa-ref");
  if (!ref) return;
  // href "#qa-source-<answer key>-<n>" (the chat keeps hrefs, not data- attributes).
  var parts = (ref.getAttribute("href") || "").match(/^#qa-source-(?:([0-9a-f]+)-)?(\d+)$/) || [];
  var n = ref.getAttribute("data-ref") || parts[2];
  var panel = document.querySelector("#qa-sources .qa-sources");
  if (parts[1] && panel && panel.getAttribute("data-answer") !== parts[1]) {
    // An earlier reply's [n]: its entry is in that reply's panel, not the latest one's.
    event.preventDefault();
    event.stopPropagation();
    if (!qaPanels[parts[1]]) return;
    panel.outerHTML = qaPanels[parts[1]];
  }
  var entry = document.querySelector('#qa-sources [data-refs~="' + n + '"]');
  if (!entry) return;
  event.preventDefault();
  event.stopPropagation();
  entry.scrollIntoView({behavior: "smooth", block: "center"});
  entry.classList.remove("qa-flash");
  void entry.offsetWidth;
  entry.classList.add("qa-flash");
  setTimeout(function () { entry.classList.remove("qa-flash"); }, 2000);
}, true);
"""

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


def answer_key(answer: Answer) -> str:
    """A short key of one answer, shared by its reply and its sources panel: a "[n]" of an earlier
    reply does not point at the latest answer's entry n."""
    import hashlib

    seen = f"{answer.question}\x00{answer.query}\x00{answer.answer}\x00{answer.timings_ms.get('total', 0.0)}"
    return hashlib.sha1(seen.encode("utf-8")).hexdigest()[:12]


def reply_html(answer: Answer) -> str:
    """The chat reply: the answer with its confidence and citations, other reports, the
    search query used, and a details section with per-stage timings."""
    sources = number_sources(answer)
    key = answer_key(answer)
    parts = ['<div class="qa-reply">']
    if answer.found:
        refs = _refs((s.number for s in sources if s.primary), key)
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
        parts.append(claims_html(sources, key))
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
            for p in closest_passages(answer):
                parts.append(f"<li>{escape(p.title)}{_paragraph(p)}</li>")
            parts.append("</ul>")
    scope = (f' <span class="qa-scope">only {escape(answer.scope)}</span>' if answer.scope else "")
    parts.append(f'<p class="qa-query">Search query used: <em>{escape(answer.query)}</em>{scope}</p>')
    parts.append(_details(answer))
    parts.append("</div>")
    return "".join(parts)


def claims_html(sources: Sequence[Source], key: str = "") -> str:
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
        kind = " qa-claim-line-primary" if claims[0][0].primary else ""
        if all(_oneline(claimant_text(g[0].citation)).lower() == value.lower() for g in claims):
            # The value is its claimant ("Who says so?" -> "The NIS"): named once, then what it says.
            said = "; ".join(_claim(group, key, name=False) for group in claims)
            lines.append(f'<li class="qa-claim-line{kind}"><strong class="qa-claim-value">{escape(value)}</strong>'
                         f"{said}</li>")
            continue
        said = "; ".join(_claim(group, key) for group in claims)
        lines.append(f'<li class="qa-claim-line{kind}"><strong class="qa-claim-value">{escape(value)}</strong> '
                     f"\u2014 {said}</li>")
    return f'<ul class="qa-claims">{"".join(lines)}</ul>'


def _claim_key(s: Source) -> tuple:
    c = s.citation
    who = c.claimant.text.lower() if c.claimant else None
    return (c.article_id, who, c.statement.start if c.statement else c.start)


def _claim(group: list[Source], key: str = "", name: bool = True) -> str:
    """``claimant: “statement” [n] · date · source`` for one claim (its sources in ``group``);
    without the claimant when ``name`` is False (it is already shown)."""
    c = group[0].citation
    who = f'<span class="qa-claimant">{escape(claimant_text(c))}</span>' if name else ""
    said = ""
    if c.statement is not None:
        st = c.statement
        said = (f' <q class="qa-statement">{highlight(_oneline_keep(st.text), c.start - st.start, c.end - st.start)}'
                "</q>")
    meta = [escape(m) for m in (c.date, c.source) if m and not (c.claimant is None and m == c.source)]
    tail = f' <span class="qa-muted">{" · ".join(meta)}</span>' if meta else ""
    return f'<span class="qa-claim">{who}:{said} {_refs((s.number for s in group), key)}{tail}</span>'


@dataclass(frozen=True)
class Mark:
    """One answer span in a panel entry: offsets into the entry's text, and its number."""

    start: int
    end: int
    number: int
    primary: bool


@dataclass(frozen=True)
class Entry:
    """One entry of the sources panel: a stretch of one article (overlapping cited passages
    merged) with every answer span read in it, numbered."""

    citation: Citation  # the first source's citation (title, paragraph, date, source, url)
    sources: tuple[Source, ...]
    start: int  # offset of ``text`` in the article
    text: str
    marks: tuple[Mark, ...]

    @property
    def numbers(self) -> list[int]:
        return [s.number for s in self.sources]


def source_entries(sources: Sequence[Source]) -> list[Entry]:
    """The sources grouped into panel entries: the citations whose passages overlap (or touch)
    in one article become one entry whose text spans them all, in order of first number."""
    groups: list[list[Source]] = []
    spans: list[tuple[str, int, int]] = []
    for s in sources:
        c = s.citation
        start, end = c.passage_start, c.passage_start + len(c.passage)
        for i, (article, g_start, g_end) in enumerate(spans):
            if article == c.article_id and start <= g_end and g_start <= end:
                groups[i].append(s)
                spans[i] = (article, min(start, g_start), max(end, g_end))
                break
        else:
            groups.append([s])
            spans.append((c.article_id, start, end))
    entries = []
    for group, (_, start, end) in zip(groups, spans):
        text = [" "] * (end - start)
        for s in group:  # every passage is a piece of the same article text: lay them over
            c = s.citation
            offset = c.passage_start - start
            text[offset : offset + len(c.passage)] = c.passage
        first = min(group, key=lambda s: s.citation.passage_start).citation
        marks = tuple(sorted((Mark(s.citation.start - start, s.citation.end - start, s.number, s.primary)
                              for s in group), key=lambda m: (m.start, m.number)))
        entries.append(Entry(first, tuple(group), start, "".join(text), marks))
    return entries


def sources_html(answer: Answer | None) -> str:
    """The sources panel for one reply: one entry per passage (overlapping ones merged), every
    answer span in it highlighted and numbered; or the closest passages, each once, when the
    answer was not found."""
    if answer is None:
        return '<div class="qa-sources"><p class="qa-muted">Sources of the latest answer appear here.</p></div>'
    key = answer_key(answer)
    # Which question these are the sources of: an earlier reply's [n] brings its panel back.
    parts = [f'<div class="qa-sources" data-answer="{key}">'
             f'<p class="qa-muted qa-sources-for">Sources for: {escape(_oneline(answer.question))}</p>']
    sources = number_sources(answer)
    if sources:
        for entry in source_entries(sources):
            kind = "" if any(s.primary for s in entry.sources) else " qa-source-alternative"
            refs = " ".join(str(n) for n in entry.numbers)
            anchors = "".join(f'<span id="qa-source-{key}-{n}" class="qa-anchor"></span>' for n in entry.numbers)
            who = []
            for value in dict.fromkeys(_oneline(s.answer) for s in entry.sources):
                claimants = dict.fromkeys(claimant_text(s.citation) for s in entry.sources
                                          if _oneline(s.answer) == value)
                who.append(f'<div class="qa-source-claimant">Who says {escape(value)}: '
                           f'{escape("; ".join(claimants))}</div>')
            parts.append(
                f'<div class="qa-source{kind}" data-source="{entry.numbers[0]}" data-refs=" {refs} ">{anchors}'
                f'<div class="qa-source-head"><span class="qa-num">{"".join(f"[{n}]" for n in entry.numbers)}</span> '
                f'{_place(entry.citation, sorted({s.citation.paragraph for s in entry.sources}))}</div>'
                f'{"".join(who)}'
                f'<blockquote class="qa-passage">{highlight_marks(entry.text, entry.marks)}</blockquote>'
                "</div>"
            )
    elif answer.passages:
        parts.append('<p class="qa-muted">No answer was found; these are the closest passages.</p>')
        for i, p in enumerate(closest_passages(answer), 1):
            parts.append(
                f'<div class="qa-source qa-source-closest" data-source="{i}" data-refs=" {i} ">'
                f'<div class="qa-source-head"><span class="qa-num">[{i}]</span> '
                f'<strong>{escape(p.title)}</strong>{_paragraph(p)} <span class="qa-muted">similarity '
                f"{p.similarity:.2f}</span></div>"
                f'<blockquote class="qa-passage">{escape(p.text)}</blockquote></div>'
            )
    else:
        parts.append('<p class="qa-muted">No passage was retrieved.</p>')
    parts.append("</div>")
    return "".join(parts)


def closest_passages(answer: Answer) -> list:
    """The first `MAX_CLOSEST_PASSAGES` retrieved passages, best first, leaving out one that
    overlaps a passage already listed (overlapping chunks repeat the same sentences)."""
    shown: list = []
    for p in answer.passages:
        if any(q.article_id == p.article_id and p.start < q.end and q.start < p.end for q in shown):
            continue
        shown.append(p)
        if len(shown) == MAX_CLOSEST_PASSAGES:
            break
    return shown


def _paragraph(p) -> str:
    return f", paragraph {p.paragraph}" if getattr(p, "paragraph", 0) else ""


def highlight_marks(text: str, marks: Sequence[Mark]) -> str:
    """``text`` escaped, each mark's span wrapped in ``<mark>`` followed by its number. Spans
    that overlap one already marked (two answers in one place) only add their number."""
    out, pos = [], 0
    pending: list[int] = []
    for m in marks:
        start, end = max(0, min(m.start, len(text))), max(0, min(m.end, len(text)))
        if start < pos:  # inside the previous mark: number it there too
            pending.append(m.number)
            continue
        if pending:
            out.append(_mark_numbers(pending))
            pending = []
        kind = "qa-mark" if m.primary else "qa-mark qa-mark-alternative"
        out.append(escape(text[pos:start]))
        out.append(f'<mark class="{kind}" data-ref="{m.number}">{escape(text[start:end])}</mark>')
        pending.append(m.number)
        pos = end
    if pending:
        out.append(_mark_numbers(pending))
    out.append(escape(text[pos:]))
    return "".join(out)


def _mark_numbers(numbers: list[int]) -> str:
    return f'<sup class="qa-mark-num">{"".join(f"[{n}]" for n in numbers)}</sup>'


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


def note_html(text: str) -> str:
    """A note under the question box (why a question was not sent), escaped."""
    return f'<p class="qa-note" role="status">{escape(text)}</p>'


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


def _refs(numbers: Iterable[int], key: str = "") -> str:
    """``[n]`` marks that link to their entry of the sources panel of the answer ``key``
    (`answer_key`; `SCRIPT` scrolls to it and makes it flash; the href alone still jumps there
    without the script)."""
    prefix = f"qa-source-{key}-" if key else "qa-source-"
    return "".join(f'<a class="qa-ref" href="#{prefix}{n}" data-ref="{n}">[{n}]</a>' for n in numbers)


def _place(c: Citation, paragraphs: Sequence[int] = ()) -> str:
    """Title, paragraph(s), date, source and link of a citation, for the sources panel; an entry
    that merges passages names every paragraph its answers are read in."""
    numbers = [n for n in (paragraphs or [c.paragraph]) if n]
    text = f"<strong>{escape(c.title)}</strong>"
    if len(numbers) == 1:
        text += f", paragraph {numbers[0]}"
    elif numbers:
        text += f", paragraphs {', '.join(map(str, numbers[:-1]))} and {numbers[-1]}"
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
