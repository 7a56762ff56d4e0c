"""itorch.image on a terminal: which protocol, and what each one writes."""

import base64
import io
import re

import numpy as np
import pytest

from kernel import terminal_image as ti


class Tty(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TERM": "xterm-kitty"}, "kitty"),
        ({"TERM": "xterm-256color", "KITTY_WINDOW_ID": "1"}, "kitty"),
        ({"TERM": "xterm-256color", "TERM_PROGRAM": "iTerm.app"}, "iterm"),
        ({"TERM": "xterm-256color", "TERM_PROGRAM": "WezTerm"}, "iterm"),
        ({"TERM": "xterm-256color", "LC_TERMINAL": "iTerm2"}, "iterm"),
        ({"TERM": "tmux-256color", "KITTY_WINDOW_ID": "1", "TMUX": "/tmp/t,1,0"}, "blocks"),
        ({"TERM": "xterm-256color"}, "blocks"),
        ({"TERM": "xterm-kitty", "TREPL_IMAGES": "blocks"}, "blocks"),
        ({"TERM": "dumb"}, "file"),
        ({}, "file"),
    ],
)
def test_protocol_from_the_environment(env, expected):
    assert ti.protocol(Tty(), env) == expected


def test_not_a_terminal_means_a_file_and_a_bad_setting_is_named():
    assert ti.protocol(io.StringIO(), {"TERM": "xterm-kitty"}) == "file"
    with pytest.raises(ValueError, match=r"TREPL_IMAGES='sixel' is not one of kitty, iterm"):
        ti.protocol(Tty(), {"TERM": "xterm", "TREPL_IMAGES": "sixel"})


def test_kitty_chunks_carry_the_png():
    png = bytes(range(256)) * 40  # 10 KiB: 13,656 characters of base64, four chunks
    text = ti.kitty(png)
    chunks = re.findall(r"\x1b_G([^;]*);([^\x1b]*)\x1b\\", text)
    assert [keys for keys, _ in chunks] == ["a=T,f=100,m=1", "m=1", "m=1", "m=0"]
    assert all(len(data) <= 4096 for _, data in chunks)
    assert base64.b64decode("".join(data for _, data in chunks)) == png


def test_iterm_escape_carries_the_png():
    png = b"\x89PNG fake"
    match = re.fullmatch(r"\x1b\]1337;File=inline=1;size=(\d+);[^:]*:(.*)\x07\n", ti.iterm(png))
    assert int(match.group(1)) == len(png) and base64.b64decode(match.group(2)) == png


def test_half_blocks_rows_colours_and_odd_height():
    pixels = np.zeros((3, 2, 3), np.uint8)
    pixels[0, 0] = (255, 0, 0)
    pixels[1, 1] = (0, 0, 255)
    pixels[2, 0] = (9, 9, 9)
    rows = ti.half_blocks(pixels).rstrip("\n").split("\n")
    assert len(rows) == 2  # 3 pixel rows: two text rows, the last one half empty
    assert rows[0] == (
        "\x1b[38;2;255;0;0m\x1b[48;2;0;0;0m▀\x1b[38;2;0;0;0m\x1b[48;2;0;0;255m▀\x1b[0m"
    )
    # no lower pixel: the default background, in force since the reset that ended row 0
    assert rows[1] == "\x1b[38;2;9;9;9m▀\x1b[38;2;0;0;0m▀\x1b[0m"


def test_wide_images_are_shrunk_to_the_terminal():
    wide = np.zeros((10, 300, 1), np.uint8)
    assert ti.fit(wide, 99).shape == (3, 75, 1)  # every 4th pixel both ways: the aspect kept
    assert ti.fit(wide, 300) is wide
