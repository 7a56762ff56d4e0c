"""`python -m kernel ARGS` is `itorch ARGS` (kernel.json runs `python -m kernel kernel -f FILE`)."""

import sys

from kernel.cli import console_main

if __name__ == "__main__":
    sys.exit(console_main())
