"""`python -m trepl` is `th`."""

import sys

from trepl.cli import console_main

sys.exit(console_main())
