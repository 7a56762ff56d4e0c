"""The README's Python examples run, in order, as a reader would paste them into `th`.

Each ```python block is one cell of the shell's evaluator (the engine under `th` and itorch), on
the data that ships with the install: nothing is faked, the seed's network really trains.
"""

import math
import pathlib
import re

import numpy as np

from trepl.evaluator import Evaluator

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run_in_the_shell_on_shipped_data():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 4
    assert "trainset = data.digits(" in blocks[0]  # the seed's example gets its own data
    evaluator = Evaluator()
    printed = []
    for block in blocks:
        result = evaluator.execute(block, on_stdout=printed.append)
        assert result.ok, f"README block failed:\n{block}\n{result.error}"
    ns = evaluator.namespace
    log = "".join(printed)
    errors = [float(e) for e in re.findall(r"# current error = ([0-9.]+)", log)]
    assert len(errors) == ns["trainer"].maxIteration == 5
    assert errors[-1] < errors[0]  # it learns on the real digits
    assert ns["trainset"].data.shape == (1437, 3, 32, 32) and ns["trainset"].size() == 1437
    predicted = np.asarray(ns["predicted"])
    assert predicted.shape == (10,)  # one CHW sample in, ten log-probabilities out
    # LogSoftMax over 10 classes: the probabilities sum to 1 within float32 rounding of 10 terms
    assert math.isclose(np.exp(predicted.astype(np.float64)).sum(), 1.0, abs_tol=10 * 2**-23)
