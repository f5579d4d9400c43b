"""Scoped questions: ask only some articles (by id, by source, by date range).

A `Filters` is resolved against an index snapshot into the set of chunk ids it allows, and
retrieval searches only those (`qa.retrieval.Retriever.retrieve`): FAISS with an ID selector,
BM25 with the other chunks' scores left out. Filtering *in* retrieval, not after it, matters:
the top 8 of the whole corpus may hold no passage of the chosen source at all, while the source
has the answer further down.

Dates compare as ISO text (``YYYY-MM-DD``, the form `qa.corpus` stores); an article without a
date is outside every date range. Sources compare case-insensitively.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa.errors import InvalidInput


@dataclass(frozen=True)
class Filters:
    """Which articles a question is about; an empty field does not filter.

    Args:
        articles: article ids (as ``qa articles`` lists them); any of them.
        source: the publication (``source`` of the article), case-insensitive.
        since: first date included, ``YYYY-MM-DD``.
        until: last date included, ``YYYY-MM-DD``.

    Raises:
        InvalidInput: a date that is not ``YYYY-MM-DD``, or ``since`` after ``until``.
    """

    articles: tuple[str, ...] = ()
    source: str | None = None
    since: str | None = None
    until: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "articles", tuple(a for a in self.articles if a))
        object.__setattr__(self, "source", (self.source or "").strip() or None)
        # Said in words both the page ("From", "To") and the CLI (--since, --until) can be read by.
        for name, said in (("since", "The start date"), ("until", "The end date")):
            value = (getattr(self, name) or "").strip() or None
            if value is not None:
                try:
                    value = dt.date.fromisoformat(value[:10]).isoformat()
                except ValueError:
                    raise InvalidInput(f"{said} {value!r} is not a date: give it as YYYY-MM-DD, "
                                       "e.g. 2019-06-30.") from None
            object.__setattr__(self, name, value)
        if self.since and self.until and self.since > self.until:
            raise InvalidInput(f"The start date {self.since} is after the end date {self.until}: "
                               "no article can match.")

    def __bool__(self) -> bool:
        return bool(self.articles or self.source or self.since or self.until)

    def matches(self, article) -> bool:
        """Whether ``article`` (anything with ``id``, ``source``, ``date``) is in scope."""
        if self.articles and article.id not in self.articles:
            return False
        if self.source and (article.source or "").casefold() != self.source.casefold():
            return False
        date = (article.date or "")[:10]
        if (self.since or self.until) and not date:
            return False
        if self.since and date < self.since:
            return False
        return not (self.until and date > self.until)

    def describe(self) -> str:
        """The scope in words, shown with the search query: ``source: BBC; 2019-01-01 to
        2019-12-31``."""
        parts = []
        if self.articles:
            parts.append(("article: " if len(self.articles) == 1 else "articles: ") + ", ".join(self.articles))
        if self.source:
            parts.append(f"source: {self.source}")
        if self.since and self.until:
            parts.append(f"dates {self.since} to {self.until}")
        elif self.since:
            parts.append(f"since {self.since}")
        elif self.until:
            parts.append(f"until {self.until}")
        return "; ".join(parts)

    def chunk_ids(self, snapshot) -> np.ndarray:
        """The ids of the chunks of the articles in scope in ``snapshot`` (int64, maybe empty)."""
        ids = [a.id for a in snapshot.articles() if self.matches(a)]
        return snapshot.chunk_ids_of(ids)


def sources(articles: Sequence) -> list[str]:
    """The distinct sources of ``articles``, sorted (for a chooser)."""
    return sorted({a.source for a in articles if a.source}, key=str.casefold)
