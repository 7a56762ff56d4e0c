"""nn.Jacobian, and through it every layer's gradients against finite differences.

The sweep runs each layer in batch and single-sample form: ``testAll`` checks d output / d input
and d output / d every parameter (the module's own ``backward`` against central differences,
in float64).
"""

import jax.numpy as jnp
import numpy as np
import pytest

from nets import nn
from nets._errors import NetsError
from tests.nets.nn import (
    test_normalization,
    test_padding,
    test_pooling,
    test_simple,
    test_upsampling,
)
from tests.nets.nn.test_convolution import MORE_CONVOLUTIONS
from tests.nets.nn.test_feature_activations import FEATURE_ACTIVATIONS
from tests.nets.nn.test_pooling import MORE_POOLING
from tests.nets.nn.test_transfer import ELEMENTWISE_LAYERS
from tests.tolerance import assert_close

# Central differences in float64 with Torch7's step h = 1e-6: truncation h**2/6 times the third
# derivative, rounding ~ terms * eps64 * |f| / h (about 1e-9 here); Torch7's 1e-6 bound.
TOL = 1e-6


def _eval(m):
    return m.evaluate()


# name: (builder, batch input shape, single-sample input shape or None)
LAYERS = {
    "Linear": (lambda: nn.Linear(3, 2), (2, 3), (3,)),
    "SpatialConvolution": (
        lambda: nn.SpatialConvolution(2, 2, 2, 2, 2, 1, 1),
        (2, 2, 3, 3),
        (2, 3, 3),
    ),
    "SpatialConvolution-groups": (
        lambda: nn.SpatialConvolution(2, 4, 2, 2, groups=2),
        (1, 2, 3, 3),
        None,
    ),
    "SpatialConvolutionMap": (
        lambda: nn.SpatialConvolutionMap(np.array([[0, 0], [1, 0], [1, 1]]), 2, 2),
        (2, 2, 3, 3),
        (2, 3, 3),
    ),
    "SpatialMaxPooling-ceil": (
        lambda: nn.SpatialMaxPooling(2, 2, 2, 2).ceil(),
        (2, 2, 3, 3),
        (2, 3, 3),
    ),
    "SpatialAveragePooling-pad": (
        lambda: nn.SpatialAveragePooling(3, 3, 2, 2, 1, 1).ceil(),
        (2, 2, 4, 4),
        (2, 4, 4),
    ),
    "SpatialAdaptiveAveragePooling": (
        lambda: nn.SpatialAdaptiveAveragePooling(2, 2),
        (1, 2, 3, 3),
        (2, 3, 3),
    ),
    "SpatialSubSampling": (lambda: nn.SpatialSubSampling(2, 2, 2, 1, 1), (2, 2, 3, 3), (2, 3, 3)),
    "SpatialCrossMapLRN": (lambda: nn.SpatialCrossMapLRN(3, 0.5, 0.75, 1), (2, 4, 2, 2), (4, 2, 2)),
    "BatchNormalization": (lambda: nn.BatchNormalization(3), (4, 3), None),
    "BatchNormalization-eval": (lambda: _eval(nn.BatchNormalization(3)), (4, 3), (3,)),
    "SpatialBatchNormalization": (lambda: nn.SpatialBatchNormalization(2), (2, 2, 2, 2), (2, 2, 2)),
    "SpatialZeroPadding": (lambda: nn.SpatialZeroPadding(1, -1, 0, 1), (2, 2, 3, 3), (2, 3, 3)),
    "View": (lambda: nn.View(-1), (2, 2, 3), (2, 3)),
    "Reshape": (lambda: nn.Reshape(3, 2), (2, 6), (6,)),
    "MulConstant": (lambda: nn.MulConstant(1.5), (2, 3), (3,)),
    "Identity": (lambda: nn.Identity(), (2, 3), (3,)),
    "Dropout-eval": (lambda: _eval(nn.Dropout(0.3)), (2, 3), (3,)),
    "SpatialDropout-eval": (lambda: _eval(nn.SpatialDropout(0.3)), (2, 2, 2, 2), (2, 2, 2)),
    "ReLU": (lambda: nn.ReLU(), (2, 3), (3,)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.1), (2, 3), (3,)),
    "ELU": (lambda: nn.ELU(0.7), (2, 3), (3,)),
    "Tanh": (lambda: nn.Tanh(), (2, 3), (3,)),
    "Sigmoid": (lambda: nn.Sigmoid(), (2, 3), (3,)),
    "SoftMax": (lambda: nn.SoftMax(), (2, 3), (3,)),
    "LogSoftMax-spatial": (lambda: nn.LogSoftMax(), (1, 3, 2, 2), (3, 2, 2)),
    # issue 19, the convolution family
    "SpatialFullConvolution": (
        lambda: nn.SpatialFullConvolution(2, 2, 3, 2, 2, 1, 1, 0, 1, 0),
        (1, 2, 2, 2),
        (2, 2, 2),
    ),
    "SpatialDilatedConvolution": (
        lambda: nn.SpatialDilatedConvolution(1, 2, 2, 2, 1, 1, 1, 0, 2, 1),
        (2, 1, 3, 3),
        (1, 3, 3),
    ),
    "TemporalConvolution": (lambda: nn.TemporalConvolution(2, 2, 2, 2), (2, 4, 2), (4, 2)),
    "VolumetricConvolution": (
        lambda: nn.VolumetricConvolution(1, 2, 2, 2, 1, 1, 1, 1, 1, 0, 0),
        (1, 1, 2, 2, 2),
        (1, 2, 2, 2),
    ),
    "SpatialDilatedMaxPooling": (
        lambda: nn.SpatialDilatedMaxPooling(2, 2, 1, 1, 1, 0, 2, 1).ceil(),
        (2, 1, 3, 3),
        (1, 3, 3),
    ),
    "SpatialFractionalMaxPooling": (
        lambda: nn.SpatialFractionalMaxPooling(2, 2, 2, 3),
        (2, 1, 5, 4),
        (1, 5, 4),
    ),
    "SpatialLPPooling": (lambda: nn.SpatialLPPooling(1, 2, 2, 2, 1, 1), (2, 1, 3, 3), (1, 3, 3)),
    "TemporalMaxPooling": (lambda: nn.TemporalMaxPooling(2, 1), (2, 3, 2), (3, 2)),
    "VolumetricMaxPooling": (
        lambda: nn.VolumetricMaxPooling(2, 2, 2, 1, 1, 1, 1, 0, 0).ceil(),
        (1, 1, 2, 3, 3),
        (1, 2, 3, 3),
    ),
    "VolumetricAveragePooling": (
        lambda: nn.VolumetricAveragePooling(2, 2, 2, 1, 1, 1),
        (1, 1, 3, 3, 2),
        (1, 3, 3, 2),
    ),
    "SpatialReflectionPadding": (
        lambda: nn.SpatialReflectionPadding(2, -1, 1, 0),
        (1, 2, 2, 3),
        (2, 2, 3),
    ),
    "SpatialReplicationPadding": (
        lambda: nn.SpatialReplicationPadding(1, 2, -1, 1),
        (1, 2, 2, 3),
        (2, 2, 3),
    ),
    "SpatialUpSamplingNearest": (lambda: nn.SpatialUpSamplingNearest(2), (2, 1, 2, 2), (1, 2, 2)),
    "SpatialUpSamplingBilinear": (
        lambda: nn.SpatialUpSamplingBilinear({"oheight": 3, "owidth": 4}),
        (2, 1, 2, 2),
        (1, 2, 2),
    ),
    "VolumetricBatchNormalization": (
        lambda: nn.VolumetricBatchNormalization(2),
        (2, 2, 1, 2, 1),
        None,
    ),
    "VolumetricBatchNormalization-eval": (
        lambda: _eval(nn.VolumetricBatchNormalization(2)),
        (1, 2, 1, 2, 2),
        (2, 1, 2, 2),
    ),
    "SpatialSubtractiveNormalization": (
        lambda: nn.SpatialSubtractiveNormalization(2, np.ones((3, 1))),
        (1, 2, 3, 2),
        (2, 3, 2),
    ),
    "SpatialDivisiveNormalization": (
        lambda: nn.SpatialDivisiveNormalization(2, np.array([1.0, 2.0, 1.0])),
        (1, 2, 2, 3),
        (2, 2, 3),
    ),
    "SpatialContrastiveNormalization": (
        lambda: nn.SpatialContrastiveNormalization(1, np.ones((3, 3))),
        (2, 1, 3, 3),
        (1, 3, 3),
    ),
}

CASES = [
    pytest.param(name, form, id=f"{name}-{form}")
    for name, (_, batch, single) in LAYERS.items()
    for form in ("batch", "single")
    if form == "batch" or single is not None
]


@pytest.mark.parametrize("name,form", CASES)
def test_layer_gradients_match_finite_differences(name, form):
    build, batch, single = LAYERS[name]
    module = build()
    errors = nn.Jacobian.testAll(module, jnp.zeros(batch if form == "batch" else single))
    assert set(errors) == {"input", *module.split()[0]}
    assert max(errors.values()) < TOL, errors


def test_every_layer_in_nn_is_in_the_sweep():
    checked = {name.split("-")[0] for name in LAYERS}
    # issue 19's transfer functions: checked side by side, one compiled check per form
    checked |= {type(build()).__name__ for build in ELEMENTWISE_LAYERS}
    checked |= {"SpatialSoftMax", "SpatialLogSoftMax"}
    # issue 19's later layers, checked in their own files, several to one compiled check
    checked |= {type(build()).__name__ for build in FEATURE_ACTIVATIONS}
    checked |= {type(build()).__name__ for build, _ in MORE_CONVOLUTIONS}
    checked |= {type(build(True)).__name__ for build, _ in MORE_POOLING}
    for part in (test_simple, test_normalization, test_padding, test_pooling, test_upsampling):
        checked |= part.FINITE_DIFFERENCES
    layers = {
        n
        for n in dir(nn)
        if isinstance(getattr(nn, n), type)
        and issubclass(getattr(nn, n), nn.Module)
        and getattr(nn, n).__module__.split(".")[-1]
        in (
            "simple",
            "convolution",
            "pooling",
            "normalization",
            "transfer",
            "padding",
            "upsampling",
            "feature_activations",
        )
    }
    assert layers <= checked, sorted(layers - checked)


def test_torch_style_calls_and_matrices():
    m = nn.Linear(3, 2)
    x = jnp.zeros((2, 3))
    assert nn.Jacobian.testJacobian(m, x) < TOL
    assert nn.Jacobian.testJacobianParameters(m, x, m.weight, m.gradWeight) < TOL
    assert nn.Jacobian.testJacobianParameters(m, x, "bias") < TOL
    # the module itself is untouched: still float32, same weights
    assert m.weight.dtype == jnp.float32
    fwd = nn.Jacobian.forward(m, x + 1.0, "bias", perturbation=1e-2)
    bwd = nn.Jacobian.backward(m, x + 1.0, "bias")
    assert fwd.shape == bwd.shape == (2, 4)
    np.testing.assert_array_equal(bwd, np.tile(np.eye(2), 2))  # sums of one-hot rows: exact
    # central differences of an affine map have no truncation error: only the float32 rounding of
    # the two outputs (3 inputs and the bias: 4 terms), divided by the step 1e-2
    scale = float(jnp.max(jnp.abs(m.forward(x + 1.0)))) / 1e-2
    assert_close(fwd, bwd, terms=4, scale=scale)


class _BadBackward(nn.Module):
    """A custom layer whose hand-written backward is wrong by a factor of 2."""

    def updateOutput(self, input):
        self.output = input * input
        return self.output

    def updateGradInput(self, input, gradOutput):
        self.gradInput = 4 * input * gradOutput
        return self.gradInput


class _GoodBackward(_BadBackward):
    def updateGradInput(self, input, gradOutput):
        self.gradInput = 2 * input * gradOutput
        return self.gradInput


def test_jacobian_catches_a_wrong_hand_written_backward():
    x = jnp.zeros((2, 3))
    assert nn.Jacobian.testJacobian(_GoodBackward(), x) < TOL
    assert nn.Jacobian.testJacobian(_BadBackward(), x) > 0.1


def test_criterion_check_and_errors():
    x = np.random.default_rng(0).standard_normal((3, 4))
    assert nn.Jacobian.testCriterion(nn.CrossEntropyCriterion(), x, np.array([0, 3, 1])) < TOL
    assert nn.Jacobian.testCriterion(nn.SmoothL1Criterion(), x, np.zeros((3, 4))) < TOL
    m = nn.Linear(3, 2)
    with pytest.raises(
        NetsError, match=r"has no parameter 'weights'; expected one of \['bias', 'weight'\]"
    ):
        nn.Jacobian.testJacobianParameters(m, jnp.zeros(3), "weights")
    with pytest.raises(NetsError, match="the given array is not a parameter"):
        nn.Jacobian.testJacobianParameters(m, jnp.zeros(3), jnp.zeros(2))
