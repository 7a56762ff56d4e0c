"""Start `th` and the `itorch` kernel under glibc's huge-page tunable (one re-exec at launch).

XLA's CPU runtime allocates a compiled program's temporaries afresh at every execution: about
100 MB for ResNet-18's inference at batch 8, more for its training step. glibc serves blocks
that large with ``mmap`` and hands them back with ``munmap``, so every step faults its
temporaries in again, 4 KB at a time, each page zeroed by the kernel: 65,000 page faults and
200-240 ms of system time per ResNet-18 training step at 224x224. ``GLIBC_TUNABLES=
glibc.malloc.hugetlb=1`` (glibc 2.35+) backs those blocks with transparent huge pages (where
the kernel allows them: ``madvise`` or ``always`` in
/sys/kernel/mm/transparent_hugepage/enabled), which cuts the faults about a hundredfold
(``python bench/bench_allocator.py``: that training step in 0.82 to 0.92 of the time, the
inference pass in 0.88).

glibc reads its tunables once, when a process starts, so the launchers call `ensure()` first
thing: it executes the same command again with the tunable added (one more interpreter
start-up). It does nothing unless the C library is glibc 2.35 or later, when
``GLIBC_TUNABLES`` already sets ``glibc.malloc.hugetlb`` (the user's choice stands), or with
``TREPL_HUGEPAGES=0``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

TUNABLE = "glibc.malloc.hugetlb"
SETTING = f"{TUNABLE}=1"
OPT_OUT = "TREPL_HUGEPAGES"
# Set in the restarted process, so it never restarts again (say, if a setuid interpreter's
# glibc dropped GLIBC_TUNABLES from its environment).
RESTARTED = "TREPL_HUGEPAGES_RESTARTED"


def glibc_version() -> tuple[int, int] | None:
    """This process's glibc version, (2, 36); None off Linux or on another C library."""
    try:
        name, version = os.confstr("CS_GNU_LIBC_VERSION").split()  # "glibc 2.36"
        major, minor = (int(part) for part in version.split(".")[:2])
    except (AttributeError, ValueError, OSError):
        return None
    return (major, minor) if name == "glibc" else None


def wanted(environ: Mapping[str, str], glibc: tuple[int, int] | None) -> bool:
    """Whether to start again with the tunable, given the environment and `glibc_version`."""
    if glibc is None or glibc < (2, 35) or environ.get(OPT_OUT, "1") == "0":
        return False
    if RESTARTED in environ:
        return False
    return TUNABLE not in environ.get("GLIBC_TUNABLES", "")


def tunables_with_hugepages(current: str) -> str:
    """``GLIBC_TUNABLES`` with the huge-page setting added (the user's own ones kept)."""
    return ":".join(part for part in (current, SETTING) if part)


def ensure() -> None:
    """Re-execute this process's command with the tunable set, unless `wanted` says not to.

    Call it before anything else happens in an entry point: the process image is replaced,
    so nothing done before the call survives (the PID, open files and arguments do).
    """
    argv = getattr(sys, "orig_argv", None)
    if not argv or not sys.executable or not wanted(os.environ, glibc_version()):
        return
    env = dict(os.environ)
    env["GLIBC_TUNABLES"] = tunables_with_hugepages(env.get("GLIBC_TUNABLES", ""))
    env[RESTARTED] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, [sys.executable, *argv[1:]], env)
    except OSError:
        return  # could not start again: carry on without the tunable
