"""`python -m kernel ARGS` is `itorch ARGS` (kernel.json runs `python -m kernel kernel -f FILE`)."""

import sys

from kernel.cli import main

if __name__ == "__main__":
    sys.exit(main())
