"""``python -m fastxent ...``: the ``fastxent`` command (``python -m fastxent warmup``)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
