"""The plain-JAX reference: the networks written by hand the way a JAX user would.

Parameters are a dict of arrays, the forward pass is a function of them, the training step is
``jax.jit(value_and_grad)`` plus an SGD update with the parameter buffers donated. Each network
can run in NCHW (Torch's layout) or NHWC (Flax's and XLA-CPU's preferred layout); the suite
measures both and takes the faster as the plain-JAX bar.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

Params = dict[str, jax.Array]


class Layout:
    """Dimension numbers and axes for one activation layout."""

    def __init__(self, name: str):
        self.name = name
        self.conv_dims = (name, "OIHW", name)
        self.channel_axis = 1 if name == "NCHW" else 3
        self.spatial = (2, 3) if name == "NCHW" else (1, 2)

    def window(self, kh: int, kw: int) -> tuple[int, int, int, int]:
        return (1, 1, kh, kw) if self.name == "NCHW" else (1, kh, kw, 1)

    def bcast(self, v: jax.Array) -> jax.Array:
        return v.reshape((1, -1, 1, 1) if self.name == "NCHW" else (1, 1, 1, -1))

    def from_nchw(self, x: np.ndarray) -> np.ndarray:
        return x if self.name == "NCHW" else np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def _conv(lay, x, w, b=None, stride=1, pad=0):
    y = lax.conv_general_dilated(
        x, w, (stride, stride), [(pad, pad), (pad, pad)], dimension_numbers=lay.conv_dims
    )
    return y if b is None else y + lay.bcast(b)


def _max_pool(lay, x, k, s, pad=0):
    pads = [(0, 0)] * 4
    for a in lay.spatial:
        pads[a] = (pad, pad)
    return lax.reduce_window(x, -jnp.inf, lax.max, lay.window(k, k), lay.window(s, s), pads)


def _bn(lay, p, name, x, train):
    axes = (0,) + lay.spatial
    if train:
        mean = jnp.mean(x, axes)
        var = jnp.var(x, axes)
    else:
        mean, var = p[name + ".rm"], p[name + ".rv"]
    y = (x - lay.bcast(mean)) * lay.bcast(lax.rsqrt(var + 1e-5))
    return y * lay.bcast(p[name + ".w"]) + lay.bcast(p[name + ".b"]), (mean, var)


def _flatten(lay, x):
    if lay.name == "NHWC":  # flatten in Torch's (C, H, W) order so the Linear weights agree
        x = jnp.transpose(x, (0, 3, 1, 2))
    return x.reshape(x.shape[0], -1)


def _init_conv(rng, p, name, cin, cout, k, bias=True):
    bound = 1.0 / np.sqrt(cin * k * k)
    p[name + ".w"] = rng.uniform(-bound, bound, (cout, cin, k, k)).astype(np.float32)
    if bias:
        p[name + ".b"] = rng.uniform(-bound, bound, (cout,)).astype(np.float32)


def _init_linear(rng, p, name, cin, cout):
    bound = 1.0 / np.sqrt(cin)
    p[name + ".w"] = rng.uniform(-bound, bound, (cout, cin)).astype(np.float32)
    p[name + ".b"] = rng.uniform(-bound, bound, (cout,)).astype(np.float32)


def _linear(p, name, x):
    return x @ p[name + ".w"].T + p[name + ".b"]


# ---------------------------------------------------------------------------- LeNet-5


def lenet_init(in_ch: int = 1, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    p: dict[str, np.ndarray] = {}
    _init_conv(rng, p, "c1", in_ch, 6, 5)
    _init_conv(rng, p, "c2", 6, 16, 5)
    _init_linear(rng, p, "f1", 400, 120)
    _init_linear(rng, p, "f2", 120, 84)
    _init_linear(rng, p, "f3", 84, 10)
    return p


def lenet_apply(lay: Layout, pad: int) -> Callable:
    """The seed's LeNet-5; `pad` is conv1's padding (2 for 28x28 input, 0 for 32x32)."""

    def apply(p, x, train=True):
        x = _max_pool(lay, jax.nn.relu(_conv(lay, x, p["c1.w"], p["c1.b"], pad=pad)), 2, 2)
        x = _max_pool(lay, jax.nn.relu(_conv(lay, x, p["c2.w"], p["c2.b"])), 2, 2)
        x = _flatten(lay, x)
        x = jax.nn.relu(_linear(p, "f1", x))
        x = jax.nn.relu(_linear(p, "f2", x))
        return jax.nn.log_softmax(_linear(p, "f3", x)), {}

    return apply


# ---------------------------------------------------------------------------- ResNet

# depth -> (block, blocks per stage): Table 1 of He et al. 2016.
RESNET_BLOCKS = {18: ("basic", (2, 2, 2, 2)), 50: ("bottleneck", (3, 4, 6, 3))}


def _blocks(depth: int):
    """(name, kind, cin, width, cout, stride) of every residual block, in order."""
    kind, counts = RESNET_BLOCKS[depth]
    expansion = 4 if kind == "bottleneck" else 1
    cin = 64
    for stage, (width, count) in enumerate(zip((64, 128, 256, 512), counts, strict=True)):
        for block in range(count):
            stride = 2 if stage > 0 and block == 0 else 1
            yield f"s{stage}b{block}", kind, cin, width, width * expansion, stride
            cin = width * expansion


def resnet_init(depth: int, num_classes: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    p: dict[str, np.ndarray] = {}

    def bn(name, c):
        p[name + ".w"] = np.ones(c, np.float32)
        p[name + ".b"] = np.zeros(c, np.float32)
        p[name + ".rm"] = np.zeros(c, np.float32)
        p[name + ".rv"] = np.ones(c, np.float32)

    _init_conv(rng, p, "stem", 3, 64, 7, bias=False)
    bn("stem.bn", 64)
    cout = 64
    for name, kind, cin, width, cout, stride in _blocks(depth):
        if kind == "basic":
            convs = [(cin, width, 3), (width, cout, 3)]
        else:
            convs = [(cin, width, 1), (width, width, 3), (width, cout, 1)]
        for i, (a, b, k) in enumerate(convs, 1):
            _init_conv(rng, p, f"{name}.c{i}", a, b, k, bias=False)
            bn(f"{name}.bn{i}", b)
        if stride != 1 or cin != cout:
            _init_conv(rng, p, name + ".down", cin, cout, 1, bias=False)
            bn(name + ".down.bn", cout)
    _init_linear(rng, p, "fc", cout, num_classes)
    return p


def resnet_apply(lay: Layout, depth: int) -> Callable:
    """ResNet (He et al. 2016) with batch norm; returns (logits, new running stats). Bottleneck
    blocks carry their stride on the 3x3 convolution, as torchvision's do."""

    def apply(p, x, train=True):
        stats = {}

        def bn(name, x):
            y, (mean, var) = _bn(lay, p, name, x, train)
            if train:
                n = x.size // x.shape[lay.channel_axis]
                stats[name + ".rm"] = 0.9 * p[name + ".rm"] + 0.1 * lax.stop_gradient(mean)
                stats[name + ".rv"] = 0.9 * p[name + ".rv"] + 0.1 * lax.stop_gradient(
                    var * n / (n - 1)
                )
            return y

        x = jax.nn.relu(bn("stem.bn", _conv(lay, x, p["stem.w"], stride=2, pad=3)))
        x = _max_pool(lay, x, 3, 2, pad=1)
        for name, kind, _, _, _, stride in _blocks(depth):
            if kind == "basic":
                convs = [(stride, 1), (1, 1)]
            else:
                convs = [(1, 0), (stride, 1), (1, 0)]
            y = x
            for i, (s, pad) in enumerate(convs, 1):
                y = bn(f"{name}.bn{i}", _conv(lay, y, p[f"{name}.c{i}.w"], None, s, pad))
                if i < len(convs):
                    y = jax.nn.relu(y)
            if name + ".down.w" in p:
                x = bn(name + ".down.bn", _conv(lay, x, p[name + ".down.w"], None, stride))
            x = jax.nn.relu(x + y)
        x = jnp.mean(x, axis=lay.spatial)
        return _linear(p, "fc", x), stats

    return apply


def resnet18_init(num_classes: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    return resnet_init(18, num_classes, seed)


def resnet18_apply(lay: Layout) -> Callable:
    return resnet_apply(lay, 18)


def resnet50_init(num_classes: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    return resnet_init(50, num_classes, seed)


def resnet50_apply(lay: Layout) -> Callable:
    return resnet_apply(lay, 50)


# ---------------------------------------------------------------------------- AlexNet


ALEXNET_FEATURES = ((3, 64, 11, 4, 2, True), (64, 192, 5, 1, 2, True), (192, 384, 3, 1, 1, False))
ALEXNET_FEATURES += ((384, 256, 3, 1, 1, False), (256, 256, 3, 1, 1, True))


def alexnet_init(num_classes: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    p: dict[str, np.ndarray] = {}
    for i, (cin, cout, k, _, _, _) in enumerate(ALEXNET_FEATURES):
        _init_conv(rng, p, f"c{i}", cin, cout, k)
    _init_linear(rng, p, "f0", 256 * 6 * 6, 4096)
    _init_linear(rng, p, "f1", 4096, 4096)
    _init_linear(rng, p, "f2", 4096, num_classes)
    return p


def alexnet_apply(lay: Layout) -> Callable:
    """Single-tower AlexNet as in torchvision (Krizhevsky 2014, 'one weird trick'), no dropout."""

    def apply(p, x, train=False):
        for i, (_, _, _, s, pad, pool) in enumerate(ALEXNET_FEATURES):
            x = jax.nn.relu(_conv(lay, x, p[f"c{i}.w"], p[f"c{i}.b"], s, pad))
            if pool:
                x = _max_pool(lay, x, 3, 2)
        x = _flatten(lay, x)  # 224x224 input gives 6x6 here: no adaptive pooling needed
        x = jax.nn.relu(_linear(p, "f0", x))
        x = jax.nn.relu(_linear(p, "f1", x))
        return _linear(p, "f2", x), {}

    return apply


# ---------------------------------------------------------------------------- steps

BUILDERS = {
    "lenet": (lenet_init, lenet_apply),
    "resnet18": (resnet18_init, resnet18_apply),
    "resnet50": (resnet50_init, resnet50_apply),
    "alexnet": (alexnet_init, alexnet_apply),
}


def nll(logits_or_logp: jax.Array, y: jax.Array, log_probs: bool) -> jax.Array:
    logp = logits_or_logp if log_probs else jax.nn.log_softmax(logits_or_logp)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def train_step(apply: Callable, log_probs: bool, lr: float = 0.01) -> Callable:
    """``step(params, stats, x, y) -> (params, stats, loss)``, jitted, params donated."""

    def step(params, stats, x, y):
        def loss_fn(p):
            out, new_stats = apply({**p, **stats}, x, True)
            return nll(out, y, log_probs), new_stats

        (loss, new_stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        params = jax.tree_util.tree_map(lambda w, g: w - lr * g, params, grads)
        return params, {**stats, **new_stats}, loss

    return jax.jit(step, donate_argnums=(0, 1))


def split_stats(p: dict) -> tuple[dict, dict]:
    """(trainable params, running statistics) of a flat parameter dict."""
    stats = {k: v for k, v in p.items() if k.endswith((".rm", ".rv"))}
    return {k: v for k, v in p.items() if k not in stats}, stats


def make_train(net: str, layout: str, x_nchw: np.ndarray, y: np.ndarray, **kw) -> Callable:
    """Set up a training loop on fixed data; returns the blocking step closure."""
    init, apply_of = BUILDERS[net]
    lay = Layout(layout)
    apply = apply_of(lay, **kw)
    params, stats = split_stats(
        {k: jnp.asarray(v) for k, v in init(**_init_kw(net, x_nchw)).items()}
    )
    x = jnp.asarray(lay.from_nchw(x_nchw))
    yy = jnp.asarray(y)
    step_fn = train_step(apply, log_probs=(net == "lenet"))
    state = {"p": params, "s": stats}

    def step():
        state["p"], state["s"], loss = step_fn(state["p"], state["s"], x, yy)
        loss.block_until_ready()

    return step


def make_infer(net: str, layout: str, x_nchw: np.ndarray) -> Callable:
    init, apply_of = BUILDERS[net]
    lay = Layout(layout)
    apply = apply_of(lay)
    params = {k: jnp.asarray(v) for k, v in init(**_init_kw(net, x_nchw)).items()}
    fn = jax.jit(lambda p, x: apply(p, x, False)[0])
    x = jnp.asarray(lay.from_nchw(x_nchw))

    def step():
        fn(params, x).block_until_ready()

    return step


def _init_kw(net: str, x_nchw: np.ndarray) -> dict:
    return {"in_ch": x_nchw.shape[1]} if net == "lenet" else {}


def forward_flops(net: str, x_nchw: np.ndarray, **kw) -> float:
    """Forward-pass FLOPs from XLA's cost analysis of the NCHW reference (convs + matmuls)."""
    init, apply_of = BUILDERS[net]
    apply = apply_of(Layout("NCHW"), **kw)
    params = {k: jnp.asarray(v) for k, v in init(**_init_kw(net, x_nchw)).items()}
    fn = jax.jit(lambda p, x: apply(p, x, False)[0])
    cost = fn.lower(params, jnp.asarray(x_nchw)).compile().cost_analysis()
    if isinstance(cost, list):
        cost = cost[0]
    return float(cost.get("flops", 0.0))
