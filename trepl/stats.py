"""`stats(x)` and `x?` for an array: shape, dtype, device, bytes, min/max/mean/std, NaN and Inf
counts and a histogram in one line of Unicode blocks.

The numbers come from one jitted reduction on the array's device (only a handful of scalars and
the histogram's counts travel to the host). Beyond `MAX_ELEMENTS` elements the reduction reads
a strided sample (every k-th element) and the page says so. `nonfinite_flag` is the printer's
cheap check for arrays it already holds on the host.
"""

from __future__ import annotations

import functools
from typing import Any

from trepl.timing import imported

MAX_ELEMENTS = 1 << 24  # elements read at most; larger arrays are sampled with a stride
BINS = 16
BLOCKS = " ▁▂▃▄▅▆▇█"


class ArrayStats:
    """What `stats(x)` found; its repr is the page `th` prints.

    kind, shape, dtype, device, nbytes: the array's; count: the elements read (all of them, or
    the sample) of `total`; nan, inf: their counts; min, max, mean, std: over the finite
    elements (None when there are none); histogram: BINS counts from min to max. (A plain
    class, not a dataclass: this module loads with the shell, before its first prompt.)
    """

    def __init__(
        self,
        kind: str,
        shape: tuple[int, ...],
        dtype: str,
        device: str,
        nbytes: int,
        count: int,
        total: int,
        nan: int,
        inf: int,
        min: float | None,  # noqa: A002 - the statistic's name
        max: float | None,  # noqa: A002
        mean: float | None,
        std: float | None,
        histogram: list[int],
    ) -> None:
        self.kind, self.shape, self.dtype, self.device, self.nbytes = (
            kind, shape, dtype, device, nbytes
        )  # fmt: skip
        self.count, self.total, self.nan, self.inf = count, total, nan, inf
        self.min, self.max, self.mean, self.std = min, max, mean, std
        self.histogram = histogram

    @property
    def sampled(self) -> bool:
        return self.count < self.total

    def histogram_line(self) -> str:
        """The counts as block characters (height relative to the fullest bin)."""
        top = max(self.histogram, default=0)
        if top == 0:
            return ""
        steps = len(BLOCKS) - 1
        return "".join(
            BLOCKS[0 if c == 0 else max(1, round(c / top * steps))] for c in self.histogram
        )

    def __repr__(self) -> str:
        from trepl.printer import _bytes_text

        shape = "x".join(map(str, self.shape)) if self.shape else "()"
        size = _bytes_text(self.nbytes)
        lines = [f"{self.kind} of size {shape}, {self.dtype}, {size}, on {self.device}"]
        if self.min is None:
            lines.append("no finite values")
        else:
            lines.append(
                f"min {self.min:.6g}  max {self.max:.6g}  mean {self.mean:.6g}  std {self.std:.6g}"
            )
        bad = f"NaN {self.nan}  Inf {self.inf}"
        if self.nan or self.inf:
            bad += "  (min/max/mean/std over the finite values)"
        lines.append(bad)
        hist = self.histogram_line()
        if hist:
            lines.append(f"{self.min:.3g} |{hist}| {self.max:.3g}")
        if self.sampled:
            lines.append(
                f"(sampled: every {self.total // self.count or 1}th element, {self.count:,} of "
                f"{self.total:,}; counts are of the sample)"
            )
        return "\n".join(lines)


def is_array(value: Any) -> bool:
    """A numpy or JAX array (never imports either)."""
    np = imported("numpy")
    if np is not None and issubclass(type(value), np.ndarray):  # type(): no user code runs
        return True
    jax = imported("jax")
    return jax is not None and issubclass(type(value), jax.Array)


@functools.cache
def _reduction(bins: int) -> Any:
    import jax
    import jax.numpy as jnp

    @jax.jit
    def reduce(flat: Any) -> tuple[Any, ...]:
        x = flat.astype(jnp.float32) if not jnp.issubdtype(flat.dtype, jnp.floating) else flat
        x = x.astype(jnp.promote_types(x.dtype, jnp.float32))
        finite = jnp.isfinite(x)
        n = finite.sum()
        lo = jnp.min(jnp.where(finite, x, jnp.inf))
        hi = jnp.max(jnp.where(finite, x, -jnp.inf))
        mean = jnp.where(finite, x, 0).sum() / jnp.maximum(n, 1)
        var = jnp.where(finite, (x - mean) ** 2, 0).sum() / jnp.maximum(n, 1)
        width = jnp.where(hi > lo, hi - lo, 1)
        index = jnp.clip(((x - lo) / width * bins).astype(jnp.int32), 0, bins - 1)
        counts = jnp.zeros(bins, jnp.int32).at[index].add(finite.astype(jnp.int32))
        return n, lo, hi, mean, jnp.sqrt(var), jnp.isnan(x).sum(), jnp.isinf(x).sum(), counts

    return reduce


def _device_name(value: Any) -> str:
    try:
        devices = sorted(value.devices(), key=lambda d: d.id)
    except Exception:  # noqa: BLE001 - numpy arrays have no devices
        return "host (numpy)"
    if len(devices) > 1:
        return f"{len(devices)} {devices[0].platform} devices"
    return f"{devices[0].platform}:{devices[0].id}"


def stats(x: Any) -> ArrayStats:
    """stats(x): shape, dtype, device, bytes, min/max/mean/std, NaN/Inf counts and a histogram.

    Computed by one jitted reduction on x's device; arrays of more than 2**24 elements are read
    with a stride (the page says so). Also `x?` at the prompt, for an array x.
    """
    if not is_array(x):
        raise TypeError(
            f"stats: expected a numpy or JAX array, got {type(x).__module__}.{type(x).__name__}"
        )
    import jax.numpy as jnp

    dtype = x.dtype
    kind = "jax.Array" if type(x).__module__.startswith("jax") else "numpy.ndarray"
    if not (
        jnp.issubdtype(dtype, jnp.number) or jnp.issubdtype(dtype, jnp.bool_)
    ) or jnp.issubdtype(dtype, jnp.complexfloating):
        raise TypeError(f"stats: expected a real numeric array, got dtype {dtype}")
    total = int(x.size)
    flat = jnp.ravel(x) if kind == "jax.Array" else x.reshape(-1)
    step = -(-total // MAX_ELEMENTS) if total > MAX_ELEMENTS else 1
    if step > 1:
        flat = flat[::step]
    if total == 0:
        return ArrayStats(kind, tuple(x.shape), str(dtype), _device_name(x), int(x.nbytes), 0, 0,
                          0, 0, None, None, None, None, [])  # fmt: skip
    n, lo, hi, mean, std, nan, inf, counts = _reduction(BINS)(flat)
    finite = int(n) > 0
    return ArrayStats(
        kind=kind,
        shape=tuple(x.shape),
        dtype=str(dtype),
        device=_device_name(x),
        nbytes=int(x.nbytes),
        count=int(flat.shape[0]),
        total=total,
        nan=int(nan),
        inf=int(inf),
        min=float(lo) if finite else None,
        max=float(hi) if finite else None,
        mean=float(mean) if finite else None,
        std=float(std) if finite else None,
        histogram=[int(c) for c in counts] if finite else [],
    )


def nonfinite_flag(host: Any) -> str:
    """'NaN!', 'Inf!', 'NaN! Inf!' or '' for a numpy array the printer already holds."""
    np = imported("numpy")
    if np is None or not isinstance(host, np.ndarray) or host.dtype.kind not in "fc":
        return ""
    flags = []
    if np.isnan(host).any():
        flags.append("NaN!")
    if np.isinf(host).any():
        flags.append("Inf!")
    return " ".join(flags)
