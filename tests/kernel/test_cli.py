"""cli.py: `itorch install`, bind errors as one sentence, and a real `itorch notebook` server."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kernel import cli, kernelspec

# TEST-NET-1 (RFC 5737): a valid address that no interface here has, so binding it fails with
# errno 99 "Cannot assign requested address", the seed's iTorch error.
FOREIGN_IP = "192.0.2.1"


def _itorch(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kernel", *args], capture_output=True, text=True, timeout=timeout
    )


def test_install_defaults_to_user_dir(capsys):
    assert cli.main(["install"]) == 0
    path = Path(os.environ["JUPYTER_DATA_DIR"]) / "kernels" / "itorch"
    assert json.loads((path / "kernel.json").read_text())["display_name"] == "iTorch"
    assert str(path) in capsys.readouterr().out


def test_install_prefix(tmp_path):
    assert cli.main(["install", "--prefix", str(tmp_path)]) == 0
    assert (tmp_path / "share/jupyter/kernels/itorch/kernel.json").is_file()


def test_install_locations_are_exclusive(capsys):
    with pytest.raises(SystemExit):
        cli.main(["install", "--user", "--sys-prefix"])
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["frob"],
            "invalid choice: 'frob' (choose from 'install', 'uninstall', 'kernel', 'notebook'",
        ),
        (["install", "--name", "x"], "unrecognized arguments: --name x"),
    ],
)
def test_bad_command_lines(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_bind_problem_names_the_reason():
    assert cli.bind_problem("127.0.0.1") is None
    assert cli.bind_problem(FOREIGN_IP) == os.strerror(99)
    assert "does not resolve" in cli.bind_problem("no-such-host.invalid")


@pytest.mark.parametrize(
    "args",
    [
        ("notebook", f"--ip={FOREIGN_IP}", "--no-browser"),
        ("lab", "--ip", FOREIGN_IP, "--no-browser"),
        ("console", f"--ip={FOREIGN_IP}"),
        ("kernel", "--ip", FOREIGN_IP),
    ],
    ids=["notebook", "lab", "console", "kernel"],
)
def test_unbindable_address_is_one_sentence(args):
    done = _itorch(*args)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines == [
        f"itorch: cannot listen on address '{FOREIGN_IP}' (Cannot assign requested address); "
        "start it with --ip=127.0.0.1 to listen on this machine only."
    ]


def test_kernel_connection_file_address_is_checked(tmp_path):
    info = {"ip": FOREIGN_IP, "transport": "tcp", "key": "k", "signature_scheme": "hmac-sha256"}
    info.update({f"{name}_port": 0 for name in ("shell", "iopub", "stdin", "control", "hb")})
    connection = tmp_path / "kernel.json"
    connection.write_text(json.dumps(info))
    done = _itorch("kernel", "-f", str(connection))
    assert done.returncode == 1
    assert f"cannot listen on address '{FOREIGN_IP}'" in done.stderr
    assert "Traceback" not in done.stderr


def test_default_address_is_loopback():
    argv, error = cli._checked_ip_argv(["--no-browser"])
    assert argv[0] == "--ip=127.0.0.1" and error is None
    argv, _ = cli._checked_ip_argv(["--ip", "0.0.0.0"])
    assert argv == ["--ip", "0.0.0.0"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_notebook_server_answers_and_lists_the_itorch_kernel(tmp_path):
    """`itorch notebook --ip=127.0.0.1 --no-browser`: installs the spec, serves its REST API on
    that address with itorch as the default kernel, and shuts down cleanly on request."""
    assert kernelspec.find_installed() is None  # the command installs it
    port, token = _free_port(), "itorch-test-token"
    command = [shutil.which("itorch") or sys.executable, "notebook"]
    if not command[0].endswith("itorch"):
        command[1:1] = ["-m", "kernel"]
    server = subprocess.Popen(
        [*command, "--ip=127.0.0.1", "--no-browser", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    # (--allow-root only because CI containers run as root; Jupyter refuses root otherwise)
    try:
        deadline = time.monotonic() + 90
        specs = None
        while specs is None and time.monotonic() < deadline:
            assert server.poll() is None, server.stdout.read()
            try:
                specs = _get_json(f"{base}/api/kernelspecs?token={token}")
            except OSError:
                time.sleep(0.3)
        assert specs is not None, "the server never answered"
        assert specs["default"] == "itorch"
        assert specs["kernelspecs"]["itorch"]["spec"]["display_name"] == "iTorch"
        request = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
        urllib.request.urlopen(request, timeout=10).close()
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    log = server.stdout.read()
    assert "Traceback" not in log, log
    assert f"installed the iTorch kernelspec in {os.environ['JUPYTER_DATA_DIR']}" in log


def _prompt(n: int) -> str:
    # jupyter console colours the prompt: colour codes may surround the number
    return rf"In \[(?:\x1b\[[0-9;]*m)*{n}(?:\x1b\[[0-9;]*m)*\]: "


def test_plain_itorch_is_a_console_with_multiline_input_and_exit():
    """`itorch` alone: jupyter console on an itorch kernel (spec installed on the way); a block
    continues until a blank line (is_complete), and exit() closes console and kernel."""
    import pexpect

    child = pexpect.spawn(
        sys.executable, ["-m", "kernel"], encoding="utf-8", timeout=90, dimensions=(24, 100)
    )
    try:
        child.expect(r"iTorch \S+: Python")
        child.expect(_prompt(1))
        child.sendline("6 * 7")
        child.expect(r"Out\[\S*?1\S*?\]: \S*?42")
        child.expect(_prompt(2))
        child.sendline("for i in range(2):")
        child.sendline("print('line', i)")  # the console indents the block itself
        child.sendline("")
        child.expect("line 0")
        child.expect("line 1")
        child.expect(_prompt(3))
        child.sendline("exit()")
        child.expect("Shutting down kernel")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert kernelspec.find_installed() is not None


def test_console_without_a_display_starts_quietly_shows_image_text_and_its_own_help():
    """No DISPLAY: itorch.image prints its text form instead of running xdg-open (which printed
    `www-browser: not found` lines into the prompt); no kernel warning lands on the screen."""
    import pexpect

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PROMPT_TOOLKIT_NO_CPR"] = "1"  # nothing here answers cursor-position requests
    env["PAGER"] = "cat"  # the help page is longer than the terminal: no pager to quit
    child = pexpect.spawn(
        sys.executable,
        ["-m", "kernel", "console"],
        env=env,
        encoding="utf-8",
        timeout=90,
        dimensions=(40, 120),
    )
    try:
        child.expect(_prompt(1))
        start = child.before
        child.sendline("itorch.image(np.zeros((3, 8, 8)))")
        child.expect(_prompt(2))
        shown = child.before
        child.sendline("?")
        child.expect("itorch: the th evaluator as a Jupyter kernel")
        child.expect(_prompt(3))
        child.sendline("exit()")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert "WARNING" not in start and "frozen modules" not in start
    assert "<itorch.image 64x64 PNG>" in shown  # 8x8, zoomed 8 times
    assert "www-browser" not in shown and "xdg-open" not in shown


def test_version_has_no_side_effect_and_help_lists_each_command_once():
    done = _itorch("--version")
    assert done.returncode == 0 and re.fullmatch(r"itorch \(trepl\) \S+\n", done.stdout)
    assert kernelspec.find_installed() is None  # --version installed nothing
    text = _itorch("--help").stdout
    assert text.count("itorch install") == 1 and text.count("uninstall") == 1
    assert "{install" not in text


def test_uninstall_removes_the_spec(capsys):
    assert cli.main(["install"]) == 0
    assert cli.main(["uninstall"]) == 0
    assert "removed kernelspec itorch" in capsys.readouterr().out
    assert kernelspec.find_installed() is None
    assert cli.main(["uninstall"]) == 1


def test_a_spec_left_by_a_gone_environment_is_rewritten_and_doctor_says_so(tmp_path):
    from trepl import doctor

    path = Path(kernelspec.install(user=True))
    spec = json.loads((path / "kernel.json").read_text())
    spec["argv"][0] = str(tmp_path / "gone-env/bin/python")
    (path / "kernel.json").write_text(json.dumps(spec))
    fact = [line for line in doctor.report().splitlines() if "kernelspec" in line][0]
    assert fact == (
        f"itorch kernelspec: STALE at {path}: it runs {tmp_path / 'gone-env/bin/python'}, "
        "which no longer exists; run `itorch install` (any itorch command also rewrites it)"
    )
    where, note = kernelspec.ensure_current()
    assert where == str(path) and "was stale" in note
    assert json.loads((path / "kernel.json").read_text())["argv"][0] == sys.executable
    assert kernelspec.ensure_current() == (str(path), None)
    assert "itorch kernelspec: installed at" in doctor.report()
