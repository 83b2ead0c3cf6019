"""``python -m tinyml train`` is ``tinyml train``."""

import sys

from .cli import main

sys.exit(main())
