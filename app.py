"""qa's chat page and HTTP API, as ``make run`` starts it: the same as ``qa serve``.

    python app.py [--corpus DIR] [--index DIR] [--host H] [--port N] [--share]

The code is the package's, in `qa.chat` (installed with qa, run by ``qa serve``).
"""

import sys

from qa.chat import main

if __name__ == "__main__":
    sys.exit(main(prog="app.py"))
