#!/usr/bin/env python
"""Train qa's reader: see `qa.training` (python scripts/train_reader.py --help)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.training import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
