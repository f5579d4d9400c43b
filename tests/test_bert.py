"""qa.bert: BERT checkpoints run with torch alone must give what transformers gives, span for
span and vector for vector, and a cold `qa ask` must then not import transformers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa import bert
from qa.embedding import Embedder, MeanPoolingEncoder, resolve_model
from qa.errors import ModelProblem
from qa.reader import Reader
from tests.conftest import CARD_QUESTION, ROOT, SAMPLE_ARTICLE, TRAINED_READER

QUESTIONS = [
    CARD_QUESTION,
    "How many North Korean troops have already arrived in Russia?",
    "Who said the troops were being trained?",
    "When did the first group arrive?",
    "What is the capital of France?",
]


def _contexts() -> list[str]:
    text = SAMPLE_ARTICLE.read_text(encoding="utf-8")
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    # The whole article (many overlapping windows), single paragraphs (one short window each,
    # padded in a batch with long ones) and a one-word context.
    return [text, *paragraphs[:6], "Pyongyang"]


def _spans(output, n: int = 20):
    return [(s.context_index, s.start, s.end, s.text) for s in output.spans[:n]]


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_the_shipped_reader_reads_exactly_as_with_transformers(precision):
    contexts = _contexts()
    ours = Reader(str(TRAINED_READER), precision=precision, batch_size=3)
    reference = Reader(str(TRAINED_READER), precision=precision, batch_size=3, backend="transformers")
    for question in QUESTIONS:
        a, b = ours.read(question, contexts), reference.read(question, contexts)
        assert _spans(a) == _spans(b), question
        assert np.allclose([s.score for s in a.spans[:20]], [s.score for s in b.spans[:20]], atol=1e-3)
        assert np.allclose(a.null_scores, b.null_scores, atol=1e-3)
    assert isinstance(ours._model, bert.BertForQuestionAnswering)
    assert not isinstance(reference._model, bert.BertForQuestionAnswering)
    assert ours.question_budget == reference.question_budget
    assert ours.question_tokens(QUESTIONS[1]) == reference.question_tokens(QUESTIONS[1])


def test_a_random_bert_reads_as_with_transformers_in_long_windows(tiny_reader):
    """Random weights spread the scores, so a wrong weight mapping cannot hide behind a trained
    model's confident peaks; a 128-token window with stride 32 cuts the article many times."""
    contexts = _contexts()
    ours = Reader(str(tiny_reader), max_length=128, stride=32, precision="fp32")
    reference = Reader(str(tiny_reader), max_length=128, stride=32, precision="fp32", backend="transformers")
    a, b = ours.read(QUESTIONS[0], contexts, top_n=50), reference.read(QUESTIONS[0], contexts, top_n=50)
    assert _spans(a, 200) == _spans(b, 200)
    assert np.allclose([s.score for s in a.spans], [s.score for s in b.spans], atol=1e-4)


def test_the_embedder_gives_the_vectors_and_word_pieces_of_transformers():
    source = resolve_model("")[1]
    ours = MeanPoolingEncoder(Path(source))
    reference = MeanPoolingEncoder(Path(source), backend="transformers")
    assert isinstance(ours.model, bert.BertModel) and not isinstance(reference.model, bert.BertModel)
    texts = [SAMPLE_ARTICLE.read_text(encoding="utf-8"), "x", "", "北朝鲜向俄罗斯运送了多少集装箱？", *QUESTIONS]
    assert np.allclose(ours.encode(texts, batch_size=4), reference.encode(texts, batch_size=4), atol=1e-5)

    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(source)
    embedder = Embedder()
    for text in texts:
        expected = hf(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)["offset_mapping"]
        assert embedder.token_spans(text) == [tuple(o) for o in expected]


def test_only_plain_bert_checkpoints_take_the_torch_path(tmp_path, tiny_reader):
    assert bert.supports(TRAINED_READER, "question_answering")
    assert bert.supports(resolve_model("")[1], "encoder")
    assert not bert.supports(resolve_model("")[1], "question_answering")  # a BertModel has no QA head
    for change in ({"model_type": "roberta"}, {"hidden_act": "gelu_new"},
                   {"position_embedding_type": "relative_key"}, {"is_decoder": True}):
        folder = tmp_path / f"variant-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(tiny_reader, folder)
        config = json.loads((folder / "config.json").read_text())
        (folder / "config.json").write_text(json.dumps(config | change))
        assert not bert.supports(folder, "question_answering"), change
    assert not bert.supports(tmp_path / "missing", "encoder")


def test_a_checkpoint_missing_a_weight_is_a_clear_model_problem(tmp_path, tiny_reader):
    from safetensors.numpy import load_file, save_file

    folder = tmp_path / "broken"
    shutil.copytree(tiny_reader, folder)
    weights = load_file(folder / "model.safetensors")
    del weights["bert.encoder.layer.1.output.dense.weight"]
    save_file(weights, folder / "model.safetensors")
    with pytest.raises(ModelProblem, match="encoder.layer.1.output.dense.weight"):
        Reader(str(folder)).warm_up()


def test_int8_still_runs_through_transformers():
    reader = Reader(str(TRAINED_READER), precision="int8")
    out = reader.read(CARD_QUESTION, [SAMPLE_ARTICLE.read_text(encoding="utf-8")])
    assert not isinstance(reader._model, bert.BertForQuestionAnswering)
    assert "13,000" in out.spans[0].text


def test_a_cold_qa_ask_imports_neither_transformers_nor_sentence_transformers(tmp_path):
    (tmp_path / "corpus").mkdir()
    shutil.copy(SAMPLE_ARTICLE, tmp_path / "corpus")
    code = ("import sys, qa.cli; code = qa.cli.main(sys.argv[1:]); "
            "print('IMPORTED:', sorted(m for m in ('transformers', 'sentence_transformers') if m in sys.modules))")
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code, "ask", CARD_QUESTION, "--corpus", str(tmp_path / "corpus"),
                          "--index", str(tmp_path / "index")], capture_output=True, text=True, env=env,
                         timeout=600, check=True).stdout
    assert "13,000" in out
    assert out.rstrip().endswith("IMPORTED: []")
