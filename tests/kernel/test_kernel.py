"""kernel.py through jupyter_client: a real itorch kernel started from the installed kernelspec.

One kernel serves the module (started once, ~1-2 s); the tests run in file order and the last
ones interrupt, restart and shut it down. Every request type a front end sends is covered, with
the iopub messages a notebook would render.
"""

import base64
import os
import platform
import re
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pytest
from jupyter_client.session import Session

from .jupyter_helpers import (
    TIMEOUT,
    collect_iopub,
    execute,
    of_type,
    reply_to,
    start_kernel,
    stream_text,
)


@pytest.fixture(scope="module")
def kernel(jupyter_home):
    log = jupyter_home / "kernel.log"
    km, kc = start_kernel(log_file=log)
    km.log_path = log
    yield km, kc
    kc.stop_channels()
    if km.is_alive():
        km.shutdown_kernel(now=False)


@pytest.mark.parametrize(
    ("code", "cursor", "name"),
    [("jnp.zer", 7, "jnp.zer"), ("jnp.zeros(3)", 6, "jnp.zeros"), ("f(x, np.ar", 10, "np.ar"),
     ("1 + ", 4, ""), ("a.", 2, "a")],
)  # fmt: skip
def test_name_at_cursor(code, cursor, name):
    from kernel.kernel import name_at

    assert name_at(code, cursor) == name


def test_limited_stream_counts_what_it_drops():
    from kernel.kernel import _LimitedStream

    class Sink:
        text = ""

        def write(self, t):
            self.text += t

    sink = Sink()
    stream = _LimitedStream(sink, limit=10)
    assert stream.note() is None
    for chunk in ("12345", "6789", "abcdef", "gh"):
        stream.write(chunk)
    assert sink.text == "123456789a"
    assert "7 more characters not shown (a cell shows at most 10)" in stream.note()


def test_kernel_info_reports_python_and_itorch(kc):
    reply = reply_to(kc, kc.kernel_info())
    info = reply["content"]
    assert info["implementation"] == "itorch"
    lang = info["language_info"]
    assert lang["name"] == "python"
    assert lang["version"] == platform.python_version()
    assert lang["pygments_lexer"] == "ipython3"
    assert lang["codemirror_mode"] == {"name": "ipython", "version": 3}
    assert lang["file_extension"] == ".py"


def test_connection_file_is_owner_only_and_messages_are_signed(kernel):
    km, _ = kernel
    mode = stat.S_IMODE(os.stat(km.connection_file).st_mode)
    assert mode & 0o077 == 0, oct(mode)
    assert km.session.key and km.session.signature_scheme == "hmac-sha256"


def test_value_print_and_timing_line(kc):
    reply, out = execute(kc, "print('hi')\n40 + 2")
    assert reply["status"] == "ok"
    results = of_type(out, "execute_result")
    assert [r["content"]["data"]["text/plain"] for r in results] == ["42"]
    text = stream_text(out)
    assert text.startswith("hi\n")
    assert re.search(r"^ +\[\d+\.\d{4}s\]\n$", text.split("hi\n", 1)[1])
    # order: the print, then the value, then the timing line (as `th` shows it)
    kinds = [m["msg_type"] for m in out]
    assert kinds == ["stream", "execute_result", "stream"]


def test_semicolon_hides_value_but_results_are_kept(kc):
    reply, out = execute(kc, "6 * 7;")
    assert reply["status"] == "ok"
    assert not of_type(out, "execute_result")
    _, out = execute(kc, "_LAST, _RESULTS[-1]")
    assert of_type(out, "execute_result")[0]["content"]["data"]["text/plain"] == "(42, 42)"


def test_error_reply_and_state_survives(kc):
    execute(kc, "kept = 5")
    reply, out = execute(kc, "kept / 0")
    assert reply["status"] == "error"
    assert reply["ename"] == "ZeroDivisionError"
    error = of_type(out, "error")[0]["content"]
    assert error["evalue"] == "division by zero"
    assert any("kept / 0" in line for line in error["traceback"])
    assert "ZeroDivisionError: division by zero" in error["traceback"][-1]
    _, out = execute(kc, "kept")
    assert of_type(out, "execute_result")[0]["content"]["data"]["text/plain"] == "5"


def test_help_cell_comes_back_as_pager_payload(kc):
    reply, out = execute(kc, "? len")
    assert reply["status"] == "ok"
    page = reply["payload"][0]
    assert page["source"] == "page"
    assert "Return the number of items" in page["data"]["text/plain"]
    assert not of_type(out, "execute_result")


def test_shell_command_streams_output(kc):
    reply, out = execute(kc, "$ echo itorch-shell")
    assert reply["status"] == "ok"
    assert "itorch-shell\n" in stream_text(out)
    _, out = execute(kc, "_LAST")
    assert "itorch-shell" in of_type(out, "execute_result")[0]["content"]["data"]["text/plain"]


def test_complete_uses_the_namespace(kc):
    execute(kc, "my_long_variable = 1")
    code = "my_long_v"
    reply = reply_to(kc, kc.complete(code, len(code)))["content"]
    assert reply["status"] == "ok"
    completed = [code[: reply["cursor_start"]] + m for m in reply["matches"]]
    assert "my_long_variable" in completed
    assert reply["cursor_end"] == len(code)


def test_inspect_gives_the_help_page(kc):
    code = "len(my_long_variable)"
    reply = reply_to(kc, kc.inspect(code, 2))["content"]
    assert reply["status"] == "ok" and reply["found"] is True
    assert "Return the number of items" in reply["data"]["text/plain"]
    reply = reply_to(kc, kc.inspect("no_such_name_here", 3))["content"]
    assert reply["found"] is False


@pytest.mark.parametrize(
    ("code", "status"),
    [("x = 1", "complete"), ("for i in range(3):", "incomplete"), ("1 +* 2", "invalid")],
)
def test_is_complete(kc, code, status):
    reply = reply_to(kc, kc.is_complete(code))["content"]
    assert reply["status"] == status
    if status == "incomplete":
        assert reply["indent"] == "    "


def test_history_tail_and_search(kc):
    execute(kc, "hist_marker = 'a'")
    execute(kc, "hist_marker * 2")
    msg_id = kc.history(hist_access_type="tail", n=2, output=True, raw=True)
    reply = reply_to(kc, msg_id)["content"]
    inputs = [entry[2][0] for entry in reply["history"]]
    assert inputs == ["hist_marker = 'a'", "hist_marker * 2"]
    assert reply["history"][1][2][1] == "'aa'"
    msg_id = kc.history(hist_access_type="search", pattern="hist_marker =*", output=False, raw=True)
    reply = reply_to(kc, msg_id)["content"]
    assert [entry[2] for entry in reply["history"]] == ["hist_marker = 'a'"]


def test_input_asks_the_front_end(kc):
    msg_id = kc.execute("name = input('name? ')\nname.upper()", allow_stdin=True)
    request = kc.get_stdin_msg(timeout=TIMEOUT)
    assert request["content"] == {"prompt": "name? ", "password": False}
    kc.input("bob")
    assert reply_to(kc, msg_id)["content"]["status"] == "ok"
    out = collect_iopub(kc, msg_id)
    assert of_type(out, "execute_result")[0]["content"]["data"]["text/plain"] == "'BOB'"
    reply, _ = execute(kc, "input()", allow_stdin=False)
    assert reply["ename"] == "StdinNotImplementedError"
    assert "does not support input requests" in reply["evalue"]


def test_debug_is_post_mortem_pdb_over_the_front_ends_input(kc):
    execute(kc, "def g(v):\n    return 1 / v")
    reply, _ = execute(kc, "g(0)")
    assert reply["ename"] == "ZeroDivisionError"
    msg_id = kc.execute("debug()", allow_stdin=True)
    request = kc.get_stdin_msg(timeout=TIMEOUT)
    # ipykernel's app makes pdb.Pdb IPython's interruptible debugger, hence its prompt
    assert request["content"]["prompt"] in ("(Pdb) ", "ipdb> ")
    kc.input("p v * 7")
    kc.get_stdin_msg(timeout=TIMEOUT)
    kc.input("q")
    assert reply_to(kc, msg_id)["content"]["status"] == "ok"
    out = collect_iopub(kc, msg_id)
    assert "\n0\n" in "\n" + stream_text(out)  # v was 0 in the frame that failed


def test_ipython_habits_shell_timeit_await_and_unknown_magic(kc):
    _, out = execute(kc, "!echo from-bang")
    assert stream_text(out).startswith("from-bang\n")
    msg_id = kc.complete("!ech", 4)
    assert "echo" in reply_to(kc, msg_id)["content"]["matches"]  # programs on $PATH
    execute(kc, "sq = jax.jit(lambda v: v * v)")
    _, out = execute(kc, "%timeit sq(jnp.ones(8))")
    shown = of_type(out, "execute_result")[0]["content"]["data"]["text/plain"]
    assert "per call (median of 7 runs" in shown and re.search(r"compiling \(\d programs?\)", shown)
    _, out = execute(kc, "import asyncio\nawait asyncio.sleep(0, result=6 * 7)")
    assert of_type(out, "execute_result")[0]["content"]["data"]["text/plain"] == "42"
    reply, _ = execute(kc, "%matplotlib inline")
    assert reply["ename"] == "UsageError" and "th does not have" in reply["evalue"]


def test_ipython_display_objects_render(kc):
    _, out = execute(
        kc,
        "import IPython.display\n"
        "IPython.display.display(IPython.display.HTML('<b>rich</b>'))\n"
        "IPython.display.Markdown('*md*')",
    )
    assert of_type(out, "display_data")[0]["content"]["data"]["text/html"] == "<b>rich</b>"
    data = of_type(out, "execute_result")[0]["content"]["data"]
    assert data["text/markdown"] == "*md*"


def test_the_help_page_describes_the_notebook_not_ths_keys(kc):
    reply, _ = execute(kc, "?")
    page = reply["payload"][0]["data"]["text/plain"]
    assert page.startswith("itorch: the th evaluator as a Jupyter kernel")
    assert "Shift-Tab" in page and "Ctrl-L" not in page


def test_kernel_start_prints_no_warning(kernel):
    km, _ = kernel
    log = km.log_path.read_text()
    assert "without encryption" not in log and "frozen modules" not in log


def test_array_has_html_view_beside_text(kc):
    _, out = execute(kc, "np.arange(6).reshape(2, 3)")
    data = of_type(out, "execute_result")[0]["content"]["data"]
    assert "numpy.ndarray of size 2x3" in data["text/plain"]
    assert data["text/html"].count("<tr>") == 2
    assert "<td>5</td>" in data["text/html"]


def test_values_read_as_in_th_as_text_and_as_a_table(kc):
    """One printer: the notebook's text/plain is th's, and its table carries th's caption."""
    import jax.numpy as jnp

    from trepl.printer import render

    _, out = execute(kc, "jnp.arange(12.0).reshape(3, 4)")
    data = of_type(out, "execute_result")[0]["content"]["data"]
    assert data["text/plain"] == render(jnp.arange(12.0).reshape(3, 4))
    assert "[jax.Array of size 3x4, float32, 48 B]" in data["text/html"]
    assert "ArrayImpl" not in data["text/html"] and "<td>11.</td>" in data["text/html"]
    _, out = execute(kc, "jnp.float32(3) * jnp.ones(())")
    data = of_type(out, "execute_result")[0]["content"]["data"]
    assert data["text/plain"].startswith("3.\n") and "<td>3.</td>" in data["text/html"]
    execute(kc, "setresults(3)")
    _, out = execute(kc, "_RESULTS")
    shown = of_type(out, "execute_result")[0]["content"]["data"]["text/plain"]
    assert shown.count("jax.Array") == 2 and "[...]" not in shown


def test_itorch_image_is_a_png(kc):
    _, out = execute(kc, "itorch.image(np.random.rand(4, 3, 8, 8))")
    shown = of_type(out, "display_data")
    assert len(shown) == 1
    png = base64.b64decode(shown[0]["content"]["data"]["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    meta = shown[0]["content"]["metadata"]["image/png"]
    assert meta["width"] > 32 and meta["height"] > 32
    assert not of_type(out, "execute_result")  # image() returns None: nothing auto-printed


def test_itorch_html_updates_in_place(kc):
    _, out = execute(kc, "w = itorch.html('<b>step 1</b>')\nitorch.html('<b>step 2</b>', w);")
    first, second = out[0], out[1]
    assert first["msg_type"] == "display_data"
    assert second["msg_type"] == "update_display_data"
    display_id = first["content"]["transient"]["display_id"]
    assert second["content"]["transient"]["display_id"] == display_id
    assert second["content"]["data"]["text/html"] == "<b>step 2</b>"


def test_prints_and_displays_keep_their_order(kc):
    _, out = execute(kc, "print('before')\nitorch.html('<i>x</i>')\nprint('after');")
    summary = [
        m["content"].get("text", m["msg_type"]) for m in out if m["msg_type"] != "execute_result"
    ]
    assert summary[:3] == ["before\n", "display_data", "after\n"]


def test_plot_is_offline_html_and_redraws_in_place(kc):
    code = (
        "p = itorch.Plot().line([1, 2, 3], [1, 4, 9], 'red', 'sq').draw()\np.title('t').redraw();"
    )
    reply, out = execute(kc, code)
    assert reply["status"] == "ok", reply
    drawn, redrawn = of_type(out, "display_data"), of_type(out, "update_display_data")
    assert len(drawn) == 1 and len(redrawn) == 1
    assert drawn[0]["content"]["transient"] == redrawn[0]["content"]["transient"]
    page = drawn[0]["content"]["data"]["text/html"]
    assert page.startswith("<iframe srcdoc=")
    assert "Bokeh" in page and "cdn.bokeh.org" not in page
    assert not re.search(r"&lt;script[^&]*src=&quot;https?:", page)


def test_output_flood_is_truncated_with_a_note(kc):
    reply, out = execute(kc, "print('x' * 3_000_000)\nflood_survived = True")
    assert reply["status"] == "ok"
    shown = stream_text(out, "stdout")
    assert 200_000 <= shown.count("x") <= 200_001
    assert "output truncated: 2,800,001 more characters not shown" in stream_text(out, "stderr")
    _, out = execute(kc, "flood_survived")
    assert of_type(out, "execute_result")[0]["content"]["data"]["text/plain"] == "True"


def test_bad_signature_is_dropped_and_logged(kernel, kc):
    km, _ = kernel
    forged = Session(key=b"not-the-kernel-key", signature_scheme="hmac-sha256")
    msg = forged.msg("execute_request", {"code": "forged = 1", "silent": False})
    forged.send(kc.shell_channel.socket, msg)
    reply, _ = execute(kc, "'forged' in globals()")
    assert reply["status"] == "ok"
    _, out = execute(kc, "'forged' in globals()")
    assert of_type(out, "execute_result")[0]["content"]["data"]["text/plain"] == "False"
    assert "Invalid" in km.log_path.read_text()


def _interrupt_when_busy(km, kc, code, delay):
    """Start `code`, interrupt it `delay` s after it starts; returns (reply, iopub messages)."""
    msg_id = kc.execute(code)
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
            break
    time.sleep(delay)
    km.interrupt_kernel()
    reply = reply_to(kc, msg_id)
    return reply["content"], collect_iopub(kc, msg_id)


def test_interrupt_stops_a_python_loop_and_keeps_variables(kernel, kc):
    km, _ = kernel
    execute(kc, "before_loop = 'still here'\nspins = 0")
    reply, _ = _interrupt_when_busy(km, kc, "while True:\n    spins += 1", delay=0.5)
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
    _, out = execute(kc, "before_loop, spins > 0")
    assert of_type(out, "execute_result")[0]["content"]["data"]["text/plain"] == (
        "('still here', True)"
    )


def test_interrupt_of_a_long_jitted_call_lands_when_it_returns(kernel, kc):
    """XLA cannot cancel a running compiled computation, and on CPU a jitted call runs inside the
    call itself: the interrupt lands when it returns (~2 s here). The kernel says so while the
    cell keeps running, and the namespace is intact afterwards."""
    km, _ = kernel
    setup = textwrap.dedent(
        """
        @jax.jit
        def spin(x):
            return jax.lax.fori_loop(0, 500_000_000, lambda i, a: a * 1.0000001 + 1e-9, x)
        warm = spin.lower(jnp.float32(1)).compile()
        """
    )
    reply, _ = execute(kc, setup)
    assert reply["status"] == "ok", reply
    reply, out = _interrupt_when_busy(km, kc, "spun = warm(jnp.float32(1))", delay=0.3)
    assert reply["ename"] == "KeyboardInterrupt"
    assert "XLA cannot be cancelled midway" in stream_text(out, "stderr")
    _, out = execute(kc, "'spun' in globals(), before_loop")
    assert of_type(out, "execute_result")[0]["content"]["data"]["text/plain"] == (
        "(False, 'still here')"
    )


def test_interrupted_dispatch_is_explained_and_the_next_cell_says_it_waits(kernel, kc):
    """`b = f(a, n)` interrupted while JAX computes b: the kernel gives th's explanation, and a
    next cell that queues behind the unfinished program shows one line, updated while it
    waits, then how long it waited."""
    km, _ = kernel
    setup = (
        "a = jnp.ones((400, 400)) / 400\n"
        "f = jax.jit(lambda a, n: jax.lax.fori_loop(0, n, lambda i, b: b @ a, a))\n"
        "f(a, 1).block_until_ready();"
    )
    assert execute(kc, setup)[0]["status"] == "ok"
    reply, out = _interrupt_when_busy(km, kc, "b = f(a, 3000)", delay=0.5)  # about 4 s of work
    assert reply["ename"] == "KeyboardInterrupt"
    assert "Interrupted: unbound b (still being computed)" in stream_text(out, "stderr")
    assert "cannot cancel a running XLA program" in stream_text(out, "stderr")
    reply, out = execute(kc, "jnp.ones(3).sum()")
    assert reply["status"] == "ok"
    shown = of_type(out, "display_data")
    assert (
        "waiting for the computation interrupted in cell"
        in shown[0]["content"]["data"]["text/plain"]
    )
    display_id = shown[0]["content"]["transient"]["display_id"]
    updates = of_type(out, "update_display_data")
    assert updates and all(u["content"]["transient"]["display_id"] == display_id for u in updates)
    assert re.match(r"\[waited \d+\.\d s for the computation interrupted in cell \d+\]",
                    updates[-1]["content"]["data"]["text/plain"])  # fmt: skip
    assert of_type(out, "execute_result")[0]["content"]["data"]["text/plain"].startswith("3.")


def test_nets_error_shows_the_users_line_and_the_message(kc):
    execute(kc, "net = nn.Sequential().add(nn.SpatialConvolution(3, 6, 5, 5))")
    reply, out = execute(kc, "net.forward(jnp.ones((2, 1, 32, 32)))")
    assert reply["status"] == "error" and reply["ename"] == "ModuleError"
    lines = of_type(out, "error")[0]["content"]["traceback"]
    text = "\n".join(lines)
    assert "net.forward(jnp.ones((2, 1, 32, 32)))" in text
    assert "nets/nn" not in text and "For simplicity" not in text
    message = next(line for line in lines if "ModuleError" in line)
    assert message.startswith("\x1b[1;31m") and "expected 3 input planes" in message
    assert "tb() prints the full traceback" in lines[-1]
    _, out = execute(kc, "tb()")
    assert "nets/nn/containers.py" in stream_text(out)


def test_restart_gives_a_fresh_namespace(kernel, kc):
    km, _ = kernel
    execute(kc, "survives_restart = 1")
    km.restart_kernel(now=False)
    kc.wait_for_ready(timeout=TIMEOUT)
    reply, out = execute(kc, "survives_restart")
    assert reply["status"] == "error" and reply["ename"] == "NameError"
    _, out = execute(kc, "1 + 1")
    assert of_type(out, "execute_result")[0]["content"]["data"]["text/plain"] == "2"


def test_shutdown_request_ends_the_process(kernel, kc):
    km, _ = kernel
    msg_id = kc.shutdown()  # sent on the control channel, as front ends do
    reply = kc.control_channel.get_msg(timeout=TIMEOUT)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.control_channel.get_msg(timeout=TIMEOUT)
    assert reply["content"] == {"status": "ok", "restart": False}
    # ipykernel's own teardown stalls 10 s or more in about one shutdown in three; the kernel's
    # grace timer (SHUTDOWN_GRACE, 3 s) ends the process well within this deadline anyway.
    deadline = time.monotonic() + 8
    while km.is_alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not km.is_alive()


_PARENT = """
import sys, time
from jupyter_client.manager import KernelManager
km = KernelManager(kernel_name="itorch")
km.start_kernel()
kc = km.client()
kc.start_channels()
kc.wait_for_ready(timeout=60)  # the parent poller runs from here on
print(km.provisioner.process.pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def test_kernel_exits_when_its_parent_dies():
    """jupyter_client sets JPY_PARENT_PID; ipykernel's parent poller must end the orphan."""
    from kernel import kernelspec

    kernelspec.install(user=True)  # into this test's private Jupyter dir
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True)
    try:
        pid = int(parent.stdout.readline())
        assert _alive(pid)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = _alive(pid)
    if alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"kernel {pid} outlived its parent"
