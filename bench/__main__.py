"""``python -m bench``: run the suite (bench/run.py)."""

from bench.run import main

main()
