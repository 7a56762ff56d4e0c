"""nets.nn.compiler: the XLA options nets compiles its own functions with."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from nets import nn
from nets.nn import compiler, functional, lowering
from tests.tolerance import ELEMENTWISE, assert_close, path_terms

YNN = "xla_cpu_experimental_ynn_fusion_type"


def _conv(x, w):
    return functional.conv2d(x, w, None, (1, 1), (1, 1))


def _args():
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((2, 8, 12, 12), np.float32))
    w = jnp.asarray(rng.standard_normal((8, 8, 3, 3), np.float32))
    return x, w


def test_cpu_options_keep_ynnpack_off_convolutions():
    assert jax.default_backend() == "cpu"
    assert compiler.options() == {YNN: "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT"}
    x, w = _args()
    ours = compiler.jit(_conv).lower(x, w).compile().as_text()
    assert "ynn_fusion" not in ours


def test_results_match_xla_defaults():
    x, w = _args()
    assert_close(compiler.jit(_conv)(x, w), jax.jit(_conv)(x, w), terms=8 * 3 * 3)


def test_jit_passes_other_arguments_through():
    f = compiler.jit(lambda a, n: a * n, static_argnums=1, donate_argnums=0)
    assert float(f(jnp.ones(()), 3)) == 3.0


def test_plain_path_compiles_with_xla_defaults():
    with lowering.plain_path():
        assert compiler.options() == {}


def test_user_xla_flags_win(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", f"--{YNN}=individual_dot")
    assert compiler.options() == {}


def test_module_compiled_calls_use_nets_options(monkeypatch):
    seen = []
    real = compiler.jit

    def spy(fun, **kwargs):
        seen.append(compiler.options())
        return real(fun, **kwargs)

    monkeypatch.setattr(compiler, "jit", spy)
    net = nn.Sequential().add(nn.SpatialConvolution(2, 3, 3, 3)).add(nn.ReLU())
    out = net.forward(jnp.ones((1, 2, 5, 5)))
    assert out.shape == (1, 3, 3, 3)
    # the forward pass, and the sub-module outputs it owes (built now, compiled when read)
    assert seen == [compiler.CPU_OPTIONS] * 2


@pytest.mark.parametrize("plain", [False, True])
def test_same_training_result_either_way(plain):
    """One SGD step of a small conv net agrees with and without nets' options."""
    x, _ = _args()
    net = nn.Sequential().add(nn.SpatialConvolution(8, 4, 3, 3, 1, 1, 1, 1)).add(nn.Tanh())
    params, buffers = net.split()

    def loss(p):
        return jnp.sum(net.call(p, buffers, x)[0] ** 2)

    with lowering.plain_path(plain):
        g = compiler.jit(jax.grad(loss))(params)
    ref = jax.grad(loss)(params)
    # forward: 8*3*3 taps and the bias, tanh, the square; the gradients sum over 2*12*12 pixels
    terms = path_terms(8 * 3 * 3 + 1, ELEMENTWISE, 1, 2 * 12 * 12)
    for k in ref:
        assert_close(g[k], ref[k], terms=terms, err_msg=k)
