"""`$ cmd`: run a shell command, stream its output as it comes, return the text and the status."""

from __future__ import annotations

import codecs
import os
import subprocess
from collections.abc import Callable

from trepl.boundedtext import BoundedText

# What `$ cmd` keeps of its output (for `_LAST`): the first 16 Mi characters and the last 1 Mi.
KEEP_HEAD = 16 * 2**20
KEEP_TAIL = 2**20

# TREPL's aliases (torch/trepl init.lua), without colour flags: the output is also stored as text.
ALIASES: dict[str, str] = {
    "ls": "ls -F",
    "ll": "ls -lhF",
    "la": "ls -ahF",
    "lla": "ls -lahF",
}


def expand_aliases(command: str) -> str:
    """Replace a leading `ls`/`ll`/`la`/`lla` word by its TREPL alias."""
    head, _, rest = command.strip().partition(" ")
    if head in ALIASES:
        return f"{ALIASES[head]} {rest}".strip()
    return command.strip()


def run_shell(command: str, on_output: Callable[[str], None] | None = None) -> tuple[str, int]:
    """Run `command` with /bin/sh; call `on_output` with each chunk of output as it arrives.

    stdout and stderr are merged, as on a terminal. Returns (the output, exit status); output
    beyond KEEP_HEAD + KEEP_TAIL characters is shown as it comes but kept only in part.
    Ctrl-C stops the command (it also gets the terminal's SIGINT) and is re-raised.

    Raises:
        ValueError: if the command is empty.
    """
    if not command.strip():
        raise ValueError("$: expected a shell command after '$', e.g. '$ ls', got nothing")
    proc = subprocess.Popen(
        ["/bin/sh", "-c", expand_aliases(command)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    kept = BoundedText(KEEP_HEAD, KEEP_TAIL)
    try:
        while True:
            data = os.read(proc.stdout.fileno(), 65536)
            text = decoder.decode(data, final=not data)
            if text:
                kept.add(text)
                if on_output is not None:
                    on_output(text)
            if not data:
                break
        status = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        proc.stdout.close()
    return kept.value(), status
