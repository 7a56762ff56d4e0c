"""Top-level await: a cell's coroutine runs on the session's loop; Ctrl-C still interrupts."""

import _thread
import asyncio
import threading

import pytest

from trepl import aio
from trepl.evaluator import Evaluator


def test_value_and_error_of_a_coroutine():
    assert aio.run(asyncio.sleep(0, result=7)) == 7

    async def fail():
        raise ValueError("inside")

    with pytest.raises(ValueError, match="inside"):
        aio.run(fail())


def test_objects_made_on_the_loop_live_across_cells():
    ev = Evaluator()
    assert ev.execute("import asyncio\nqueue = asyncio.Queue()\nawait queue.put(5)").ok
    assert ev.execute("await queue.get()").value == 5


def test_a_coroutine_value_is_shown_not_run():
    ev = Evaluator()
    ev.execute("async def f():\n    return 3")
    result = ev.execute("coro = f(); coro")
    assert type(result.value).__name__ == "coroutine"
    assert ev.execute("await coro").value == 3


def test_ctrl_c_cancels_the_awaited_coroutine():
    ev = Evaluator()
    threading.Timer(0.3, _thread.interrupt_main).start()
    result = ev.execute("import asyncio\nawait asyncio.sleep(30)")
    assert result.error.ename == "KeyboardInterrupt"
    assert ev.execute("await asyncio.sleep(0, result='still works')").value == "still works"
