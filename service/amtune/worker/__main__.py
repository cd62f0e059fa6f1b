"""``python -m amtune.worker ...``: the same as ``amtune worker ...``."""

from __future__ import annotations

import sys

from amtune.worker.cli import main

if __name__ == "__main__":
    sys.exit(main())
