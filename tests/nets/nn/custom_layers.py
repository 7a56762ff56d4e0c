"""Small user-style layers that the container, table and printing tests are built from."""

import jax.numpy as jnp
import numpy as np

from nets import nn


class Scale(nn.Module):
    """Multiplies by a learnable scalar per channel (dim 1), whatever the spatial size."""

    def __init__(self, c, value=1.0):
        super().__init__()
        self.register_parameter("weight", jnp.full((c,), value, jnp.float32))

    def updateOutput(self, input):
        w = self.weight.reshape((1, -1) + (1,) * (input.ndim - 2))
        self.output = input * w
        return self.output


class Crop(nn.Module):
    """Drops `n` pixels from each spatial border (to make DepthConcat pad)."""

    def __init__(self, n):
        super().__init__()
        self.n = n

    def updateOutput(self, input):
        n = self.n
        self.output = input[..., n : input.shape[-2] - n, n : input.shape[-1] - n]
        return self.output


def sample(shape=(2, 3, 4, 4)):
    """A fixed random NCHW batch."""
    return jnp.asarray(np.random.default_rng(0).normal(size=shape).astype(np.float32))
