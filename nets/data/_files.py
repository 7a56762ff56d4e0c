"""Finding and opening data files, with errors that say which file, where, and where to get it."""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path


class DataFileError(ValueError):
    """A data file exists but is not in the expected format (wrong magic, truncated...)."""


def find(root: str | os.PathLike, names: list[str], dataset: str, url: str) -> Path:
    """The first of `names` that exists under `root`; otherwise a FileNotFoundError that helps."""
    root = Path(root).expanduser()
    for name in names:
        path = root / name
        if path.is_file():
            return path
    tried = ", ".join(str(root / n) for n in names)
    raise FileNotFoundError(
        f"{dataset}: file {names[0]!r} not found; looked for {tried}; download it from {url} "
        f"and unpack it into {root}"
    )


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it starts with gzip's magic; a corrupt .gz is reported."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
                data = f.read()
        except (OSError, EOFError) as error:
            raise DataFileError(f"{path}: corrupt gzip data ({error})") from error
    return data
