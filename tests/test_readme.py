"""The README's Python examples run, in order, as a reader would paste them."""

import pathlib
import re

import numpy as np

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


class _CifarLike:
    """What the seed loads from cifar10-train.t7: `.data`, `.label`, `ds[i]`, `size()`."""

    def __init__(self, n, seed):
        rng = np.random.default_rng(seed)
        self.label = rng.integers(0, 10, n)
        self.data = rng.normal(size=(n, 3, 32, 32)).astype(np.float32)

    def __getitem__(self, i):
        return self.data[i], self.label[i]

    def size(self):
        return len(self.data)


def test_readme_python_blocks_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 4
    namespace = {"trainset": _CifarLike(24, 0), "testset": _CifarLike(101, 1)}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    assert namespace["predicted"].shape == (10,)
    assert "# current error = " in capsys.readouterr().out
