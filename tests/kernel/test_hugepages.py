"""The itorch kernel runs under glibc's huge-page tunable (`trepl.hugepages`), as `th` does:
a real kernel, started from the installed kernelspec, reports the setting it runs under."""

import os

import pytest

from trepl import hugepages

from .jupyter_helpers import execute, stream_text


@pytest.mark.skipif(
    not hugepages.wanted(os.environ, hugepages.glibc_version()),
    reason="needs Linux with glibc 2.35+ and no GLIBC_TUNABLES/TREPL_HUGEPAGES choice here",
)
def test_kernel_process_has_the_tunable(kc):
    content, outputs = execute(kc, "import os; print(os.environ.get('GLIBC_TUNABLES'))")
    assert content["status"] == "ok", content
    assert "glibc.malloc.hugetlb=1" in stream_text(outputs)
