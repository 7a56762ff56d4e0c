"""`itorch.image(x)` in a terminal: drawn inline where the terminal can show it.

Outside a kernel `itorch.image` used to write a PNG and print its path. On a terminal it now
draws the picture in place, choosing by what the terminal says it is:

- kitty's graphics protocol when `TERM=xterm-kitty` (or `KITTY_WINDOW_ID`, or Ghostty);
- iTerm2's inline images when `TERM_PROGRAM` is `iTerm.app` or `WezTerm` (or `LC_TERMINAL=iTerm2`);
- otherwise Unicode half blocks: each character cell shows two pixels, the upper one as the
  foreground colour of `▀` and the lower one as the background, in 24-bit colour.

Inside tmux or screen, half blocks (a multiplexer does not pass graphics escapes on). Not a
terminal (a pipe, a file, `TERM=dumb`) keeps the file and its path. `TREPL_IMAGES` set to
`kitty`, `iterm`, `blocks` or `file` overrides the choice (the terminal must still be one).
"""

from __future__ import annotations

import base64
import os
import shutil
from typing import Any, TextIO

PROTOCOLS = ("kitty", "iterm", "blocks", "file")
_CHUNK = 4096  # kitty takes base64 payloads in chunks of at most 4096 bytes


def protocol(stream: TextIO, environ: dict[str, str] | None = None) -> str:
    """'kitty', 'iterm', 'blocks' or 'file': how an image can be shown on `stream`."""
    env = os.environ if environ is None else environ
    isatty = getattr(stream, "isatty", None)
    try:
        tty = bool(isatty and isatty())
    except (ValueError, OSError):  # a closed stream
        tty = False
    term = env.get("TERM", "")
    if not tty or term in ("", "dumb"):
        return "file"
    chosen = env.get("TREPL_IMAGES", "").strip().lower()
    if chosen:
        if chosen not in PROTOCOLS:
            raise ValueError(
                f"itorch.image: TREPL_IMAGES={chosen!r} is not one of {', '.join(PROTOCOLS)}"
            )
        return chosen
    program = env.get("TERM_PROGRAM", "")
    if "TMUX" in env or term.startswith(("screen", "tmux")) or program == "tmux":
        return "blocks"  # a multiplexer swallows graphics escapes (KITTY_WINDOW_ID leaks in)
    if term in ("xterm-kitty", "xterm-ghostty") or "KITTY_WINDOW_ID" in env or program == "ghostty":
        return "kitty"
    if program in ("iTerm.app", "WezTerm") or env.get("LC_TERMINAL") == "iTerm2":
        return "iterm"
    return "blocks"


def kitty(png: bytes) -> str:
    """The PNG as kitty graphics protocol commands (transmit and display, chunked)."""
    data = base64.standard_b64encode(png).decode("ascii")
    chunks = [data[i : i + _CHUNK] for i in range(0, len(data), _CHUNK)] or [""]
    out = []
    for i, chunk in enumerate(chunks):
        more = 1 if i < len(chunks) - 1 else 0
        keys = f"a=T,f=100,m={more}" if i == 0 else f"m={more}"
        out.append(f"\x1b_G{keys};{chunk}\x1b\\")
    return "".join(out) + "\n"


def iterm(png: bytes) -> str:
    """The PNG as an iTerm2 inline-image escape (OSC 1337)."""
    data = base64.standard_b64encode(png).decode("ascii")
    return f"\x1b]1337;File=inline=1;size={len(png)};preserveAspectRatio=1:{data}\x07\n"


def _rgb(pixels: Any) -> Any:
    """uint8 HxWx(1|3|4) -> HxWx3 (gray repeated, alpha composited on black)."""
    import numpy as np

    if pixels.shape[2] == 1:
        return np.repeat(pixels, 3, axis=2)
    if pixels.shape[2] == 4:
        alpha = pixels[:, :, 3:4].astype(np.float32) / 255
        return (pixels[:, :, :3] * alpha + 0.5).astype(np.uint8)
    return pixels


def fit(pixels: Any, columns: int) -> Any:
    """Shrink (keep every k-th pixel) so the image is at most `columns` wide."""
    width = pixels.shape[1]
    if width <= columns:
        return pixels
    step = -(-width // max(columns, 1))
    return pixels[::step, ::step]


def half_blocks(pixels: Any) -> str:
    """The image as rows of `▀`: upper pixel in the foreground colour, lower in the background.

    Colours are written only where they change along a row; each row ends by resetting them.
    """
    rgb = _rgb(pixels)
    height, width = rgb.shape[:2]
    rows = []
    for top in range(0, height, 2):
        parts = []
        last_fg = last_bg = None
        for x in range(width):
            fg = tuple(int(v) for v in rgb[top, x])
            bg = tuple(int(v) for v in rgb[top + 1, x]) if top + 1 < height else None
            if fg != last_fg:
                parts.append("\x1b[38;2;{};{};{}m".format(*fg))
                last_fg = fg
            if bg != last_bg:
                parts.append("\x1b[49m" if bg is None else "\x1b[48;2;{};{};{}m".format(*bg))
                last_bg = bg
            parts.append("▀")
        rows.append("".join(parts) + "\x1b[0m")
    return "\n".join(rows) + "\n"


def draw(png: bytes, pixels: Any, stream: TextIO) -> bool:
    """Draw the image on `stream` if it is a terminal that can show one; False if not (the
    caller then writes a file). `pixels` (uint8 HxWxC) is what the half blocks show."""
    how = protocol(stream)
    if how == "file":
        return False
    if how == "kitty":
        text = kitty(png)
    elif how == "iterm":
        text = iterm(png)
    else:
        columns = shutil.get_terminal_size((80, 24)).columns
        text = half_blocks(fit(pixels, columns - 1))
    stream.write(text)
    stream.flush()
    return True
