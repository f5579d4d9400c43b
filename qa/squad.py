"""SQuAD files as plain examples, shared by reader training and evaluation.

Both SQuAD v1.1 and v2.0 files use the same layout; v2.0 adds ``is_impossible``. Keeping one
loader means the trainer and ``qa eval reader`` can never disagree about what a question is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SquadExample:
    """One question asked of one paragraph."""

    id: str
    title: str
    question: str
    context: str
    answers: tuple[str, ...] = ()
    answer_starts: tuple[int, ...] = ()
    is_impossible: bool = False
    paragraph_index: int = 0  # index of the paragraph within its article
    extra: dict = field(default_factory=dict, compare=False, hash=False)


def load_squad(path: str | Path) -> list[SquadExample]:
    """Read a SQuAD v1.1/v2.0 JSON file.

    Raises:
        FileNotFoundError: with a hint about ``../shared/data`` when the file is missing.
        ValueError: when the file is not in SQuAD layout.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist. SQuAD files live in ../shared/data/squad/ "
            "(see ../shared/data/README.md); they are not shipped with qa."
        )
    with path.open(encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict) or "data" not in data:
        raise ValueError(f"{path} is not a SQuAD file: it has no top-level 'data' list.")
    examples: list[SquadExample] = []
    for article in data["data"]:
        title = article.get("title", "")
        for p_index, paragraph in enumerate(article["paragraphs"]):
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                answers = qa.get("answers") or []
                extra = {k: qa[k] for k in ("choices", "source", "url") if k in qa}
                examples.append(
                    SquadExample(
                        id=str(qa["id"]),
                        title=title,
                        question=qa["question"].strip(),
                        context=context,
                        answers=tuple(a["text"] for a in answers),
                        answer_starts=tuple(int(a.get("answer_start", -1)) for a in answers),
                        is_impossible=bool(qa.get("is_impossible", False)) or not answers,
                        paragraph_index=p_index,
                        extra=extra,
                    )
                )
    return examples
