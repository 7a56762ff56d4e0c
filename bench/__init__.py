"""Benchmarks: nets against PyTorch CPU eager and hand-written JAX (see docs/bench.md)."""
