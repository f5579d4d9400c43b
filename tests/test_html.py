"""HTML pages: what of a page becomes article text, and which date it is given.

Every page here is small and hand-written; the settings these tests pin down were chosen on real
pages by benchmarks/html_extraction.py.
"""

from __future__ import annotations

import pytest

from qa.corpus import clean_text, scan_corpus

P1 = ("Officials from both countries met for two days of talks on trade, energy and security, the "
      "ministry said on Thursday evening in a statement.")
P2 = ("The talks ended with a joint declaration on grain exports and a plan for a new rail link between "
      "the two capitals by 2030.")
P3 = ("Analysts said the agreement was more symbolic than practical, since sanctions still limit most "
      "trade between the two countries.")


def page(body: str, head: str = "<title>Summit ends</title>") -> str:
    return (f"<html><head>{head}</head><body><header><nav><a href='/'>Home</a> <a href='/world'>World</a>"
            f"</nav></header><main>{body}</main><footer>Contact us</footer></body></html>")


def read_page(tmp_path, html: str, name: str = "page.html"):
    (tmp_path / name).write_text(html, encoding="utf-8")
    scan = scan_corpus(tmp_path)
    return scan


# Case 12: a story's first paragraphs in a "teaser" block are its lead, not a link to elsewhere.

def test_lead_paragraphs_in_a_teaser_block_are_kept(tmp_path):
    lead1 = ("The city council approved a new budget of 4.2 million euros for the harbour on Tuesday "
             "evening after a long debate.")
    lead2 = ("Mayor Anna Berg said the money would pay for new quays, a ferry terminal and the repair of "
             "the old lighthouse.")
    html = page(f"""<article><h1>Harbour budget approved</h1>
        <div class="teaser-content"><p>{lead1}</p><p>{lead2}</p></div>
        <p>{P1}</p><p>{P2}</p><p>{P3}</p></article>""", "<title>Harbour budget approved</title>")
    [article] = read_page(tmp_path, html).articles
    assert article.text.startswith(lead1 + "\n\n" + lead2 + "\n\n")
    assert P3 in article.text


def test_a_teaser_that_only_links_to_other_stories_is_still_dropped(tmp_path):
    html = page(f"""<article><h1>Summit ends</h1><p>{P1}</p><p>{P2}</p><p>{P3}</p></article>
        <div class="teaser"><a href="/other">Flooding closes the coastal road for a third day</a></div>""")
    [article] = read_page(tmp_path, html).articles
    assert "Flooding" not in article.text and P3 in article.text


# Case 13: no date rather than a wrong one.

def test_a_date_in_a_script_is_not_the_publication_date(tmp_path):
    cookie = ('<script>function acceptCookies() { document.cookie = '
              '"consent=yes; expires=Thu, 18 Dec 2025 12:00:00 UTC; path=/"; }</script>')
    html = page(f"<article><h1>Summit ends</h1><p>{P1}</p><p>{P2}</p><p>{P3}</p></article>",
                "<title>Summit ends</title>" + cookie)
    [article] = read_page(tmp_path, html).articles
    assert article.date is None


@pytest.mark.parametrize("footer", ["© 2023 Example News", "The plan was first proposed on 12 May 2019."])
def test_a_year_or_date_in_the_text_is_not_the_publication_date(tmp_path, footer):
    html = page(f"<article><h1>Summit ends</h1><p>{P1}</p><p>{P2}</p><p>{P3}</p><p>{footer}</p></article>")
    [article] = read_page(tmp_path, html).articles
    assert article.date is None


def test_a_publication_date_in_the_markup_is_read(tmp_path):
    meta = '<meta property="article:published_time" content="2024-06-20T08:00:00Z">'
    html = page(f"<article><h1>Summit ends</h1><p>{P1}</p><p>{P2}</p><p>{P3}</p></article>",
                "<title>Summit ends</title>" + meta)
    [article] = read_page(tmp_path, html).articles
    assert article.date == "2024-06-20"


# Case 14: a caption states facts; only its credit is furniture.

def test_a_figure_caption_is_kept_without_its_credit(tmp_path):
    caption = "Vladimir Putin and Kim Jong Un held a meeting in Pyongyang on June 19, 2024."
    html = page(f"""<article><h1>Summit ends</h1><p>{P1}</p>
        <figure><img src="a.jpg" alt="Vladimir Putin and Kim Jong Un">
        <figcaption>{caption} (Image Credit: Kremlin)</figcaption></figure>
        <p>{P2}</p><p>{P3}</p></article>""")
    [article] = read_page(tmp_path, html).articles
    assert caption in article.text
    assert "Credit" not in article.text and "Kremlin" not in article.text


@pytest.mark.parametrize(
    "line, kept",
    [
        ("Kim Jong Un held a meeting in Pyongyang on June 19, 2024. (Image Credit: KCNA)",
         "Kim Jong Un held a meeting in Pyongyang on June 19, 2024."),
        ("Delegates arrive at the airport in Seoul. Photo: Reuters/Kim Hong-Ji",
         "Delegates arrive at the airport in Seoul."),
        ("Protesters gather outside parliament. (Chip Somodevilla/Getty Images)",
         "Protesters gather outside parliament."),
        ("Firefighters at the scene on Monday. Getty Images", "Firefighters at the scene on Monday."),
        ("The new bridge at night. (Photo by Jane Doe/AFP)", "The new bridge at night."),
        ("The new bridge at night. Photograph: Jane Doe/Alamy", "The new bridge at night."),
        ("Getty Images", ""),
        ("Photo: Reuters", ""),
    ],
)
def test_credits_are_cut_from_captions(line, kept):
    assert clean_text(f"First paragraph of the story.\n\n{line}\n\nLast paragraph.") == "\n\n".join(
        p for p in ("First paragraph of the story.", kept, "Last paragraph.") if p)


@pytest.mark.parametrize(
    "sentence",
    ["Getty Images reported higher sales of editorial photos this year.",
     "Photographs of the suspect were released by the police (photo archive requests rose).",
     "The agency, Reuters said, had confirmed the figures. Credit card debt rose 4%."],
)
def test_sentences_that_mention_photos_or_agencies_are_kept(sentence):
    assert clean_text(f"First paragraph.\n\n{sentence}") == f"First paragraph.\n\n{sentence}"


def test_the_alt_text_line_repeating_a_caption_is_dropped_once():
    body = ("First paragraph.\n\nPutin and Kim Jong Un\nPutin and Kim Jong Un held a meeting in Pyongyang. "
            "(Image Credit: Kremlin)\n\nLast paragraph.")
    assert clean_text(body) == ("First paragraph.\n\nPutin and Kim Jong Un held a meeting in Pyongyang."
                                "\n\nLast paragraph.")


# Case 15: a page without article text is skipped, not indexed under a link's words.

def test_a_page_of_a_nav_link_and_images_is_skipped(tmp_path):
    html = '<html><body><a href="/">Home</a><img src="a.jpg"><img src="b.jpg"><img src="c.jpg"></body></html>'
    scan = read_page(tmp_path, html)
    assert scan.articles == []
    [skipped] = scan.skipped
    assert skipped.path == "page.html" and "no article text" in skipped.reason
