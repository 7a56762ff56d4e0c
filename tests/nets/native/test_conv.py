"""oneDNN's convolutions (nets.native) against the lax path: values and gradients, every
convolution shape of the zoo, the boundary to XLA's path, and a broken library's fallback."""

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nets import models, native, nn
from nets.native import conv as native_conv
from nets.nn import functional as F  # noqa: N812
from nets.nn import lowering as L  # noqa: N812
from nets.summary import _walk
from tests.tolerance import assert_close

needs_native = pytest.mark.skipif(
    not native.load(), reason=f"native kernels not in use: {native.status()}"
)


def _rand(shape, seed):
    return jnp.asarray(np.random.default_rng(seed).standard_normal(shape), jnp.float32)


def _lax(x, w, b, stride, pad):
    with L.plain_path():
        return F.conv2d(x, w, b, stride, pad)


def check_against_lax(xs, ws, stride, pad, bias=True):
    """Forward and both gradients of the native convolution equal the lax path's within the
    float32 bound of their reduction lengths."""
    x, w = _rand(xs, 0), _rand(ws, 1)
    b = _rand(ws[:1], 2) if bias else None
    args = (x, w, b) if bias else (x, w)

    def native_fn(*a):
        return native_conv.conv2d(a[0], a[1], a[2] if bias else None, stride, pad)

    def lax_fn(*a):
        return _lax(a[0], a[1], a[2] if bias else None, stride, pad)

    y, vjp = jax.vjp(jax.jit(native_fn), *args)
    y_ref, vjp_ref = jax.vjp(lax_fn, *args)
    n_out, n_in, kh, kw = ws
    assert y.shape == y_ref.shape
    assert_close(y, y_ref, terms=n_in * kh * kw + 1)
    g = _rand(y_ref.shape, 3)
    grads, grads_ref = vjp(g), vjp_ref(g)
    pixels = xs[0] * y_ref.shape[2] * y_ref.shape[3]
    assert_close(grads[0], grads_ref[0], terms=n_out * kh * kw, err_msg="input gradient")
    assert_close(grads[1], grads_ref[1], terms=pixels, err_msg="weight gradient")
    if bias:
        assert_close(grads[2], grads_ref[2], terms=pixels, err_msg="bias gradient")


BOUNDARY = [
    # (input, weight, stride, padding): odd channel counts, batch 1, padding wider than the
    # kernel, asymmetric strides and kernels, a 1x1 output
    ((2, 3, 9, 9), (5, 3, 3, 3), (1, 1), (1, 1)),
    ((1, 7, 8, 6), (6, 7, 3, 2), (2, 1), (0, 1)),
    ((2, 4, 5, 5), (3, 4, 3, 3), (1, 1), (4, 4)),
    ((1, 16, 3, 3), (8, 16, 3, 3), (1, 1), (0, 0)),
    ((2, 5, 12, 12), (4, 5, 5, 5), (3, 3), (2, 2)),
]


@needs_native
@pytest.mark.parametrize("xs, ws, stride, pad", BOUNDARY)
def test_native_matches_lax_on_boundary_shapes(xs, ws, stride, pad):
    check_against_lax(xs, ws, stride, pad)


@needs_native
def test_native_without_bias():
    check_against_lax((2, 6, 7, 7), (4, 6, 3, 3), (1, 1), (1, 1), bias=False)


def _zoo_convolutions(names):
    """(input shape at batch 1, weight shape, stride, padding) of every convolution the named
    zoo networks run at their own input size, each once."""
    found = {}
    for name in names:
        net = models.abstract(name)

        def visit(m, in_shape, out_shape, name=name):
            if isinstance(m, nn.SpatialConvolution) and getattr(m, "groups", 1) == 1:
                key = (in_shape, tuple(m.weight.shape), (m.dH, m.dW), (m.padH, m.padW))
                found.setdefault(key, name)

        _walk(net, (1, *net.input_size), visit)
    return found


ZOO = ["lenet5", "alexnet", "vgg11", "googlenet", "resnet18", "resnet50"]


@needs_native
@pytest.mark.slow
@pytest.mark.parametrize("names", [ZOO])
def test_native_matches_lax_on_every_zoo_convolution(names):
    for (xs, ws, stride, pad), _ in sorted(_zoo_convolutions(names).items()):
        with L.native_allowed():
            path = L.conv2d_path(xs, ws, stride, pad)
        if path == "dnnl":
            check_against_lax(xs, ws, stride, pad)


def test_unsupported_convolutions_stay_on_xla():
    # groups, float64 and bfloat16 go to XLA's forms, never to an error
    with L.native_allowed():
        assert L.conv2d_path((2, 4, 8, 8), (4, 2, 3, 3), groups=2) != "dnnl"
        assert L.conv2d_path((2, 4, 8, 8), (4, 4, 3, 3), dtype=jnp.bfloat16) != "dnnl"
    assert not native_conv.supported((4, 4, 3, 3), jnp.bfloat16)
    assert not native_conv.supported((4, 4, 3, 3), jnp.float64)
    x, w = _rand((2, 4, 8, 8), 4).astype(jnp.bfloat16), _rand((4, 4, 3, 3), 5).astype(jnp.bfloat16)
    y = L.conv2d(x, w, None, (1, 1), (1, 1))
    assert y.dtype == jnp.bfloat16 and y.shape == (2, 4, 8, 8)
    with L.plain_path():
        assert L.conv2d_path((8, 64, 56, 56), (64, 64, 3, 3), (1, 1), (1, 1)) == "lax"


@needs_native
def test_layer_takes_the_native_path_and_trains():
    net = nn.Sequential().add(nn.SpatialConvolution(8, 16, 3, 3, 1, 1, 1, 1)).add(nn.ReLU())
    x = _rand((2, 8, 6, 6), 6)
    with L.native_allowed():  # as nets.nn.compiler.jit traces
        jaxpr = str(jax.make_jaxpr(lambda p: net.call(p, {}, x)[0])(net.split()[0]))
    assert "NetsDnnlConvForward" in jaxpr
    # a user's own trace (jax.jit, jax.export, ONNX) gets XLA's portable forms
    plain = str(jax.make_jaxpr(lambda p: net.call(p, {}, x)[0])(net.split()[0]))
    assert "NetsDnnlConvForward" not in plain
    compiled_code = jax.jit(lambda p: net.call(p, {}, x)[0]).lower(net.split()[0]).as_text()
    assert "NetsDnnl" not in compiled_code
    y = net.forward(x)
    g = net.backward(x, jnp.ones_like(y))
    with L.plain_path():
        y_ref = nn.Sequential().add(net.modules[0]).add(nn.ReLU()).forward(x)
    assert_close(y, y_ref, terms=8 * 9 + 1)
    assert g.shape == x.shape


def _doctor_line(env):
    code = "import nets.native as n; print('STATUS', n.status())"
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout, run.stderr


def test_a_corrupt_library_gives_one_line_and_xla(tmp_path):
    bogus = tmp_path / "libdnnl.so.3"
    bogus.write_bytes(b"\x7fELF this is not a shared library")
    out, err = _doctor_line({"NETS_DNNL_LIBRARY": str(bogus)})
    assert "STATUS XLA's (native oneDNN kernels unavailable" in out
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("nets: native convolutions unavailable")
    assert str(bogus) in lines[0]


def test_a_missing_library_gives_one_line_and_xla(tmp_path):
    out, err = _doctor_line({"NETS_DNNL_LIBRARY": str(tmp_path / "nowhere.so")})
    assert "library is missing" in out and "nowhere.so" in out
    assert len([line for line in err.splitlines() if line.strip()]) == 1


def test_turned_off_is_quiet():
    out, err = _doctor_line({"NETS_NATIVE": "0"})
    assert "turned off (NETS_NATIVE=0)" in out and err == ""
