"""Finding and opening data files, with errors that say which file, where, and where to get it.

A data file is read only if it is a regular file (a FIFO named ``x.png`` would block the reader
forever, a device could be endless), and it costs what it holds: `Content` reads a file, plain or
gzipped, in bounded pieces, so a reader compares a header's declared sizes with what is there
before it allocates, and a gzip bomb behind a small header is never decompressed whole.
"""

from __future__ import annotations

import errno
import gzip
import os
import stat
import zlib
from pathlib import Path
from typing import BinaryIO

from .._errors import NetsError

GZIP_MAGIC = b"\x1f\x8b"
# A gzipped data file is refused beyond this many times its size. Deflate itself reaches 1032
# (258 bytes for 2 bits), which would let a 1 MB file cost 1 GB; real data sets compress far
# less (MNIST's images 4.8x, its labels 2.1x, Fashion-MNIST 1.8x, photographs about 1.1x).
# Sparser data can be gunzipped beforehand: a plain file is read whatever its size.
GZIP_MAX_RATIO = 32
# the most a gzipped file is decompressed in one piece
CHUNK = 1 << 18


class DataFileError(NetsError, ValueError):
    """A data file exists but is not in the expected format (wrong magic, truncated...)."""


def find(root: str | os.PathLike, names: list[str], dataset: str, url: str) -> Path:
    """The first of `names` that exists under `root`; otherwise a FileNotFoundError that helps.

    A name that exists but is not a regular file (a folder, a FIFO, a symlink loop) is an error
    naming it, not a reason to look further.
    """
    root = Path(root).expanduser()
    for name in names:
        path = root / name
        if os.path.lexists(path):
            regular(path, dataset)
            return path
    tried = ", ".join(str(root / n) for n in names)
    raise FileNotFoundError(
        f"{dataset}: file {names[0]!r} not found; looked for {tried}; download it from {url} "
        f"and unpack it into {root}"
    )


_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), f"a special file (mode {stat.S_IFMT(mode):o})")


def regular(path: str | os.PathLike, who: str) -> os.stat_result:
    """`path`'s status if it is a regular file (symbolic links followed); otherwise an error
    naming what it is. Checked with ``os.stat`` before anything opens it.

    Raises:
        FileNotFoundError: nothing there (a dangling symbolic link says so).
        DataFileError: a directory, FIFO, socket or device; a symbolic link loop; unreadable.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise FileNotFoundError(
                f"{who}: {path} is a symbolic link to {os.readlink(path)!r}, which does not "
                "exist; expected a regular file"
            ) from None
        raise FileNotFoundError(f"{who}: no file at {path}") from None
    except OSError as error:
        why = "a symbolic link loop" if error.errno == errno.ELOOP else error.strerror
        raise DataFileError(f"{who}: cannot read {path}: {why}; expected a regular file") from None
    if not stat.S_ISREG(info.st_mode):
        raise DataFileError(f"{who}: {path} is {_kind(info.st_mode)}, not a regular file")
    return info


def open_regular(path: str | os.PathLike, who: str) -> BinaryIO:
    """`path` opened for reading, refused unless it is a regular file.

    Opened non-blocking and checked again on the open descriptor, so a file swapped for a FIFO
    between the check and the open cannot block.
    """
    regular(path, who)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise DataFileError(f"{who}: cannot open {path}: {error.strerror}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise DataFileError(f"{who}: {path} is {_kind(mode)}, not a regular file")
    return os.fdopen(fd, "rb")


class Content:
    """A regular file's content, gunzipped when it starts with gzip's magic, read in pieces.

    ``read(n)`` returns exactly `n` bytes or raises `DataFileError` naming the file, the offset
    and what was being read; ``most`` is the most the file may yield (its size, or
    `GZIP_MAX_RATIO` times that for a gzip file), known before anything is decompressed;
    ``end()`` refuses data beyond what was read. Use as a context manager.
    """

    def __init__(self, path: str | os.PathLike, who: str):
        self.path, self.who = Path(path), who
        self.file = open_regular(self.path, who)
        self.size = os.fstat(self.file.fileno()).st_size
        self.gzip = self.file.read(2) == GZIP_MAGIC
        self.file.seek(0)
        self.most = self.size * GZIP_MAX_RATIO if self.gzip else self.size
        self.stream: BinaryIO = gzip.GzipFile(fileobj=self.file) if self.gzip else self.file
        self.pos = 0  # bytes of content read so far

    def __enter__(self) -> Content:
        return self

    def __exit__(self, *exc) -> None:
        self.stream.close()
        self.file.close()

    def where(self) -> str:
        """The place in the file: ``byte N`` of the content (and of the gzip file)."""
        if self.gzip:
            return f"byte {self.pos} of the gunzipped data (byte {self.file.tell()} of the file)"
        return f"byte {self.pos}"

    def _piece(self, n: int) -> bytes:
        try:
            return self.stream.read(n)
        except (OSError, EOFError, zlib.error) as error:
            raise DataFileError(
                f"{self.who}: {self.path}, {self.where()}: corrupt gzip data "
                f"({type(error).__name__}: {error})"
            ) from None

    def read(self, n: int, what: str) -> bytearray:
        """Exactly `n` bytes, read in pieces of at most `CHUNK`; a short file is an error that
        says how many bytes `what` needed and how many were there."""
        start = self.pos
        if n > self.most - start:
            raise DataFileError(
                f"{self.who}: {self.path}, byte {start}: {what} needs {n} bytes, but "
                + (
                    f"a gzip file of {self.size} bytes is read to at most {self.most} "
                    f"({GZIP_MAX_RATIO} times its size; gunzip a sparser file beforehand)"
                    if self.gzip
                    else f"the file holds {self.size - start} more"
                )
            )
        out = bytearray()
        while len(out) < n:
            piece = self._piece(min(CHUNK, n - len(out)))
            if not piece:
                raise DataFileError(
                    f"{self.who}: {self.path}, byte {start}: {what} needs {n} bytes, but the "
                    f"{'gunzipped ' if self.gzip else ''}file holds {len(out)} more; it is "
                    "truncated or corrupt"
                )
            out += piece
            self.pos += len(piece)
        return out

    def rest(self, limit: int | None = None) -> bytes:
        """Everything left, read in pieces (for formats whose size is the file's); more than
        `limit` bytes is refused as soon as the reader gets there."""
        limit = self.most if limit is None else min(limit, self.most)
        if not self.gzip and self.size - self.pos > limit:
            raise DataFileError(
                f"{self.who}: {self.path} holds {self.size} bytes; expected at most {limit}"
            )
        pieces, count = [], 0
        while piece := self._piece(min(CHUNK, limit + 1 - count)):
            pieces.append(piece)
            count += len(piece)
            self.pos += len(piece)
            if count > limit:
                raise DataFileError(
                    f"{self.who}: {self.path}, {self.where()}: the gunzipped data goes on past "
                    f"{limit} bytes, the most read from a {self.size}-byte gzip file; refused "
                    "(not decompressed further; gunzip a sparser file beforehand)"
                )
        return b"".join(pieces)

    def end(self, what: str) -> None:
        """Refuse anything after what was read (for gzip, this also checks its CRC)."""
        if self._piece(1):
            more = (
                f"{self.size - self.pos} more bytes"
                if not self.gzip
                else "more gunzipped data (not decompressed further)"
            )
            raise DataFileError(
                f"{self.who}: {self.path}, {self.where()}: {what} ends here, but the file holds "
                f"{more}; the file is corrupt or its header is wrong"
            )


def read_bytes(path: Path, who: str | None = None) -> bytes:
    """The file's bytes, gunzipped when it starts with gzip's magic, in bounded pieces; a
    corrupt .gz or a path that is not a regular file is reported naming it."""
    with Content(path, who or path.name) as content:
        return content.rest()
