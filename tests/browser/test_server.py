"""A notebook server that cannot start fails the suite with its own message, at once.

These need no browser: they check the harness's promise that a broken start is reported with
the server's reason (port taken, address not on this machine), never as a timeout.
"""

from __future__ import annotations

import socket
import time

import pytest

from . import server


def test_a_taken_port_fails_with_the_servers_message(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(
            server.ServerError,
            match=rf"itorch notebook exited with status 1: .*port {port} is not available",
        ):
            server.start(tmp_path, tmp_path, port)
    assert time.monotonic() - started < server.START_TIMEOUT / 2  # the exit, not the deadline


def test_an_address_not_on_this_machine_fails_with_the_servers_message(tmp_path):
    with pytest.raises(
        server.ServerError,
        match=r"exited with status 1: itorch: cannot listen on address '192.0.2.1' "
        r"\(Cannot assign requested address\); start it with --ip=127.0.0.1",
    ):
        server.start(tmp_path, tmp_path, server.free_port(), ip="192.0.2.1")


def test_without_chromium_the_reason_to_skip_is_one_line(monkeypatch):
    from . import page

    monkeypatch.setattr(page, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("PATH", "/nonexistent")
    reason = page.missing_browser()
    assert reason == (
        "no chromium at /nonexistent/chromium (Debian: apt-get install chromium chromium-driver)"
    )
