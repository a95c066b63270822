"""``python -m mlpcore``: the same as the ``mlpcore`` command (useful where the venv's bin/ is not on PATH)."""

import sys

from mlpcore.cli import main

sys.exit(main())
