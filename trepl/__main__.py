"""`python -m trepl` is `th`."""

import sys

from trepl.cli import main

sys.exit(main())
