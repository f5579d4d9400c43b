"""The benchmark scripts say clearly when the shared data is missing (the repository has none)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ["reader_squad.py", "open_domain.py", "off_topic.py", "retrieval_beir.py", "speed_scale.py", "claims.py",
           "lexical_update.py", "news_answerability.py",
           "html_extraction.py", "scale.py"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_says_where_the_missing_data_should_be(script, tmp_path):
    env = os.environ | {"QA_DATA_DIR": str(tmp_path / "no-data"), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script)], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "benchmark data missing" in out.stderr
    assert "shared/data" in out.stderr or "QA_DATA_DIR" in out.stderr
    assert not list(tmp_path.glob("**/*.json"))  # nothing written
