"""`_RESULTS`: the values the session printed, kept within a count and a size in bytes.

TREPL kept every result for ever, so every large array a session printed stayed in memory. Here
the oldest results are dropped once there are more than `max_count` of them or their arrays hold
more than `max_bytes`; the latest result (`_LAST`) is always kept. `setresults(count, nbytes)`
changes the bounds.
"""

from __future__ import annotations

from typing import Any

from trepl.timing import imported

DEFAULT_COUNT = 100
DEFAULT_BYTES = 512 * 2**20  # 512 MiB of array data


def nbytes(value: Any) -> int:
    """Bytes held by the arrays in `value` (an array, or a list/tuple/dict of them).

    0 when the value cannot be measured (its attributes raise: a dead weakref.proxy).
    """
    try:
        return _nbytes(value)
    except Exception:  # noqa: BLE001 - the user's object, not ours
        return 0


def _nbytes(value: Any) -> int:
    if hasattr(value, "nbytes") and hasattr(value, "shape"):
        try:
            return int(value.nbytes)
        except (TypeError, ValueError):
            return 0
    if not isinstance(value, list | tuple | dict):
        return 0
    jax = imported("jax")
    if jax is None:
        items = value.values() if isinstance(value, dict) else value
        return sum(int(getattr(v, "nbytes", 0) or 0) for v in items if hasattr(v, "shape"))
    try:
        leaves = jax.tree_util.tree_leaves(value)
    except Exception:  # noqa: BLE001 - exotic containers are not counted
        return 0
    return sum(int(leaf.nbytes) for leaf in leaves if hasattr(leaf, "nbytes"))


class ResultList(list):
    """A list that forgets its oldest items beyond `max_count` items or `max_bytes` of arrays."""

    def __init__(self, max_count: int = DEFAULT_COUNT, max_bytes: int = DEFAULT_BYTES) -> None:
        super().__init__()
        self.max_count = max_count
        self.max_bytes = max_bytes
        self._sizes: list[int] = []

    def append(self, value: Any) -> None:
        super().append(value)
        self._sizes.append(nbytes(value))
        self.trim()

    @property
    def total_bytes(self) -> int:
        """Bytes held by the arrays of the kept results (as counted when each was stored)."""
        return sum(self._sizes)

    def trim(self) -> None:
        """Drop the oldest results until both bounds hold (always keeping the latest)."""
        if len(self._sizes) != len(self):  # the user edited the list: recount
            self._sizes = [nbytes(v) for v in self]
        excess = max(0, len(self) - self.max_count)
        total = sum(self._sizes)
        while excess < len(self) - 1 and total - sum(self._sizes[:excess]) > self.max_bytes:
            excess += 1
        if excess:
            del self[:excess]
            del self._sizes[:excess]

    def set_limits(self, count: int | None = None, nbytes: int | None = None) -> None:
        """setresults([count], [nbytes]): keep at most `count` results and `nbytes` of arrays."""
        for name, value in (("count", count), ("nbytes", nbytes)):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"setresults: {name} must be a positive int, got {value!r}")
        if count is not None:
            self.max_count = count
        if nbytes is not None:
            self.max_bytes = nbytes
        self.trim()
