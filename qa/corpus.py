"""Articles: reading the files in ``corpus/`` into clean text that answers can be cited from.

Every answer qa gives is a span of ``Article.text``, so this module decides what text a reader
may cite. Site furniture (comment prompts, subscribe boxes, "Back to Top", copyright footers,
image credits, "Related Articles") is removed here, before chunking, so it can never become an
answer passage.

Formats: ``.txt`` (first line is the title; a one-line file is title and text at once), ``.md``
(first ``#`` heading or first line; Markdown markup is removed, a byline's date is read),
``.html``/``.htm`` (main text extracted with trafilatura, a library built and benchmarked for
news pages; it also returns title, date and site name), and ``.json``/``.jsonl`` records
``{title, text, url?, date?, source?, id?}`` (HTML markup in ``text`` is removed).

Text is never lost to an odd byte: files are read as UTF-8, UTF-16/32 with a byte-order mark, or
Windows-1252; every string an article holds is clean Unicode (`clean_unicode`: lone surrogates
become U+FFFD, control characters other than tab and line breaks are removed, with a warning
naming the file and record). One bad record skips that record, one bad file that file.

Article ids are stable across runs: the file's path relative to the corpus folder (`display_name`:
a name that is not UTF-8 is read as Windows-1252), plus ``#<record id or line number>`` for
records of a JSON/JSONL file; a record id used twice in one file gets ``@<line>`` appended.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import re
import unicodedata
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl")


@dataclass(frozen=True)
class Article:
    """One news article, as cleaned text; citations point into ``text``."""

    id: str
    title: str
    text: str
    path: str  # relative to the corpus folder
    url: str | None = None
    date: str | None = None
    source: str | None = None

    @property
    def fingerprint(self) -> str:
        """Changes whenever anything that is indexed or shown changes."""
        payload = json.dumps([self.title, self.text, self.url, self.date, self.source])
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class SkippedFile:
    """A file of the corpus that could not be used, and why (shown to the user)."""

    path: str
    reason: str


@dataclass(frozen=True)
class CorpusScan:
    articles: list[Article]
    skipped: list[SkippedFile]


class UnusableFile(Exception):
    """Raised inside this module for a file that must be skipped; the message is the reason."""


def scan_corpus(corpus_dir: str | Path, max_file_bytes: int = 20 * 1024 * 1024) -> CorpusScan:
    """Read every supported file under ``corpus_dir`` (recursively, hidden files excluded).

    Unreadable, binary, empty or malformed files are skipped with a warning naming the file;
    the rest is still returned, so one bad file never loses the others.
    """
    root = Path(corpus_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"The corpus folder {root} does not exist.")
    articles: list[Article] = []
    skipped: list[SkippedFile] = []
    seen: set[str] = set()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = display_name(path.relative_to(root).as_posix())
        if any(part.startswith(".") for part in Path(rel).parts):
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            reason = f"unsupported file type '{path.suffix or '(none)'}' (use {', '.join(SUPPORTED_SUFFIXES)})"
            skipped.append(SkippedFile(rel, reason))
            log.debug("skipping %s: %s", rel, reason)  # the index report lists it (once)
            continue
        try:
            found = read_file(path, rel, max_file_bytes)
        except UnusableFile as exc:
            skipped.append(SkippedFile(rel, str(exc)))
            log.debug("skipping %s: %s", rel, exc)  # the index report lists it (once)
            continue
        for article in found:
            if article.id in seen:  # two file names that read alike (see `display_name`)
                log.warning("%s: article id %r is already used by another file; skipped", rel, article.id)
                continue
            seen.add(article.id)
            articles.append(article)
    return CorpusScan(articles, skipped)


def display_name(rel: str) -> str:
    """A corpus path as clean text: the id and path articles are stored and shown under.

    A name whose bytes are not UTF-8 (``os.fsdecode`` keeps them as lone surrogates; common after
    unzipping Windows archives) is read as Windows-1252, so ``caf\\xe9.txt`` is ``café.txt``;
    control characters are removed. `find_file` maps the name back to the file.
    """
    raw = os.fsencode(rel)
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        name = raw.decode("cp1252", errors="replace")
    return clean_unicode(name)


def find_file(corpus_dir: str | Path, rel: str) -> Path | None:
    """The file of the corpus whose `display_name` is ``rel``; None when there is none.

    Only files that indexing reads can be found: never one outside the folder ("../x", an
    absolute path) or in a hidden folder such as ``.removed/``.
    """
    root = Path(corpus_dir)
    parts = Path(rel).parts
    if not parts or Path(rel).is_absolute() or any(p.startswith(".") for p in parts):
        return None
    direct = root / rel
    if direct.is_file() and display_name(direct.relative_to(root).as_posix()) == rel:
        return direct
    for path in root.rglob("*"):
        if path.is_file() and display_name(path.relative_to(root).as_posix()) == rel:
            return path
    return None


def read_file(path: Path, rel: str, max_file_bytes: int = 20 * 1024 * 1024) -> list[Article]:
    """The articles of one file. Raises `UnusableFile` with the reason when it has none.

    Whatever goes wrong inside one file (JSON nested too deeply, a parser error) is that file's
    `UnusableFile`, never an error that stops the caller's other files.
    """
    try:
        return _read_file(path, rel, max_file_bytes)
    except UnusableFile:
        raise
    except RecursionError as exc:
        raise UnusableFile("nested too deeply to read (JSON or markup more than ~1,000 levels deep)") from exc
    except Exception as exc:  # noqa: BLE001 - any parser error: skip this file, name the reason
        log.debug("reading %s failed", rel, exc_info=True)
        raise UnusableFile(f"cannot be read ({type(exc).__name__}: {exc})") from exc


def _read_file(path: Path, rel: str, max_file_bytes: int) -> list[Article]:
    try:
        size = path.stat().st_size
        if size > max_file_bytes:
            raise UnusableFile(f"file is {size / 2**20:.1f} MiB, over the {max_file_bytes / 2**20:.0f} MiB limit")
        data = path.read_bytes()
    except OSError as exc:
        raise UnusableFile(f"cannot be read ({exc.strerror or exc})") from exc
    text = clean_unicode(decode_text(data, rel), rel)
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl"):
        return _records(text, rel, jsonl=suffix == ".jsonl")
    if suffix in (".html", ".htm"):
        article = _html(text, rel)
    else:
        article = _plain(text, rel, markdown=suffix in (".md", ".markdown"))
    return [article]


def _plain(text: str, rel: str, markdown: bool) -> Article:
    """A .txt or .md article; a one-line file is both the title and the text."""
    title, body = split_title(text, markdown=markdown)
    if markdown:
        title, body = markdown_text(title).replace("\n", " "), markdown_text(body)
    date = byline_date(body)
    try:
        return make_article(rel, title, body, path=rel, date=date)
    except UnusableFile:
        if body.strip() or not title.strip():
            raise  # the body was all boilerplate: nothing to answer from
        return replace(make_article(rel, "", title, path=rel), title=" ".join(title.split()))


_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"),
)


def decode_text(data: bytes, rel: str = "") -> str:
    """Bytes to text; binary content (undecodable, mostly control characters) is refused.

    UTF-8 (with or without a BOM), UTF-16/32 with a BOM, else Windows-1252. A UTF-8 file with
    a few broken bytes stays UTF-8 (each broken byte becomes U+FFFD) rather than turning all
    its accents into mojibake.
    """
    if not data.strip():
        raise UnusableFile("file is empty")
    for bom, codec in _BOMS:
        if data.startswith(bom):
            text = data.decode(codec, errors="replace")
            break
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("utf-8-sig", errors="replace")
            bad = text.count("\ufffd") - data.count("\ufffd".encode())
            good = sum(1 for ch in text if ord(ch) > 0x7F and ch != "\ufffd")
            if good > bad:  # mostly valid multi-byte UTF-8: a few broken bytes
                log.warning("%s: %d bytes are not valid UTF-8; replaced with U+FFFD", rel or "text", bad)
            else:
                text = data.decode("cp1252", errors="replace")
    if not text.strip():
        raise UnusableFile("file is empty")
    # Binary data read as text is ~15% control characters and undecodable bytes; a text with a
    # stray NUL or escape sequence is far below that, and is cleaned, not refused.
    sample = text[:8192]
    odd = sum(1 for ch in sample if ch == "\ufffd" or (unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f"))
    if odd > max(8, 0.05 * len(sample)):
        raise UnusableFile("looks like a binary file, not text")
    return text


_SURROGATE = re.compile("[\ud800-\udfff]")
# Control characters (category Cc) other than tab, line feed and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_CONTROLS = {0x0B: "\n", 0x0C: "\n", 0x85: "\n"}  # vertical tab, form feed, NEL


def clean_unicode(text: str, where: str = "") -> str:
    """``text`` as clean Unicode, storable and printable anywhere.

    Lone surrogates (half an emoji cut upstream, or bytes a file name could not decode) become
    U+FFFD; vertical tab, form feed and NEL become line feeds; every other control character
    but tab, line feed and carriage return is removed (NUL, ESC, BEL, ...). With ``where`` (the
    file and record) a warning says what was changed.
    """
    if not (_SURROGATE.search(text) or _CONTROL.search(text)):
        return text
    text, surrogates = _SURROGATE.subn("\ufffd", text)
    text, controls = _CONTROL.subn(lambda m: _LINE_CONTROLS.get(ord(m.group()), ""), text)
    if where:
        log.warning("%s: %s", where, "; ".join(
            part for part in (
                f"{surrogates} lone surrogate(s) replaced with U+FFFD" if surrogates else "",
                f"{controls} control character(s) removed" if controls else "",
            ) if part))
    return text


def make_article(article_id: str, title: str, body: str, path: str | None = None, **meta: str | None) -> Article:
    """Clean ``body`` and build the article; raise `UnusableFile` when nothing is left.

    ``path`` defaults to ``article_id`` up to its ``#`` (the file of a record).
    """
    title = " ".join(title.split())
    text = clean_text(body, title)
    if not text:
        raise UnusableFile("no article text left after removing boilerplate")
    if not title:
        title = text.split("\n", 1)[0][:120]
    meta = {k: (" ".join(str(v).split()) or None) if v is not None else None for k, v in meta.items()}
    if path is None:
        path = article_id.split("#", 1)[0]
    return Article(id=article_id, title=title, text=text, path=path, **meta)


def split_title(text: str, markdown: bool = False) -> tuple[str, str]:
    """Title and body of a plain-text or Markdown article."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.strip("\n").split("\n")
    if markdown:
        for i, line in enumerate(lines[:20]):
            m = re.match(r"^#{1,2}\s+(.*)$", line.strip())
            if m:
                return m.group(1).strip(), "\n".join(lines[:i] + lines[i + 1 :])
    first = lines[0].strip().lstrip("#").strip()
    return first, "\n".join(lines[1:])


# A copyright notice: the mark, a year (or range), then only names or "all rights reserved".
# Case matters after the year ("(?-i:...)"): "© 2024 BBC. All rights reserved." is a notice,
# "© 2019 study finds that zinc shortens colds" is a sentence that must stay.
_COPYRIGHT = (
    r"(copyright\s*)?(©|\(c\)|copyright)\s*\d{4}(\s*[-–]\s*\d{2,4})?"
    r"(?-i:([\s,.|–-]+([A-Z0-9&][\w&'’]*|[Aa]ll|rights|reserved|by|the|of|and|for))*)[\s.]*"
)
# Lines that are site furniture, not reporting. Matched against a whole (stripped) line.
_BOILERPLATE_LINE = re.compile(
    r"""^(
        (leave|post|add|write)\s+a\s+(comment|reply)\b.* |
        .*\bno\s+comments?\s+on\b.* |
        \d*\s*comments?$ |
        back\s+to\s+top\b.* |
        (related|recommended|popular|more|latest)\s+(articles?|posts?|stories|news|reading)\b.* |
        you\s+(may|might)\s+also\s+like\b.* |
        read\s+(more|also|next)\b.{0,80} |
        (subscribe|sign\s+up)\s+(to|for)\b.{0,80} |
        enter\s+your\s+e-?mail(\s+address)?:?$ |
        COPYRIGHT |
        all\s+rights\s+reserved\.?$ |
        share\s+(this|on)\b.{0,60} |
        (tags?|filed\s+under|categories)\s*:.{0,200} |
        advertisement$ |
        (image|photo|picture)\s+(credit|courtesy)s?\s*:.* |
        click\s+here\b.{0,120}
    )$""".replace("COPYRIGHT", _COPYRIGHT),
    re.IGNORECASE | re.VERBOSE,
)
# Markers after which, near the end of a page, everything is footer (site blurbs, sign-ups).
_FOOTER_START = re.compile(
    r"^((related|recommended|more)\s+(articles?|posts?|stories)|leave\s+a\s+(comment|reply)|"
    r"you\s+(may|might)\s+also\s+like|back\s+to\s+top|" + _COPYRIGHT + "$)",
    re.IGNORECASE,
)
# Picture agencies, as they are named in credits ("Name/Getty Images", "AP Photo/Name").
_AGENCY = (r"(getty\s+images|afp|reuters|ap(\s+photo)?|epa(-efe)?|shutterstock|istock(photo)?|alamy|"
           r"bloomberg|dpa|pa(\s+(images|media|wire))?|xinhua|kcna|anadolu(\s+agency)?)")
# The credit of a picture, and only the credit: a caption's text is content ("X and Y held a
# meeting in Z on June 19, 2024. (Image Credit: KCNA)" keeps its first sentence). A credit is
# in brackets, or ends the line after the caption's last sentence (or is the whole line).
_CREDIT = re.compile(
    r"""\s*[(\[]\s*(
        (image|photo|picture|photograph|video)s?\s+(credit|courtesy)s?\b |
        (image|photo|picture|photograph|video|credits?)\s*: |
        (image|photo|picture|photograph)s?\s+(by|courtesy\s+of)\b |
        courtesy\s+of\b |
        [^()\[\]]{0,80}/\s*AGENCY\b |
        AGENCY\s*/ |
        (getty\s+images|shutterstock|istock(photo)?|alamy|ap\s+photo)\s*[)\]]
    )[^()\[\]]{0,120}[)\]]?
    | (^|(?<=[.!?"”’]))\s*(
        ((image|photo|picture|photograph|video)s?\s*(credit|courtesy)?s?|credits?|courtesy)\s*:\s*[^.!?]{1,80} |
        ([^\s.!?/][^.!?/]{0,60}/\s*AGENCY(\s+via\s+getty\s+images)? | AGENCY\s*/[^.!?]{1,60} |
         getty\s+images|shutterstock|istock(photo)?|alamy)\.?
    )\s*$""".replace("AGENCY", _AGENCY),
    re.IGNORECASE | re.VERBOSE,
)


def clean_text(body: str, title: str = "") -> str:
    """Remove boilerplate lines and picture credits (captions stay); normalise line breaks and blank lines.

    Paragraphs stay separated by one blank line: they are what citations number.
    """
    body = body.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    lines = [line.rstrip() for line in body.split("\n")]
    # Cut the footer: from the first footer marker in the last third of the page (never the
    # first line: a one-paragraph article is not all footer).
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    if len(nonblank) > 1:
        cutoff = max(nonblank[1], nonblank[len(nonblank) * 2 // 3])
        for i in nonblank:
            if i >= cutoff and _FOOTER_START.match(lines[i].strip()):
                lines = lines[:i]
                break
    kept: list[str] = []
    norm_title = _norm(title)
    for line in lines:
        stripped = line.strip()
        if not stripped:
            kept.append("")
            continue
        if _BOILERPLATE_LINE.match(stripped) or (norm_title and _norm(stripped) == norm_title):
            continue
        caption = _CREDIT.sub("", stripped).strip()
        if caption != stripped:
            # A caption with its credit: keep the caption, cut the credit, and drop the image's
            # alt text on the line just before, which repeats the caption's opening words.
            prev = next((j for j in range(len(kept) - 1, -1, -1) if kept[j].strip()), None)
            if prev is not None and caption and _norm(caption).startswith(_norm(kept[prev])[:40]):
                del kept[prev:]
            if not caption.strip(" .,;:-–—|"):
                continue
            stripped = caption
        kept.append(" ".join(stripped.split()) if not stripped.startswith("|") else stripped)
    text = "\n".join(kept)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text


def _norm(s: str) -> str:
    s = s.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(s.lower().split())


@dataclass(frozen=True)
class HtmlOptions:
    """How the main text of an HTML page is taken.

    The defaults were chosen by ``benchmarks/html_extraction.py`` (token F1 of the stored text
    against hand-checked bodies of 181 real news and blog pages; figures in benchmarks/README.md).
    The other values exist so that the benchmark can measure them.
    """

    focus: str = "precision"  # trafilatura's trade-off: "precision", "balanced" or "recall"
    tables: bool = True
    captions: bool = True  # figure captions are content; clean_text cuts their credits
    clean: bool = True  # qa's own furniture cleaning (clean_text) on top of trafilatura
    # Precision mode now and then keeps a fragment (a reprint notice) and drops the story: when
    # it keeps under this share of what the balanced mode finds, the balanced text is taken.
    # 0 turns this off. Set on the benchmark pages, where it fires on 1 page of 181.
    fallback: float = 0.2


HTML_OPTIONS = HtmlOptions()


def _html(text: str, rel: str) -> Article:
    return html_article(text, rel)


def html_article(html: str, rel: str, options: HtmlOptions = HTML_OPTIONS) -> Article:
    """The article of one HTML page: main text, title, date and site name (trafilatura).

    Raises `UnusableFile` when the page has no article text (only links, images, scripts).
    The date is read from the markup only (meta tags, JSON-LD, ``<time>``); dates found by
    searching the page's text are wrong too often (a cookie expiry in a script, a copyright
    year read as 1 January, a date the story mentions), and no date is better than a wrong one.
    """
    try:
        import trafilatura
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise UnusableFile("HTML support needs trafilatura: pip install trafilatura") from exc
    if options.focus not in ("precision", "balanced", "recall"):
        raise ValueError(f"focus must be 'precision', 'balanced' or 'recall', not {options.focus!r}")
    tree = trafilatura.load_html(html)
    if tree is None:
        raise UnusableFile("no article text found in this HTML page")
    _keep_leads(tree)
    if options.captions:
        _captions_as_paragraphs(tree)
    settings = dict(include_comments=False, include_tables=options.tables, with_metadata=True,
                    date_extraction_params={"extensive_search": False, "original_date": True})
    doc = trafilatura.bare_extraction(
        tree, favor_precision=options.focus == "precision", favor_recall=options.focus == "recall", **settings
    )
    if options.focus == "precision" and options.fallback:
        balanced = trafilatura.bare_extraction(tree, **settings)
        if balanced is not None and len(_text_of(doc)) < options.fallback * len(_text_of(balanced)):
            doc = balanced
    if not _text_of(doc).strip():
        raise UnusableFile("no article text found in this HTML page")
    if _only_links(doc.text, tree):
        raise UnusableFile("no article text found in this HTML page (only links)")
    # trafilatura separates paragraphs with single newlines; make them blank-line paragraphs.
    body = re.sub(r"\n+", "\n\n", doc.text)
    meta = {"url": doc.url, "date": doc.date, "source": doc.sitename or doc.hostname}
    if not options.clean:  # only to measure what the cleaning adds
        return Article(id=rel, title=doc.title or "", text=body.strip(), path=rel, **meta)
    return make_article(rel, doc.title or "", body, path=rel, **meta)


def _text_of(doc) -> str:
    return (getattr(doc, "text", None) or "") if doc is not None else ""


_TEASER = "teaser"


def _keep_leads(tree) -> None:
    """Let a story's lead paragraphs in a "teaser" block through to the extraction.

    trafilatura drops every block whose class or id says "teaser", which on news sites is both
    the lead of the story (``<div class="teaser-content"><p>...``) and a box of links to other
    stories. A block of paragraphs that are not links is a lead: its "teaser" name is hidden, so
    trafilatura judges it like any other block (link density included).
    """
    for el in tree.xpath(
        ".//*[self::div or self::section or self::p or self::span]"
        "[contains(translate(@class, 'TEASR', 'teasr'), 'teaser') or contains(translate(@id, 'TEASR', 'teasr'), 'teaser')]"
    ):
        paragraphs = [el] if el.tag == "p" else el.findall(".//p")
        text = sum(len(" ".join(p.text_content().split())) for p in paragraphs)
        links = sum(len(" ".join(a.text_content().split())) for p in paragraphs for a in p.iter("a"))
        if text >= 80 and links <= 0.1 * text:
            for attr in ("class", "id"):
                if el.get(attr):
                    el.set(attr, re.sub(_TEASER, "lead", el.get(attr), flags=re.IGNORECASE))


def _captions_as_paragraphs(tree) -> None:
    """Make each ``<figcaption>`` a paragraph where its figure stood.

    trafilatura removes figures whole, captions included; a caption often states a fact the
    text does not ("X and Y met in Z on June 19"), so it is kept. Its credit ("(Image Credit:
    ...)", "Photo: Reuters/...") is cut afterwards by `clean_text`.
    """
    for caption in list(tree.iter("figcaption")):
        caption.tag = "p"
        figure = caption.getparent()
        if figure is not None and figure.tag == "figure":
            figure.tag = "div"
            for attr in ("class", "id"):  # a figure's "caption"/"media" classes would drop it again
                figure.attrib.pop(attr, None)


def _only_links(text: str, tree) -> bool:
    """True when every extracted line is the text of a link (a menu, not an article)."""
    anchors = {" ".join(a.text_content().split()) for a in tree.iter("a")}
    lines = [" ".join(line.split()) for line in text.split("\n") if line.strip()]
    return all(line in anchors for line in lines)


def _records(text: str, rel: str, jsonl: bool) -> list[Article]:
    """Articles of a JSON (one record or a list) or JSON-lines file.

    A malformed line of a JSONL file (not JSON, nested too deeply) or a record without text is
    skipped with a warning naming it; the file is refused only when no record is usable. A
    record id used twice keeps both records: the later one as ``<id>@<line or position>``.
    """
    items: list[tuple[str, object]] = []
    if jsonl:
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append((str(n), json.loads(line)))
            except json.JSONDecodeError as exc:
                log.warning("%s line %d: not valid JSON (%s); skipped", rel, n, exc.msg)
            except RecursionError:
                log.warning("%s line %d: nested too deeply to read; skipped", rel, n)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UnusableFile(f"not valid JSON (line {exc.lineno}: {exc.msg})") from exc
        if isinstance(data, dict) and isinstance(data.get("articles"), list):
            data = data["articles"]
        data = data if isinstance(data, list) else [data]
        items = [(str(i + 1), d) for i, d in enumerate(data)]
    what = "line" if jsonl else "record"
    articles: list[Article] = []
    problems: list[str] = []
    ids: dict[str, str] = {}  # record id -> where it was first used
    for key, rec in items:
        where = f"{rel} {what} {key}"
        if not isinstance(rec, dict) or not isinstance(rec.get("text"), str) or not rec["text"].strip():
            problems.append(f"{what} {key} has no 'text'")
            continue
        rid = _field(rec, "id", where) or key
        where += f" (id {rid!r})" if rid != key else ""
        fields = {name: _field(rec, name, where) for name in ("title", "url", "date", "source")}
        if rid in ids:
            unique = f"{rid}@{key}"
            log.warning("%s: record id %r is already used on %s %s; indexed as %r",
                        where, rid, what, ids[rid], f"{rel}#{unique}")
            rid = unique
        single = not jsonl and len(items) == 1
        body = clean_unicode(rec["text"], where)
        if _MARKUP.search(body):
            body = html_text(body)
        try:
            articles.append(make_article(
                rel if single else f"{rel}#{rid}", fields.pop("title") or "", body, path=rel, **fields
            ))
            ids.setdefault(rid, key)
        except UnusableFile as exc:
            problems.append(f"{what} {key}: {exc}")
    for p in problems:
        log.warning("%s: %s; skipped", rel, p)
    if not articles:
        raise UnusableFile("no usable records (each needs a non-empty 'text' field)" + (
            f": {problems[0]}" if problems else ""))
    return articles


def _field(rec: dict, name: str, where: str) -> str | None:
    """A record's metadata field as clean text; a field that is not text is ignored."""
    value = rec.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        log.warning("%s: field '%s' is not text; ignored", where, name)
        return None
    return clean_unicode(str(value), where)


# A tag HTML articles use; "a < b" or "<- arrow" are not markup.
_MARKUP = re.compile(
    r"</?(p|br|div|span|a|b|i|u|em|strong|ul|ol|li|h[1-6]|blockquote|img|figure|figcaption|table|"
    r"thead|tbody|tr|td|th|section|article|header|footer|script|style|sup|sub|small|font|hr|pre|code)"
    r"\b[^<>]*/?>",
    re.IGNORECASE,
)


class _TextOfHTML(HTMLParser):
    """Collects the text of an HTML fragment: blocks become paragraphs, scripts are dropped."""

    _PARAGRAPH = {"p", "div", "section", "article", "header", "footer", "blockquote", "ul", "ol",
                  "table", "figure", "figcaption", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "hr"}
    _LINE = {"br", "li", "tr"}
    _HIDDEN = {"script", "style", "noscript", "template", "head"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.pre = 0

    def handle_starttag(self, tag, attrs):
        self._tag(tag, 1)

    def handle_endtag(self, tag):
        self._tag(tag, -1)

    def handle_startendtag(self, tag, attrs):
        if tag in self._LINE or tag in self._PARAGRAPH:
            self.parts.append("\n" if tag in self._LINE else "\n\n")

    def _tag(self, tag: str, step: int) -> None:
        if tag in self._HIDDEN:
            self.hidden = max(0, self.hidden + step)
        elif tag == "pre":
            self.pre = max(0, self.pre + step)
        if tag in self._PARAGRAPH:
            self.parts.append("\n\n")
        elif tag in self._LINE and (step > 0 or tag != "br"):
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data if self.pre else re.sub(r"\s+", " ", data))


def html_text(markup: str) -> str:
    """The text of an HTML fragment (a JSON record's ``text`` written as HTML), with paragraphs
    separated by blank lines and line breaks kept; tags, scripts and styles removed."""
    parser = _TextOfHTML()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


def markdown_text(markdown: str) -> str:
    """Markdown as the plain text readers see: emphasis, links, images and heading marks removed,
    paragraphs separated by blank lines, list items and line breaks on lines of their own."""
    from markdown_it import MarkdownIt

    blocks: list[tuple[str, bool]] = []  # (text, is a tight list item)
    tight = False
    for tok in MarkdownIt("commonmark").parse(markdown):
        if tok.type == "paragraph_open":
            tight = tok.hidden
        elif tok.type == "heading_open":
            tight = False
        elif tok.type == "inline":
            blocks.append((_inline_text(tok.children or []), tight))
        elif tok.type in ("fence", "code_block"):
            blocks.append((tok.content.rstrip("\n"), False))
        elif tok.type == "html_block":
            blocks.append((html_text(tok.content), False))
    out = ""
    for i, (text, in_list) in enumerate(blocks):
        if i:
            out += "\n" if in_list and blocks[i - 1][1] else "\n\n"
        out += text
    return out


def _inline_text(children) -> str:
    parts = []
    for t in children:
        if t.type in ("text", "code_inline"):
            parts.append(t.content)
        elif t.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif t.type == "html_inline" and re.match(r"<br\b", t.content, re.IGNORECASE):
            parts.append("\n")
    return "".join(parts)


_MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"])}
_MONTH = r"(?P<{0}>jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(
    r"\b(?:" + _MONTH.format("m1") + r"\s+(?P<d1>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y1>\d{4})"
    r"|(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH.format("m2") + r",?\s+(?P<y2>\d{4})"
    r"|(?P<y3>\d{4})-(?P<m3>\d{2})-(?P<d3>\d{2}))\b",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^(by|published|posted|updated|dated?|written by)\b", re.IGNORECASE)


def byline_date(body: str) -> str | None:
    """The publication date (ISO ``YYYY-MM-DD``) of a byline or date line among the first three
    lines of ``body``: a short line that starts "By", "Published", ... or holds only a date.
    A date inside a sentence is not a publication date: None rather than a wrong date."""
    lines = [line.strip(" *_|") for line in body.split("\n") if line.strip()][:3]
    for line in lines:
        m = _DATE.search(line)
        if not m or len(line) > 100:
            continue
        rest = (line[: m.start()] + line[m.end() :]).strip(" |,;:-\u2013\u2014\u00b7\u2022/()")
        if not (_BYLINE.match(line) or _BYLINE.match(rest) or not rest):
            continue
        g = m.groupdict()
        month = g["m1"] or g["m2"]
        try:
            if month:
                m_num = next(v for k, v in _MONTHS.items() if k.startswith(month.lower()[:3]))
                date = datetime.date(int(g["y1"] or g["y2"]), m_num, int(g["d1"] or g["d2"]))
            else:
                date = datetime.date(int(g["y3"]), int(g["m3"]), int(g["d3"]))
        except ValueError:
            continue  # "February 30": not a date
        return date.isoformat()
    return None


def paragraph_number(text: str, offset: int) -> int:
    """1-based number of the paragraph (blank-line separated block) holding ``offset``."""
    return text.count("\n\n", 0, offset) + 1
