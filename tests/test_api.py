"""The JSON HTTP API of `qa serve` (qa.api), with a real HTTP client against a real server
process (the trained reader, the real index), beside the chat page on the same port."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from tests.conftest import CARD_QUESTION, ROOT, SAMPLE_ARTICLE, running_app

START_TIMEOUT_S = 300  # import gradio, load both models, index the sample article
ASK_TIMEOUT_S = 300  # the first question waits for the start-up index build


@pytest.fixture(scope="module")
def server(tmp_path_factory, trained_reader):
    """``qa serve`` over a copy of the sample corpus; yields (client, corpus, index, log file)."""
    work = tmp_path_factory.mktemp("serve")
    corpus = work / "corpus"
    corpus.mkdir()
    (corpus / SAMPLE_ARTICLE.name).write_bytes(SAMPLE_ARTICLE.read_bytes())
    with running_app(corpus, work / "index", trained_reader, work, START_TIMEOUT_S,
                     command=("-m", "qa.cli", "serve")) as (url, log):
        with httpx.Client(base_url=url, timeout=ASK_TIMEOUT_S) as client:
            client.post("/api/ask", json={"question": CARD_QUESTION})  # waits for the index
            yield client, corpus, work / "index", log


def test_health_says_ready_once_the_index_is_built(server):
    client, _, _, _ = server
    r = client.get("/api/health")
    assert r.status_code == 200 and r.json()["status"] == "ready" and "Index:" in r.json()["index"]


def test_ask_returns_the_json_of_qa_ask_json(server, trained_reader):
    client, corpus, index, _ = server
    r = client.post("/api/ask", json={"question": CARD_QUESTION})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    answer = r.json()
    assert answer["answer"] == "13,000" and answer["found"] is True
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    cli = subprocess.run([sys.executable, "-m", "qa.cli", "ask", "--json", CARD_QUESTION, "--corpus",
                          str(corpus), "--index", str(index), "--reader", str(trained_reader)],
                         capture_output=True, text=True, env=env, timeout=600, check=True)
    expected = json.loads(cli.stdout)
    assert set(answer["timings_ms"]) == set(expected["timings_ms"])
    assert {k: v for k, v in answer.items() if k != "timings_ms"} == \
        {k: v for k, v in expected.items() if k != "timings_ms"}


def test_a_follow_up_is_resolved_from_the_history_sent_back(server):
    client, _, _, _ = server
    first = client.post("/api/ask", json={"question": CARD_QUESTION}).json()
    r = client.post("/api/ask", json={"question": "And how many troops?", "history": [first]})
    assert r.status_code == 200
    follow = r.json()
    assert follow["question"] == "And how many troops?"
    assert follow["query"] != follow["question"] and "North Korea" in follow["query"]


def test_a_history_item_that_is_not_an_answer_is_a_422_with_a_message(server):
    client, _, _, _ = server
    r = client.post("/api/ask", json={"question": "And when?", "history": [{"question": "x"}]})
    assert r.status_code == 422 and "history" in r.json()["detail"]


@pytest.mark.parametrize(("question", "says"), [
    ("   ", "The question is empty"),
    ("why " * 400, "the limit is 1000"),
    ("word " * 150, "tokens"),
])
def test_an_unusable_question_is_a_400_with_the_chats_message(server, question, says):
    client, _, _, _ = server
    r = client.post("/api/ask", json={"question": question})
    assert r.status_code == 400 and says in r.json()["detail"]


def test_a_body_without_a_question_is_a_422_in_json(server):
    client, _, _, _ = server
    r = client.post("/api/ask", json={"query": CARD_QUESTION})
    # One message, as every other error has (a new user found FastAPI's list here).
    assert r.status_code == 422 and isinstance(r.json()["detail"], str)
    assert "question" in r.json()["detail"] and "Field required" in r.json()["detail"]


def test_a_body_that_is_not_json_is_a_422_saying_so(server):
    client, _, _, _ = server
    r = client.post("/api/ask", content=b'{"question": How many?}', headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"].startswith("The request body is not valid JSON") and "character 13" in r.json()["detail"]


def test_a_question_can_be_scoped_like_on_the_command_line(server):
    client, _, _, _ = server
    scoped = client.post("/api/ask", json={"question": CARD_QUESTION, "since": "2030-01-01"}).json()
    assert scoped["scope"] and "2030-01-01" in scoped["scope"] and not scoped["found"]
    bad = client.post("/api/ask", json={"question": CARD_QUESTION, "since": "2019-13-01"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["detail"]


def test_articles_lists_the_indexed_articles(server):
    client, _, _, _ = server
    r = client.get("/api/articles")
    assert r.status_code == 200
    ids = [a["id"] for a in r.json()]
    assert SAMPLE_ARTICLE.name in ids
    assert {"id", "title", "path", "url", "date", "source", "chunks"} <= set(r.json()[0])


def test_an_uploaded_article_is_answered_from_then_removed(server):
    client, corpus, _, _ = server
    text = b"Flood in Valdoria\n\nThe river Esk flooded 412 houses in Valdoria on Monday, the mayor said."
    r = client.post("/api/articles", files={"file": ("valdoria-flood.txt", text, "text/plain")})
    assert r.status_code == 200 and r.json()["added"] == ["valdoria-flood.txt"] and "1 added" in r.json()["summary"]
    assert "valdoria-flood.txt" in [a["id"] for a in client.get("/api/articles").json()]
    answer = client.post("/api/ask", json={"question": "How many houses did the Esk flood in Valdoria?"}).json()
    assert answer["answer"] == "412"
    r = client.delete("/api/articles/valdoria-flood.txt")
    assert r.status_code == 200 and r.json()["removed"] == "valdoria-flood.txt"
    assert "valdoria-flood.txt" not in [a["id"] for a in client.get("/api/articles").json()]
    assert (corpus / ".removed" / "valdoria-flood.txt").exists()


def test_an_upload_of_an_unsupported_type_is_a_400(server):
    client, corpus, _, _ = server
    r = client.post("/api/articles", files={"file": ("notes.exe", b"MZ\x90\x00", "application/octet-stream")})
    assert r.status_code == 400 and "unsupported type" in r.json()["detail"]
    assert not (corpus / "notes.exe").exists()


def test_an_upload_over_the_size_limit_is_a_413(server):
    client, corpus, _, _ = server
    big = b"Big\n\n" + b"word " * (5 * 2**20 // 5 + 1)
    r = client.post("/api/articles", files={"file": ("big.txt", big, "text/plain")})
    assert r.status_code == 413 and "5 MiB" in r.json()["detail"]
    assert not (corpus / "big.txt").exists()


def test_removing_an_unknown_article_is_a_404(server):
    client, _, _, _ = server
    r = client.delete("/api/articles/no-such-article.txt")
    assert r.status_code == 404 and "no-such-article.txt" in r.json()["detail"]


def test_the_api_is_described_at_docs(server):
    client, _, _, _ = server
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/ask", "/api/articles", "/api/articles/{article_id}", "/api/health"} <= set(paths)


def test_the_chat_page_is_served_beside_the_api(server):
    client, _, _, _ = server
    r = client.get("/")
    assert r.status_code == 200 and "gradio" in r.text.lower()


def test_the_server_says_where_it_serves_and_names_the_share_option(server):
    client, _, _, log = server
    text = log.read_text()
    assert f"Serving the chat on {str(client.base_url).rstrip('/')}/" in text and "--share for a public link" in text
    assert "share=True" not in text  # gradio's hint names its own parameter, not qa's option
    assert "Loading weights" not in text
