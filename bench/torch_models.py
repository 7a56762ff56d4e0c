"""The PyTorch competitor: the same networks in PyTorch CPU eager mode.

Written here by hand (no torchvision needed) to match `bench.jax_models` layer for layer.
Each row runs in NCHW and channels_last, with PyTorch's default thread count and with one
thread; the fastest is the bar.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from .jax_models import ALEXNET_FEATURES, RESNET_BLOCKS

# PyTorch's own default, read once: the suite changes the setting between competitors.
_DEFAULT_THREADS = torch.get_num_threads()


def lenet(in_ch: int, pad: int) -> nn.Module:
    """The seed's LeNet-5 (conv1 padded by `pad`), ending in LogSoftMax as in the seed."""
    return nn.Sequential(
        nn.Conv2d(in_ch, 6, 5, padding=pad),
        nn.ReLU(),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
        nn.LogSoftmax(dim=1),
    )


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x):
        y = torch.relu(self.bn1(self.c1(x)))
        y = self.bn2(self.c2(y))
        return torch.relu(y + (x if self.down is None else self.down(x)))


class _Bottleneck(nn.Module):
    """1x1, 3x3 (carrying the stride, as torchvision's), 1x1 to 4x the width."""

    def __init__(self, cin: int, width: int, stride: int):
        super().__init__()
        cout = 4 * width
        self.body = nn.Sequential(
            nn.Conv2d(cin, width, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, stride, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        )
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x):
        return torch.relu(self.body(x) + (x if self.down is None else self.down(x)))


def resnet(depth: int, num_classes: int = 1000) -> nn.Module:
    """ResNet-18 (basic blocks) or ResNet-50 (bottlenecks), as `bench.jax_models.resnet_apply`."""
    kind, counts = RESNET_BLOCKS[depth]
    layers: list[nn.Module] = [
        nn.Conv2d(3, 64, 7, 2, 3, bias=False),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.MaxPool2d(3, 2, 1),
    ]
    cin = 64
    for stage, (width, count) in enumerate(zip((64, 128, 256, 512), counts, strict=True)):
        for block in range(count):
            stride = 2 if stage > 0 and block == 0 else 1
            if kind == "basic":
                layers.append(_Block(cin, width, stride))
                cin = width
            else:
                layers.append(_Bottleneck(cin, width, stride))
                cin = 4 * width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, num_classes)]
    return nn.Sequential(*layers)


def alexnet(num_classes: int = 1000) -> nn.Module:
    layers: list[nn.Module] = []
    for cin, cout, k, s, pad, pool in ALEXNET_FEATURES:
        layers += [nn.Conv2d(cin, cout, k, s, pad), nn.ReLU()]
        if pool:
            layers.append(nn.MaxPool2d(3, 2))
    layers += [nn.Flatten(), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(), nn.Linear(4096, 4096)]
    layers += [nn.ReLU(), nn.Linear(4096, num_classes)]
    return nn.Sequential(*layers)


def _build(net: str, x: np.ndarray, **kw) -> nn.Module:
    if net == "lenet":
        return lenet(x.shape[1], **kw)
    if net.startswith("resnet"):
        return resnet(int(net.removeprefix("resnet")))
    return alexnet()


def _prepare(net: str, x_nchw: np.ndarray, channels_last: bool, **kw):
    torch.manual_seed(0)
    model = _build(net, x_nchw, **kw)
    x = torch.from_numpy(np.ascontiguousarray(x_nchw))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    return model, x


def _inductor_importable() -> None:
    """Some PyTorch builds (2.13.0+cpu among them) ship an inductor whose CUDA-only CuteDSL
    code imports a name its own module lacks, so `torch.compile` fails on import on every
    device. Supply the name (it is reached only when generating CUDA kernels) so the CPU path,
    which never calls it, can import."""
    import importlib

    try:
        overrides = importlib.import_module("torch._inductor.codegen.cutedsl.cutedsl_op_overrides")
    except ImportError:
        return
    if not hasattr(overrides, "tensorssa_reduction"):

        def tensorssa_reduction(*args, **kwargs):
            raise NotImplementedError("CuteDSL reductions (CUDA only) are missing in this build")

        overrides.tensorssa_reduction = tensorssa_reduction


def compiled(model: nn.Module) -> nn.Module:
    """`torch.compile` with its defaults (TorchInductor, which generates C++/OpenMP on the CPU).
    The first call compiles; the suite reports it as the competitor's compile time.

    Dynamo keeps at most 8 compiled versions of one piece of code by default and then runs it
    eagerly without a word; the suite compiles the same block classes for many models, so the
    limits are raised to keep every competitor compiled."""
    _inductor_importable()
    import torch._dynamo

    torch._dynamo.config.cache_size_limit = 1024
    torch._dynamo.config.accumulated_cache_size_limit = 4096
    return torch.compile(model)


def make_train(
    net: str,
    channels_last: bool,
    x_nchw: np.ndarray,
    y: np.ndarray,
    compile: bool = False,
    autocast: str | None = None,
    **kw,
) -> Callable:
    """One SGD step (lr 0.01): forward, NLL loss, backward, update (the forward and backward
    through `torch.compile` when `compile`, under `torch.autocast` in `autocast`'s dtype when
    given)."""
    model, x = _prepare(net, x_nchw, channels_last, **kw)
    model.train()
    params = list(model.parameters())
    if compile:
        model = compiled(model)
    target = torch.from_numpy(y.astype(np.int64))
    opt = torch.optim.SGD(params, lr=0.01)
    log_probs = net == "lenet"

    def step():
        opt.zero_grad(set_to_none=True)
        with _autocast(autocast):
            out = model(x)
        loss = (
            nn.functional.nll_loss(out.float(), target)
            if log_probs
            else nn.functional.cross_entropy(out.float(), target)
        )
        loss.backward()
        opt.step()

    return step


def make_infer(
    net: str,
    channels_last: bool,
    x_nchw: np.ndarray,
    compile: bool = False,
    autocast: str | None = None,
) -> Callable:
    model, x = _prepare(net, x_nchw, channels_last)
    model.eval()
    if compile:
        model = compiled(model)

    def step():
        with torch.inference_mode(), _autocast(autocast):
            model(x)

    return step


def _autocast(dtype: str | None):
    """`torch.autocast` on the CPU in `dtype` (PyTorch's mixed precision), or nothing."""
    import contextlib

    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast("cpu", dtype=getattr(torch, dtype))


def threads(n: int) -> Callable[[], None]:
    """A `Runner.before` hook that sets PyTorch's intra-op thread count."""

    def before():
        torch.set_num_threads(n)

    return before


def default_threads() -> int:
    """PyTorch's default intra-op thread count (as it was when this module was imported)."""
    return _DEFAULT_THREADS


def matmul_gflops(n: int = 2048, reps: int = 5) -> float:
    """PyTorch's fp32 matrix-multiply rate at its default thread count (best of `reps`)."""
    import time

    a = torch.randn(n, n)
    b = torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9
