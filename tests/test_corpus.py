"""Reading articles: formats, boilerplate removal, stable ids, and bad files."""

import json

import pytest

from qa.corpus import decode_text, paragraph_number, scan_corpus
from tests.conftest import SAMPLE_ARTICLE


def test_txt_first_line_is_title(tmp_path):
    (tmp_path / "a.txt").write_text("My title\n\nBody sentence one. Body two.\n")
    [article] = scan_corpus(tmp_path).articles
    assert article.title == "My title"
    assert article.text == "Body sentence one. Body two."
    assert article.id == "a.txt"


def test_sample_article_boilerplate_is_removed():
    [article] = scan_corpus(SAMPLE_ARTICLE.parent).articles
    for junk in ("No Comments on", "Leave a comment", "Related Articles", "Back to Top", "Copyright",
                 "Subscribe to IRIA", "Enter your email", "Image Credit", "IRIA is a research institute"):
        assert junk not in article.text, junk
    assert "as many as 13,000 containers" in article.text
    assert article.text.startswith("South Korean and Ukrainian sources")


def test_image_caption_is_kept_once_without_its_credit_or_alt_text_line():
    [article] = scan_corpus(SAMPLE_ARTICLE.parent).articles
    assert article.text.count("Enlarged Meeting of Tenth Plenary") == 1
    assert ("Kim Jong Un held a meeting in Pyongyang, North Korea June 19, 2024.\n\n"
            in article.text)
    assert "Kremlin" not in article.text and "KCNA" not in article.text


def test_paragraph_numbers_count_blank_line_blocks():
    [article] = scan_corpus(SAMPLE_ARTICLE.parent).articles
    assert paragraph_number(article.text, article.text.index("13,000")) == 10


def test_markdown_title_from_heading(tmp_path):
    (tmp_path / "b.md").write_text("# Heading title\n\nSome *markdown* text here.\n")
    [article] = scan_corpus(tmp_path).articles
    assert article.title == "Heading title"
    assert "markdown" in article.text


def test_html_main_text_is_extracted_without_site_furniture(tmp_path):
    body = " ".join(["The council voted 7 to 2 to approve the new bridge over the river."] * 6)
    html = f"""<html><head><title>Bridge approved</title></head><body>
    <nav><a href="/">Home</a> <a href="/news">News</a></nav>
    <article><h1>Bridge approved</h1><p>{body}</p><p>{body}</p></article>
    <footer>Copyright 2024 Example News. Subscribe to our newsletter!</footer></body></html>"""
    (tmp_path / "c.html").write_text(html)
    [article] = scan_corpus(tmp_path).articles
    assert article.title == "Bridge approved"
    assert "voted 7 to 2" in article.text
    assert "Subscribe" not in article.text and "Home" not in article.text


def test_jsonl_records_get_stable_ids_and_metadata(tmp_path):
    rows = [{"id": "x1", "title": "One", "text": "First story text.", "url": "http://e/1", "date": "2024-10-01",
             "source": "Wire"},
            {"title": "Two", "text": "Second story text."}]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    articles = scan_corpus(tmp_path).articles
    assert [a.id for a in articles] == ["d.jsonl#x1", "d.jsonl#2"]
    assert articles[0].source == "Wire" and articles[0].date == "2024-10-01"
    assert scan_corpus(tmp_path).articles == articles  # same ids on every run


def test_json_single_record(tmp_path):
    (tmp_path / "e.json").write_text(json.dumps({"title": "Solo", "text": "Only story."}))
    [article] = scan_corpus(tmp_path).articles
    assert article.id == "e.json" and article.title == "Solo"


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("bin.txt", bytes(range(256)) * 10, "binary"),
        ("empty.txt", b"   \n", "empty"),
        ("broken.json", b"{not json", "not valid JSON"),
        ("notext.json", b'{"title": "x"}', "no usable records"),
        ("photo.jpg", b"\xff\xd8\xff\xe0", "unsupported file type"),
    ],
)
def test_bad_files_are_skipped_with_a_reason_and_the_rest_is_read(tmp_path, name, data, reason):
    (tmp_path / "good.txt").write_text("Good\n\nA fine article.")
    (tmp_path / name).write_bytes(data)
    scan = scan_corpus(tmp_path)
    assert [a.id for a in scan.articles] == ["good.txt"]
    assert len(scan.skipped) == 1 and scan.skipped[0].path == name
    assert reason in scan.skipped[0].reason


def test_hidden_files_and_removed_folder_are_ignored(tmp_path):
    (tmp_path / "good.txt").write_text("Good\n\nA fine article.")
    (tmp_path / ".removed").mkdir()
    (tmp_path / ".removed" / "old.txt").write_text("Old\n\nGone.")
    scan = scan_corpus(tmp_path)
    assert [a.id for a in scan.articles] == ["good.txt"] and not scan.skipped


def test_windows_1252_text_is_decoded():
    assert decode_text("Caf\u00e9 \u2019quote\u2019".encode("cp1252")) == "Caf\u00e9 \u2019quote\u2019"


@pytest.mark.parametrize(
    "notice",
    ["© 2024 IRIA. All rights reserved.", "Copyright © 2019-2024 The Daily Planet", "(c) 2023 BBC",
     "Copyright 2022 Reuters | All Rights Reserved"],
)
def test_copyright_notices_are_dropped(tmp_path, notice):
    (tmp_path / "a.txt").write_text(f"Title\n\nFirst paragraph of news.\n\nSecond one.\n\n{notice}\n")
    [article] = scan_corpus(tmp_path).articles
    assert article.text == "First paragraph of news.\n\nSecond one."


@pytest.mark.parametrize(
    "body",
    ["© 2019 study finds that zinc shortens colds by two days.",
     "One.\n\nTwo.\n\nCopyright 2021 rulings were overturned by the court in March."],
)
def test_sentences_that_start_like_a_copyright_notice_are_kept(tmp_path, body):
    (tmp_path / "a.txt").write_text(f"Title\n\n{body}\n")
    [article] = scan_corpus(tmp_path).articles
    assert article.text == body


def test_notice_pattern_does_not_backtrack_exponentially():
    # The first version of the notice pattern took seconds at 25 repeats and would hang here.
    from qa.corpus import clean_text

    line = "© 2024 " + "A.-" * 40 + " x"
    assert clean_text(f"Body.\n\n{line}") == f"Body.\n\n{line}"


# --- input that must never abort a run or lose text (issue 11) ------------------------------


def test_json_nested_too_deeply_skips_that_file_only(tmp_path):
    (tmp_path / "good.txt").write_text("Good\n\nA fine article.")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "deep.jsonl").write_text(json.dumps({"text": "Kept record."}) + "\n" + "[" * 100_000 + "\n")
    scan = scan_corpus(tmp_path)
    assert sorted(a.id for a in scan.articles) == ["deep.jsonl#1", "good.txt"]
    assert [(s.path, "nested too deeply" in s.reason) for s in scan.skipped] == [("deep.json", True)]


def test_a_record_field_that_is_not_text_is_ignored_not_the_record(tmp_path, caplog):
    nested = "[" * 900 + "]" * 900
    (tmp_path / "b.jsonl").write_text('{"text": "Other body.", "source": "Wire", "title": ' + nested + "}\n")
    [article] = scan_corpus(tmp_path).articles
    assert (article.id, article.title, article.source) == ("b.jsonl#1", "Other body.", "Wire")
    assert "'title' is not text" in caplog.text


def test_lone_surrogates_and_control_characters_are_cleaned_with_a_warning(tmp_path, caplog):
    rec = {"id": "r1", "title": "Half \ud83d emoji", "text": "Price \ud83d rose\x00 by 5%.\x1b[31m Red.\x07",
           "source": "Wire\x00"}
    (tmp_path / "a.jsonl").write_text(json.dumps(rec) + "\n")  # json.dumps writes \\ud83d escapes
    [article] = scan_corpus(tmp_path).articles
    assert article.title == "Half \ufffd emoji"
    assert article.text == "Price \ufffd rose by 5%.[31m Red."
    assert article.source == "Wire"
    article.text.encode("utf-8")  # strict: storable and sendable anywhere
    assert "a.jsonl" in caplog.text and "r1" in caplog.text and "surrogate" in caplog.text


def test_nul_and_escape_characters_in_a_text_file_are_removed_not_the_file(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"Title\n\nThe vote\x00 passed.\x1b]0;owned\x07 Done.\n")
    [article] = scan_corpus(tmp_path).articles
    assert article.text == "The vote passed.]0;owned Done."


def test_a_file_name_that_is_not_utf8_is_read_under_a_readable_id(tmp_path):
    import os

    with open(os.path.join(os.fsencode(tmp_path), b"caf\xe9.txt"), "wb") as f:
        f.write(b"Cafe\n\nThe cafe opened in 1990.")
    [article] = scan_corpus(tmp_path).articles
    assert article.id == "caf\u00e9.txt" and article.path == "caf\u00e9.txt"
    article.id.encode("utf-8")


def test_duplicate_record_ids_keep_every_record_under_a_unique_id(tmp_path, caplog):
    ids = ["a", "b", "a", "c", "d"]
    (tmp_path / "d.jsonl").write_text(
        "".join(json.dumps({"id": i, "text": f"Story {n}."}) + "\n" for n, i in enumerate(ids, 1)))
    scan = scan_corpus(tmp_path)
    assert [a.text for a in scan.articles] == [f"Story {n}." for n in range(1, 6)]
    assert len({a.id for a in scan.articles}) == 5 and not scan.skipped
    assert "d.jsonl#a" in [a.id for a in scan.articles]
    assert "line 3" in caplog.text and "'a'" in caplog.text


def test_utf16_text_with_a_bom_is_decoded(tmp_path):
    (tmp_path / "u.txt").write_bytes("Titre\n\nLe caf\u00e9 a ouvert en 1990.".encode("utf-16"))
    (tmp_path / "b.md").write_bytes("# Big\n\nBig-endian text too.".encode("utf-16-be").join([b"\xfe\xff", b""]))
    scan = scan_corpus(tmp_path)
    assert {a.id: a.text for a in scan.articles} == {"u.txt": "Le caf\u00e9 a ouvert en 1990.",
                                                   "b.md": "Big-endian text too."}


def test_utf8_with_one_bad_byte_stays_utf8(tmp_path):
    (tmp_path / "a.txt").write_bytes("T\n\nZ\u00fcrich und K\u00f6ln \xff.".encode("utf-8").replace(b"\xc3\xbf", b"\xff"))
    [article] = scan_corpus(tmp_path).articles
    assert article.text == "Z\u00fcrich und K\u00f6ln \ufffd."


def test_a_one_line_text_file_is_its_own_title_and_text(tmp_path):
    (tmp_path / "one.txt").write_text("The council approved the bridge on Monday.\n")
    [article] = scan_corpus(tmp_path).articles
    assert article.title == article.text == "The council approved the bridge on Monday."


def test_markdown_bylines_lose_their_asterisks_and_give_the_date(tmp_path):
    (tmp_path / "m.md").write_text(
        "# Bridge approved\n\n*By Jane Doe* | **June 3, 2024**\n\n"
        "The council voted **7 to 2** for the [new bridge](https://example.com/b).\n")
    [article] = scan_corpus(tmp_path).articles
    assert article.text == "By Jane Doe | June 3, 2024\n\nThe council voted 7 to 2 for the new bridge."
    assert article.date == "2024-06-03"


def test_a_date_inside_a_sentence_is_not_the_publication_date(tmp_path):
    (tmp_path / "m.md").write_text("# Vote\n\nThe council voted on June 3, 2024 to approve the new bridge.\n")
    [article] = scan_corpus(tmp_path).articles
    assert article.date is None


def test_html_markup_in_json_record_text_is_removed(tmp_path):
    rec = {"title": "Bridge", "text": "<p>The council voted <b>7 to 2</b>.</p><p>Work starts in May &amp; "
           "ends in 2026.<br>Costs: $5m.</p><script>track()</script>"}
    (tmp_path / "h.json").write_text(json.dumps(rec))
    [article] = scan_corpus(tmp_path).articles
    assert article.text == "The council voted 7 to 2.\n\nWork starts in May & ends in 2026.\nCosts: $5m."


def test_text_with_angle_brackets_but_no_markup_is_kept(tmp_path):
    (tmp_path / "h.json").write_text(json.dumps({"text": "Inflation a < 3% and b > 2% <- as forecast."}))
    [article] = scan_corpus(tmp_path).articles
    assert article.text == "Inflation a < 3% and b > 2% <- as forecast."


def test_a_hash_in_a_file_name_is_part_of_its_path(tmp_path):
    (tmp_path / "issue#4.txt").write_text("Issue four\n\nThe fourth issue is out.")
    [article] = scan_corpus(tmp_path).articles
    assert article.id == article.path == "issue#4.txt"
