"""What the chat page shows for an answer: qa.render, without a browser."""

from __future__ import annotations

import html
import re

from qa.answer import Answer, Candidate, Citation, RetrievedPassage
from qa.render import (
    articles_html,
    escape,
    highlight,
    message_html,
    number_sources,
    question_html,
    reply_html,
    sources_html,
)

PASSAGE = ("South Korea's National Intelligence Service (NIS) has claimed that as many as 1,500 "
           "North Korean troops have already arrived in Russia. South Korean media reports suggest "
           "the number could eventually rise to 12,000.")
TITLE = "South Korea and Ukraine claim North Korea is sending troops to support Russia"


def cite(answer: str, passage: str = PASSAGE, offset: int = 1000, **meta) -> Citation:
    start = passage.index(answer)
    return Citation(article_id="nk", title=meta.pop("title", TITLE), start=offset + start,
                    end=offset + start + len(answer), passage=passage, passage_start=offset,
                    chunk_id="nk-2", paragraph=2, **meta)


def found(**changes) -> Answer:
    fields = dict(
        question="How many North Korean troops have already arrived in Russia?",
        query="How many North Korean troops have already arrived in Russia?",
        answer="1,500", found=True, score=0.91,
        citations=(cite("1,500", date="2024-10-25", source="IRIA", url="https://ir-ia.com/nk"),),
        alternatives=(Candidate("12,000", 0.4, (cite("12,000"),)),),
        timings_ms={"resolve": 0.1, "retrieve": 12.0, "read": 340.0, "compose": 1.0, "total": 353.1},
    )
    fields.update(changes)
    return Answer(**fields)


def visible_text(markup: str) -> str:
    """Roughly what a browser shows: tags dropped, character references decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def test_escape_makes_html_inert_and_shows_it_as_text():
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    out = escape(evil)
    assert "<" not in out and ">" not in out and '"' not in out
    assert html.unescape(out) == evil


def test_escape_neutralises_markdown_and_template_syntax():
    out = escape("**bold** [link](javascript:alert(1)) ${value} {{x}} `code` $x$")
    for ch in "*[]()${}`":
        assert ch not in out
    assert html.unescape(out) == "**bold** [link](javascript:alert(1)) ${value} {{x}} `code` $x$"


def test_escape_keeps_paragraph_breaks():
    assert escape("one\n\ntwo") == "one<br><br>two"


def test_highlight_marks_exactly_the_answer_span():
    start = PASSAGE.index("12,000")
    out = highlight(PASSAGE, start, start + 6)
    assert re.search(r"<mark>12&#44;000</mark>|<mark>12,000</mark>", out)
    assert visible_text(out) == PASSAGE


def test_highlight_escapes_text_around_the_span():
    out = highlight("<b>x</b> 42 <i>", 9, 11)
    assert "<b>" not in out and "<i>" not in out
    assert "<mark>42</mark>" in out


def test_reply_shows_answer_confidence_and_numbered_citation():
    out = reply_html(found())
    text = visible_text(out)
    assert "1,500 [1]" in text
    assert "confidence 0.91" in text
    assert f"{TITLE}: [1] paragraph 2" in text


def test_reply_names_each_cited_article_once():
    text = visible_text(reply_html(found()))
    assert text.count(TITLE) == 1
    assert "[1] paragraph 2 · [2] paragraph 2" in text


def test_reply_says_the_sources_differ_and_lists_other_reports_with_their_own_citation_numbers():
    text = visible_text(reply_html(found()))
    assert "The sources differ:" in text
    assert "12,000 — the article, in its own voice: [2]" in text


def test_reply_shows_the_search_query_used():
    answer = found(query="When will they be ready? North Korean troops Russia")
    assert "Search query used: When will they be ready? North Korean troops Russia" in visible_text(
        reply_html(answer))


def test_reply_details_give_per_stage_timings():
    text = visible_text(reply_html(found()))
    assert "retrieve 12 ms" in text and "read 340 ms" in text and "total 353 ms" in text


def test_not_found_says_so_plainly_and_never_shows_the_guess():
    guess = Candidate("7", 0.1, (cite("1,500"),))
    answer = Answer(question="How many tanks?", query="How many tanks?", answer=None, found=False,
                    score=0.1, best_guess=guess,
                    passages=(RetrievedPassage("nk", TITLE, "nk-2", 0, len(PASSAGE), PASSAGE, 0.41),))
    text = visible_text(reply_html(answer))
    assert "I could not find the answer in the articles." in text
    assert "confidence" not in text and "[1]" not in text
    panel = visible_text(sources_html(answer))
    assert "closest passages" in panel and PASSAGE in panel and "similarity 0.41" in panel


def test_sources_panel_highlights_each_cited_answer_with_title_date_and_source():
    out = sources_html(found())
    text = visible_text(out)
    assert "[1]" in text and "[2]" in text
    assert "2024-10-25" in text and "IRIA" in text and TITLE in text
    assert out.count("<mark ") == 2
    assert 'href="https://ir-ia.com/nk"' in out


def test_sources_panel_links_only_web_urls():
    answer = found(citations=(cite("1,500", url="javascript:alert(1)"),))
    assert "href" not in sources_html(answer)


def test_article_text_in_the_reply_and_panel_is_escaped():
    passage = 'Troops <script>alert("x")</script> numbered 500 <img src=x onerror=alert(1)>.'
    title = "<script>document.title='pwned'</script>"
    answer = found(answer="500", citations=(cite("500", passage=passage, title=title),), alternatives=())
    for out in (reply_html(answer), sources_html(answer)):
        assert "<script" not in out and "<img" not in out
        assert "<script>" in visible_text(out)


def test_citations_are_numbered_best_answer_first():
    answer = found(citations=(cite("1,500"), cite("1,500", offset=5000)))
    numbers = [(s.number, s.answer, s.primary) for s in number_sources(answer)]
    assert numbers == [(1, "1,500", True), (2, "1,500", True), (3, "12,000", False)]


def test_articles_table_and_messages_are_escaped():
    class Info:
        id, title, path, date, source, chunks = "a", "<b>Bold</b>", "a.txt", None, None, 3

    assert "<b>" not in articles_html([Info()])
    assert "<img" not in message_html("<img src=x onerror=alert(1)>")
    assert "<img" not in question_html("<img src=x onerror=alert(1)>")


def test_a_tentative_answer_is_hedged_and_still_cited():
    out = visible_text(reply_html(found(answer="12,000", score=0.39, tentative=True,
                                        citations=(cite("12,000"),), alternatives=())))
    assert "Possibly 12,000 [1]" in " ".join(out.split())
    assert "low confidence 0.39" in out and "check it" in out
    assert "Possibly" not in visible_text(reply_html(found()))


def test_a_wrong_event_answer_names_what_its_article_never_mentions():
    out = visible_text(reply_html(found(answer="12,000", score=0.8, tentative=True, unmentioned=("Kursk", "2019"),
                                        citations=(cite("12,000"),), alternatives=())))
    assert "never mentions Kursk, 2019" in " ".join(out.split())
    assert "never mentions" not in visible_text(reply_html(found()))


def test_json_lists_the_unmentioned_names():
    assert found(unmentioned=("Kursk",), tentative=True).to_dict()["unmentioned"] == ["Kursk"]
    assert found().to_dict()["unmentioned"] == []


def test_citations_in_one_passage_are_one_entry_with_every_answer_marked_and_numbered():
    # Issue 15: the passage was shown again for each citation from it.
    out = sources_html(found())
    assert out.count('data-refs=') == 1
    assert visible_text(out).count("as many as 1,500") == 1
    assert re.search(r'data-ref="1">1,500</mark><sup class="qa-mark-num">\[1\]</sup>', out)
    assert re.search(r'data-ref="2">12,000</mark><sup class="qa-mark-num">\[2\]</sup>', out)


def test_overlapping_passages_of_one_article_are_merged_into_one_entry():
    first, second = PASSAGE[:120], PASSAGE[60:]
    answer = found(citations=(cite("1,500", passage=first, offset=1000),),
                   alternatives=(Candidate("12,000", 0.4, (cite("12,000", passage=second, offset=1060),)),))
    out = sources_html(answer)
    assert out.count('data-refs=') == 1
    assert PASSAGE in visible_text(out).replace("[1]", "").replace("[2]", "")


def test_a_merged_entry_names_every_paragraph_its_answers_are_in():
    # A new user's case: the heading said "paragraph 2" of a passage whose other answer the reply
    # cited in paragraph 3.
    from dataclasses import replace

    later = replace(cite("12,000"), paragraph=3)
    out = visible_text(sources_html(found(alternatives=(Candidate("12,000", 0.4, (later,)),))))
    assert f"{TITLE}, paragraphs 2 and 3" in out
    assert f"{TITLE}, paragraph 2" in visible_text(sources_html(found(alternatives=())))


def test_passages_of_other_articles_or_far_apart_stay_separate_entries():
    answer = found(citations=(cite("1,500"), cite("1,500", offset=5000)), alternatives=())
    assert sources_html(answer).count('data-refs=') == 2


def test_reply_citation_marks_link_to_their_source_entry():
    from qa.render import answer_key

    key = answer_key(found())
    out = reply_html(found())
    assert f'<a class="qa-ref" href="#qa-source-{key}-1" data-ref="1">[1]</a>' in out
    panel = sources_html(found())
    assert f'id="qa-source-{key}-1"' in panel and f'id="qa-source-{key}-2"' in panel
    assert f'data-answer="{key}"' in panel


def test_an_earlier_replys_marks_do_not_point_at_the_latest_answers_sources():
    from dataclasses import replace

    from qa.render import answer_key

    earlier, latest = found(), replace(found(), question="And how many shells?")
    assert answer_key(earlier) != answer_key(latest)
    assert f"#qa-source-{answer_key(earlier)}-1" in reply_html(earlier)
    assert f'data-answer="{answer_key(latest)}"' in sources_html(latest)


def test_not_found_lists_each_closest_passage_once_with_its_paragraph():
    # Issue 15: the same title three times, with similarity scores and no paragraph numbers.
    p = RetrievedPassage("nk", TITLE, "nk-2", 1000, 1000 + len(PASSAGE), PASSAGE, 0.41, paragraph=4)
    overlapping = RetrievedPassage("nk", TITLE, "nk-3", 1100, 1100 + len(PASSAGE), PASSAGE, 0.40, paragraph=5)
    other = RetrievedPassage("nk", TITLE, "nk-9", 9000, 9000 + len(PASSAGE), PASSAGE, 0.30, paragraph=12)
    answer = Answer(question="How many tanks?", query="How many tanks?", answer=None, found=False,
                    score=0.1, passages=(p, overlapping, other))
    text = visible_text(reply_html(answer))
    assert f"{TITLE}, paragraph 4" in text and f"{TITLE}, paragraph 12" in text
    assert "paragraph 5" not in text and "similarity" not in text
    assert visible_text(sources_html(answer)).count(PASSAGE) == 2
