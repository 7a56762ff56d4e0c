"""A copy of streamed text that keeps its head and tail only, so memory stays flat.

What a cell prints, or a `$ cmd` writes, is shown as it comes; the copy kept afterwards (in
ExecResult.stdout, or `_LAST` for a shell command) holds the first `head` and the last `tail`
characters and counts what lay between: a script that prints gigabytes costs what one printing a
page does (`th` once kept 788 MB for a script that printed 790 MB).
"""

from __future__ import annotations


class BoundedText:
    """Append-only text that keeps at most `head + tail` characters (amortised O(1) a character).

    Args:
        head: characters kept from the start.
        tail: characters kept from the end.
    """

    def __init__(self, head: int, tail: int) -> None:
        self.head = head
        self.tail = tail
        self.total = 0  # characters added, kept or not
        self._head: list[str] = []
        self._head_len = 0
        self._tail: list[str] = []
        self._tail_len = 0

    def add(self, text: str) -> None:
        size = len(text)
        self.total += size
        start = 0
        if self._head_len < self.head:
            start = self.head - self._head_len
            self._head.append(text[:start])
            self._head_len += min(start, size)
            if size <= start:
                return
        if size - start >= self.tail:  # one big write: keep its end, copy nothing else
            self._tail = [text[size - self.tail :]] if self.tail else []
            self._tail_len = self.tail
            return
        self._tail.append(text[start:] if start else text)
        self._tail_len += size - start
        if self._tail_len >= 2 * self.tail:  # compact now and then
            last = "".join(self._tail)[-self.tail :]
            self._tail = [last]
            self._tail_len = len(last)

    def value(self) -> str:
        """All the text, or its head, a note of how much was left out, and its tail."""
        head = "".join(self._head)
        if self.total == self._head_len:
            return head
        tail = "".join(self._tail)[-self.tail :] if self.tail else ""
        left_out = self.total - self._head_len - len(tail)
        if not left_out:
            return head + tail
        return f"{head}\n[... {left_out:,} characters not kept ...]\n{tail}"
