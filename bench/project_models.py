"""The project's side of the suite: the same networks built from `nets.nn` layers.

Two ways to run them are measured:

* **compiled step** (``ours``): the network's pure form (``net.split()`` / ``net.call()``)
  inside one `nets.nn.compiler.jit` training step (``jax.jit`` with nets' XLA options) with the
  parameter and buffer arrays donated: what `nn.StochasticGradient` and the `Engine` do;
* **stateful** (``ours stateful``): Torch's ``forward`` / criterion / ``backward`` /
  ``updateParameters``, each a compiled call (the interactive path of issue 2).

``mode`` picks the lowering while the step is traced: ``"fast"`` is the library's default
(`nets.nn.functional` dispatches to `nets.nn.lowering`'s shape-chosen paths, compiled with
`nets.nn.compiler`'s options), ``"plain"`` forces the plain `lax` path and XLA's default
options. Either way the network, the layers and the user's code are the same.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import jax
import jax.numpy as jnp
import numpy as np

from nets import nn
from nets.nn import compiler, lowering
from nets.nn import functional as F  # noqa: N812

from .jax_models import ALEXNET_FEATURES


@contextlib.contextmanager
def lowering_mode(mode: str) -> Iterator[None]:
    """Trace under ``"fast"`` (the library's shape-chosen lowerings), ``"xla"`` (the same
    without oneDNN's native convolutions) or ``"plain"`` (lax only)."""
    with lowering.plain_path(mode == "plain"), lowering.native_off(mode == "xla"):
        yield


def lenet(in_ch: int, pad: int) -> nn.Module:
    """The seed's LeNet-5 with conv1 padded by `pad` (2 for 28x28 input)."""
    net = nn.Sequential()
    net.add(nn.SpatialConvolution(in_ch, 6, 5, 5, 1, 1, pad, pad))
    net.add(nn.ReLU())
    net.add(nn.SpatialMaxPooling(2, 2, 2, 2))
    net.add(nn.SpatialConvolution(6, 16, 5, 5))
    net.add(nn.ReLU())
    net.add(nn.SpatialMaxPooling(2, 2, 2, 2))
    net.add(nn.View(16 * 5 * 5))
    net.add(nn.Linear(16 * 5 * 5, 120))
    net.add(nn.ReLU())
    net.add(nn.Linear(120, 84))
    net.add(nn.ReLU())
    net.add(nn.Linear(84, 10))
    net.add(nn.LogSoftMax())
    return net


def _basic_block(cin: int, cout: int, stride: int) -> nn.Module:
    body = nn.Sequential()
    body.add(nn.SpatialConvolution(cin, cout, 3, 3, stride, stride, 1, 1))
    body.add(nn.SpatialBatchNormalization(cout))
    body.add(nn.ReLU())
    body.add(nn.SpatialConvolution(cout, cout, 3, 3, 1, 1, 1, 1))
    body.add(nn.SpatialBatchNormalization(cout))
    if stride != 1 or cin != cout:
        short = nn.Sequential()
        short.add(nn.SpatialConvolution(cin, cout, 1, 1, stride, stride))
        short.add(nn.SpatialBatchNormalization(cout))
    else:
        short = nn.Identity()
    block = nn.Sequential()
    block.add(nn.ConcatTable().add(body).add(short))
    block.add(nn.CAddTable())
    block.add(nn.ReLU())
    return block


def resnet18() -> tuple[nn.Module, str]:
    """The zoo's ResNet-18 when it has landed, else the same network from nets.nn layers."""
    try:
        from nets import models

        return models.resnet18(), "nets.models.resnet18"
    except (ImportError, AttributeError):
        pass
    net = nn.Sequential()
    net.add(nn.SpatialConvolution(3, 64, 7, 7, 2, 2, 3, 3))
    net.add(nn.SpatialBatchNormalization(64))
    net.add(nn.ReLU())
    net.add(nn.SpatialMaxPooling(3, 3, 2, 2, 1, 1))
    cin = 64
    for stage, cout in enumerate((64, 128, 256, 512)):
        for block in range(2):
            net.add(_basic_block(cin, cout, 2 if stage > 0 and block == 0 else 1))
            cin = cout
    net.add(nn.SpatialAdaptiveAveragePooling(1, 1))
    net.add(nn.View(512))
    net.add(nn.Linear(512, 1000))
    return net, "bench.project_models (nets.nn layers; zoo not landed)"


def alexnet() -> nn.Module:
    """Single-tower AlexNet, as `bench.jax_models.alexnet_apply` (no dropout: inference)."""
    net = nn.Sequential()
    for cin, cout, k, s, pad, pool in ALEXNET_FEATURES:
        net.add(nn.SpatialConvolution(cin, cout, k, k, s, s, pad, pad))
        net.add(nn.ReLU())
        if pool:
            net.add(nn.SpatialMaxPooling(3, 3, 2, 2))
    net.add(nn.View(256 * 6 * 6))
    net.add(nn.Linear(256 * 6 * 6, 4096))
    net.add(nn.ReLU())
    net.add(nn.Linear(4096, 4096))
    net.add(nn.ReLU())
    net.add(nn.Linear(4096, 1000))
    return net


def build(net: str, x_nchw: np.ndarray, **kw) -> nn.Module:
    if net == "lenet":
        return lenet(x_nchw.shape[1], **kw)
    if net == "resnet18":
        return resnet18()[0]
    if net == "resnet50":
        # Bottleneck stride on the 3x3 convolution, as the PyTorch and JAX competitors have it.
        from nets import models

        return models.resnet50(downsample="3x3")
    return alexnet()


def train_step(net: nn.Module, log_probs: bool, lr: float = 0.01) -> Callable:
    """``step(params, buffers, x, y) -> (params, buffers, loss)``: one jitted SGD step."""

    def step(params, buffers, x, y):
        def loss_fn(p):
            out, new_buffers = net.call(p, buffers, x, train=True)
            loss = F.class_nll(out, y) if log_probs else F.cross_entropy(out, y)
            return loss, new_buffers

        (loss, new_buffers), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        params = jax.tree_util.tree_map(lambda w, g: w - lr * g, params, grads)
        return params, new_buffers, loss

    return compiler.jit(step, donate_argnums=(0, 1))


def make_train(net_name: str, mode: str, x_nchw: np.ndarray, y: np.ndarray, **kw) -> Callable:
    net = build(net_name, x_nchw, **kw)
    params, buffers = net.split()
    params = {k: jnp.array(v) for k, v in params.items()}  # own copies: they get donated
    buffers = {k: jnp.array(v) for k, v in buffers.items()}
    with lowering_mode(mode):  # nets' compiler options are read here, the lowering at tracing
        step_fn = train_step(net, log_probs=(net_name == "lenet"))
    x = jnp.asarray(x_nchw)
    yy = jnp.asarray(y)
    state = {"p": params, "b": buffers}

    def step():
        state["p"], state["b"], loss = step_fn(state["p"], state["b"], x, yy)
        loss.block_until_ready()

    with lowering_mode(mode):
        step()  # trace and compile under the chosen lowering
    return step


def make_engine_train(
    net_name: str,
    x_nchw,
    y,
    check_finite: bool,
    check_gradients: bool = False,
    precision: str = "float32",
    **kw,
) -> Callable:
    """The Engine's own compiled step (SGD), with or without its per-step finite checks, in
    the given precision (`nets.engine.precision`): the loss is read back after every step, as
    `Engine.train` does."""
    from nets.engine import Engine
    from nets.engine.engine import _transform

    net = build(net_name, x_nchw, **kw)
    crit = nn.ClassNLLCriterion() if net_name == "lenet" else nn.CrossEntropyCriterion()
    tx, _, tx_key = _transform("sgd", {"learningRate": 0.01})
    engine = Engine(check_finite=check_finite, check_gradients=check_gradients, precision=precision)
    step_fn = engine._train_step(net, crit, tx, tx_key)
    params, buffers = net.split()
    params = {k: jnp.array(v) for k, v in params.items()}
    buffers = {k: jnp.array(v) for k, v in buffers.items()}
    opt = jax.tree.map(jnp.array, tx.init(params))
    if engine.precision.loss_scaling:
        opt = (opt, engine.precision.initial_scale())
    state = {"p": params, "b": buffers, "o": opt, "t": 0}
    x, yy, key = jnp.asarray(x_nchw), jnp.asarray(y), jax.random.key(0)

    def step():
        state["p"], state["b"], state["o"], loss, _ = step_fn(
            state["p"], state["b"], {}, state["o"], x, yy, key, np.int32(state["t"])
        )
        state["t"] += 1
        float(loss)

    step()
    return step


def make_stateful_train(net_name: str, mode: str, x_nchw, y, **kw) -> Callable:
    """Torch's interactive loop: forward, criterion, backward, updateParameters."""
    net = build(net_name, x_nchw, **kw)
    crit = nn.ClassNLLCriterion() if net_name == "lenet" else nn.CrossEntropyCriterion()
    x = jnp.asarray(x_nchw)
    yy = jnp.asarray(y)

    def step():
        net.zeroGradParameters()
        out = net.forward(x)
        crit.forward(out, yy)
        net.backward(x, crit.backward(out, yy))
        net.updateParameters(0.01)
        jax.block_until_ready(net.parameters()[0])

    with lowering_mode(mode):
        step()
    return step


def make_infer(net_name: str, mode: str, x_nchw: np.ndarray, dtype: str = "float32") -> Callable:
    """Inference with the pure form in one ``jax.jit`` (evaluate mode), in `dtype`
    (``net.bfloat16()`` casts every floating-point array, and the input is cast to match)."""
    net = build(net_name, x_nchw)
    net.evaluate()
    net.type(jnp.dtype(dtype))
    params, buffers = net.split()
    with lowering_mode(mode):
        fn = compiler.jit(lambda p, b, x: net.call(p, b, x, train=False)[0])
    x = jnp.asarray(x_nchw)

    def step():
        fn(params, buffers, x).block_until_ready()

    with lowering_mode(mode):
        step()
    return step


def make_stateful_infer(net_name: str, mode: str, x_nchw: np.ndarray) -> Callable:
    """Inference with the user's call, ``net.forward(x)`` in evaluate mode (it also sets every
    sub-module's ``output``, so each layer's result is written out)."""
    net = build(net_name, x_nchw)
    net.evaluate()
    x = jnp.asarray(x_nchw)

    def step():
        net.forward(x).block_until_ready()

    with lowering_mode(mode):
        step()
    return step
