"""trepl.hugepages: when `th` starts itself again under glibc's huge-page tunable, and that it
really does (a real `python -m trepl` process reports the setting it runs under)."""

import os
import subprocess
import sys

import pytest

from trepl import hugepages

NEW_GLIBC = (2, 36)


@pytest.mark.parametrize(
    ("environ", "glibc", "expected"),
    [
        ({}, NEW_GLIBC, True),
        ({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}, NEW_GLIBC, True),
        ({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"}, NEW_GLIBC, False),  # the user's choice
        ({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}, NEW_GLIBC, False),  # already under it
        ({"TREPL_HUGEPAGES": "0"}, NEW_GLIBC, False),
        ({"TREPL_HUGEPAGES": "1"}, NEW_GLIBC, True),
        ({"TREPL_HUGEPAGES_RESTARTED": "1"}, NEW_GLIBC, False),  # never twice
        ({}, (2, 34), False),  # glibc without the tunable
        ({}, None, False),  # not glibc (macOS, musl, Windows)
    ],
)
def test_wanted(environ, glibc, expected):
    assert hugepages.wanted(environ, glibc) is expected


def test_user_tunables_are_kept():
    assert hugepages.tunables_with_hugepages("") == "glibc.malloc.hugetlb=1"
    assert (
        hugepages.tunables_with_hugepages("glibc.malloc.arena_max=2")
        == "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"
    )


def test_glibc_version_reads_this_process():
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""  # "glibc 2.36" on glibc systems
    except (AttributeError, ValueError, OSError):
        libc = ""
    if libc.startswith("glibc "):
        major, minor = libc.split()[1].split(".")[:2]
        assert hugepages.glibc_version() == (int(major), int(minor))
    else:
        assert hugepages.glibc_version() is None


def _th_env(extra: dict[str, str]) -> dict[str, str]:
    ours = ("GLIBC_TUNABLES", hugepages.OPT_OUT, hugepages.RESTARTED)
    env = {k: v for k, v in os.environ.items() if k not in ours}
    return {**env, **extra}


REPORT = "import os; print(os.environ.get('GLIBC_TUNABLES'))"


def _run_th(env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "trepl", "-e", REPORT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.skipif(
    not hugepages.wanted({}, hugepages.glibc_version()), reason="needs Linux with glibc 2.35+"
)
def test_th_runs_under_the_tunable():
    (tunables,) = _run_th(_th_env({"GLIBC_TUNABLES": "glibc.malloc.arena_max=8"}))
    assert tunables == "glibc.malloc.arena_max=8:glibc.malloc.hugetlb=1"


def test_th_opt_out_and_user_setting_start_once():
    assert _run_th(_th_env({"TREPL_HUGEPAGES": "0"}))[0] == "None"
    assert _run_th(_th_env({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"}))[0] == (
        "glibc.malloc.hugetlb=0"
    )
