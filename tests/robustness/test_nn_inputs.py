"""Bad input to nets.nn, as a hostile user writes it (issue 18): each case must end in a clear
error naming the module, the argument's meaning (or both shapes) and the value given.

Each table row: (case, expected error class, words the message must hold).
"""

import re

import jax.numpy as jnp
import numpy as np
import pytest

from nets import nn
from nets._errors import ModuleError

# ----------------------------------------------------------------------------- constructors

CONSTRUCTORS = [
    # simple
    ("nn.Linear(0, 2)", ModuleError, ["nn.Linear", "inputSize", "size of each input", "got 0"]),
    ("nn.Linear(4, -1)", ModuleError, ["nn.Linear", "outputSize", "got -1"]),
    ("nn.Linear(2.5, 2)", ModuleError, ["nn.Linear", "integer", "got 2.5 (float)"]),
    ("nn.Linear(True, 2)", ModuleError, ["nn.Linear", "inputSize", "got True (bool)"]),
    ("nn.Linear('4', 2)", ModuleError, ["nn.Linear", "got '4' (str)"]),
    ("nn.View(0)", ValueError, ["nn.View", "positive", "(0,)"]),
    ("nn.View(2.5)", ValueError, ["nn.View", "integer sizes", "2.5"]),
    ("nn.Reshape(-2)", ValueError, ["nn.Reshape", "positive", "-2"]),
    ("nn.MulConstant('2')", ModuleError, ["nn.MulConstant", "constant_scalar", "got '2'"]),
    ("nn.MulConstant(float('nan'))", ModuleError, ["nn.MulConstant", "finite", "nan"]),
    ("nn.Dropout(1.0)", ValueError, ["nn.Dropout", "0 <= p < 1", "1.0"]),
    ("nn.Dropout(True)", ValueError, ["nn.Dropout", "0 <= p < 1", "True"]),
    ("nn.SpatialDropout(-0.5)", ValueError, ["nn.SpatialDropout", "-0.5"]),
    ("nn.SpatialZeroPadding(1.5)", ModuleError, ["nn.SpatialZeroPadding", "pad_l", "1.5"]),
    # convolution
    (
        "nn.SpatialConvolution(3, 6, 3, 3, 0, 0)",
        ModuleError,
        ["nn.SpatialConvolution", "dW", "step of the window", "got 0"],
    ),
    (
        "nn.SpatialConvolution(3, 6, 3, 3, 1, 0)",
        ModuleError,
        ["nn.SpatialConvolution", "dH", "got 0"],
    ),
    (
        "nn.SpatialConvolution(0, 6, 3, 3)",
        ModuleError,
        ["nn.SpatialConvolution", "nInputPlane", "number of input planes", "got 0"],
    ),
    ("nn.SpatialConvolution(3, 0, 3, 3)", ModuleError, ["nOutputPlane", "got 0"]),
    ("nn.SpatialConvolution(3, 6, 0, 3)", ModuleError, ["kW", "kernel width", "got 0"]),
    ("nn.SpatialConvolution(3, 6, 3, -3)", ModuleError, ["kH", "kernel height", "got -3"]),
    (
        "nn.SpatialConvolution(3, 6, 3, 3, 1, 1, -1)",
        ModuleError,
        ["padW", "zeros added", ">= 0", "got -1"],
    ),
    ("nn.SpatialConvolution(3, 6, 3, 3, 1, 1, 0, -2)", ModuleError, ["padH", "got -2"]),
    ("nn.SpatialConvolution(3, 6, 3.0, 3)", ModuleError, ["kW", "integer", "3.0 (float)"]),
    ("nn.SpatialConvolution(3, 6, 3, 3, False)", ModuleError, ["dW", "False (bool)"]),
    ("nn.SpatialConvolution(4, 6, 3, 3, groups=0)", ModuleError, ["groups", "got 0"]),
    ("nn.SpatialConvolution(4, 6, 3, 3, groups=4)", ValueError, ["divisible by groups (4)"]),
    (
        "nn.SpatialConvolutionMap(nn.tables.full(2, 3), 3, 3, 0)",
        ModuleError,
        ["nn.SpatialConvolutionMap", "dW", "got 0"],
    ),
    (
        "nn.SpatialConvolutionMap(nn.tables.full(2, 3), 0, 3)",
        ModuleError,
        ["nn.SpatialConvolutionMap", "kW", "got 0"],
    ),
    ("nn.SpatialConvolutionMap([[0, -1]], 3, 3)", ValueError, ["non-negative integer"]),
    # pooling
    (
        "nn.SpatialMaxPooling(2, 2, 0, 0)",
        ModuleError,
        ["nn.SpatialMaxPooling", "dW", "step of the window", "got 0"],
    ),
    ("nn.SpatialMaxPooling(0, 2)", ModuleError, ["nn.SpatialMaxPooling", "kW", "got 0"]),
    ("nn.SpatialMaxPooling(2, 2, 2, 2, -1, 0)", ModuleError, ["padW", "got -1"]),
    ("nn.SpatialMaxPooling(2, 2, 2, 2, 2, 0)", ValueError, ["pad should be at most half"]),
    ("nn.SpatialMaxPooling(2.5, 2)", ModuleError, ["kW", "2.5 (float)"]),
    (
        "nn.SpatialAveragePooling(2, 2, 0, 1)",
        ModuleError,
        ["nn.SpatialAveragePooling", "dW", "got 0"],
    ),
    ("nn.SpatialAveragePooling(2, 2, 1, 1, 0, -1)", ModuleError, ["padH", "got -1"]),
    (
        "nn.SpatialAdaptiveAveragePooling(0, 2)",
        ModuleError,
        ["nn.SpatialAdaptiveAveragePooling", "W", "output width", "got 0"],
    ),
    ("nn.SpatialAdaptiveAveragePooling(2, 1.5)", ModuleError, ["H", "output height", "1.5"]),
    (
        "nn.SpatialSubSampling(0, 2, 2)",
        ModuleError,
        ["nn.SpatialSubSampling", "nInputPlane", "got 0"],
    ),
    ("nn.SpatialSubSampling(3, 2, 2, 0)", ModuleError, ["nn.SpatialSubSampling", "dW", "got 0"]),
    # normalization
    (
        "nn.BatchNormalization(0)",
        ModuleError,
        ["nn.BatchNormalization", "nOutput", "number of features", "got 0"],
    ),
    ("nn.BatchNormalization(4, -1e-5)", ModuleError, ["eps", "> 0", "-1e-05"]),
    ("nn.BatchNormalization(4, 1e-5, 1.5)", ModuleError, ["momentum", "<= 1", "1.5"]),
    (
        "nn.SpatialBatchNormalization(2.0)",
        ModuleError,
        ["nn.SpatialBatchNormalization", "nOutput", "2.0 (float)"],
    ),
    ("nn.SpatialCrossMapLRN(0)", ModuleError, ["nn.SpatialCrossMapLRN", "size", "got 0"]),
    ("nn.SpatialCrossMapLRN(5, 'a')", ModuleError, ["nn.SpatialCrossMapLRN", "alpha", "'a'"]),
    # transfer, table, containers
    ("nn.LeakyReLU('x')", ModuleError, ["nn.LeakyReLU", "negval", "'x'"]),
    ("nn.ELU(float('inf'))", ModuleError, ["nn.ELU", "alpha", "inf"]),
    ("nn.JoinTable(1.5)", ModuleError, ["nn.JoinTable", "dim", "1.5"]),
    ("nn.JoinTable(1, 0)", ModuleError, ["nn.JoinTable", "nInputDims", "got 0"]),
    ("nn.Concat('1')", ModuleError, ["nn.Concat", "dim", "'1'"]),
    ("nn.Sequential().add(3)", ModuleError, ["nn.Sequential", "nn.Module", "int"]),
    # criterions
    ("nn.ClassNLLCriterion(np.ones((2, 2)))", ValueError, ["1-D", "(2, 2)"]),
    ("nn.BCECriterion(np.ones((2, 2)))", ValueError, ["1-D", "(2, 2)"]),
]


def _raises(code, error, words):
    with pytest.raises(error) as info:
        eval(code, {"nn": nn, "np": np})
    message = str(info.value)
    for w in words:
        assert w in message, f"{code}: {w!r} not in {message!r}"
    return message


@pytest.mark.parametrize("code, error, words", CONSTRUCTORS, ids=[c[0] for c in CONSTRUCTORS])
def test_constructors_refuse_bad_arguments(code, error, words):
    _raises(code, error, words)


@pytest.mark.parametrize(
    "code",
    [
        "nn.SpatialMaxPooling(2, 2)",  # dW, dH default to the kernel
        "nn.SpatialMaxPooling(np.int64(3), 3, 1, 1, 1, 1)",  # NumPy integers are integers
        "nn.Linear(np.int32(4), 2, False)",
        "nn.SpatialZeroPadding(-1, 2)",  # negative padding crops, as in Torch7
        "nn.JoinTable(-1)",
        "nn.BatchNormalization(3, 1e-3, 0)",
    ],
)
def test_constructors_accept_good_arguments(code):
    eval(code, {"nn": nn, "np": np})


def test_max_pooling_default_stride_is_the_kernel_not_a_zero():
    assert (nn.SpatialMaxPooling(3, 2).dW, nn.SpatialMaxPooling(3, 2).dH) == (3, 2)


# ----------------------------------------------------------------------------- gradOutput


def _linear_net():
    return nn.Sequential().add(nn.Linear(4, 3)).add(nn.ReLU())


def _table_net():
    return nn.ConcatTable().add(nn.Identity()).add(nn.Linear(4, 2))


X = jnp.ones((2, 4))
GRAD_OUTPUTS = [
    # (network, training mode (a pending forward) or not, call, gradOutput, words)
    (_linear_net, True, "backward", jnp.ones((2, 4)), ["nn.Sequential", "(2, 3)", "got (2, 4)"]),
    (_linear_net, False, "backward", jnp.ones((3,)), ["nn.Sequential", "(2, 3)", "got (3,)"]),
    (_linear_net, True, "updateGradInput", jnp.ones((2, 3, 1)), ["(2, 3)", "got (2, 3, 1)"]),
    (_linear_net, False, "accGradParameters", jnp.ones((4, 2)), ["(2, 3)", "got (4, 2)"]),
    (_linear_net, True, "backward", [jnp.ones((2, 3))], ["(2, 3)", "a table of 1"]),
    (_linear_net, True, "backward", 1.0, ["(2, 3)", "got ()"]),
    (
        _table_net,
        True,
        "backward",
        [jnp.ones((2, 4)), jnp.ones((2, 3))],
        ["nn.ConcatTable", "[(2, 4), (2, 2)]", "[(2, 4), (2, 3)]"],
    ),
    (_table_net, False, "backward", jnp.ones((2, 4)), ["nn.ConcatTable", "a table of 2"]),
]


@pytest.mark.parametrize("make, train, call, grad, words", GRAD_OUTPUTS)
def test_backward_names_both_shapes(make, train, call, grad, words):
    net = make()
    if not train:
        net.evaluate()
    net.forward(X)
    with pytest.raises(ModuleError, match="backward expected a gradOutput") as info:
        getattr(net, call)(X, grad)
    for w in words:
        assert w in str(info.value), f"{w!r} not in {info.value}"
    # and the right shape still works after the refusal
    good = [jnp.ones((2, 4)), jnp.ones((2, 2))] if make is _table_net else jnp.ones((2, 3))
    net.forward(X)
    net.backward(X, good)


# ----------------------------------------------------------------------------- criterions

LOGP = jnp.log(jnp.full((2, 10), 0.1))
CRITERIA = [
    # (criterion, input, target, error, words)
    (
        nn.ClassNLLCriterion,
        LOGP,
        np.array([1, 2**32 + 3]),
        ["[0, 10)", "got 4294967299", "position 1"],
    ),
    (nn.ClassNLLCriterion, LOGP, np.array([2**31, 1]), ["got 2147483648", "position 0"]),
    (nn.ClassNLLCriterion, LOGP, np.array([1, -1]), ["[0, 10)", "got -1"]),
    (nn.ClassNLLCriterion, LOGP, np.array([1, 10]), ["got 10", "0-based"]),
    (nn.ClassNLLCriterion, LOGP[0], 2**32 + 3, ["got 4294967299"]),
    (nn.ClassNLLCriterion, LOGP, np.array([2**70, 1], dtype=object), ["[0, 10)", "1.18059162"]),
    (nn.ClassNLLCriterion, LOGP, np.array([1.5, 2.0]), ["integer class indices", "1.5"]),
    (nn.ClassNLLCriterion, LOGP, np.array([np.nan, 2.0]), ["integer class indices", "nan"]),
    (
        nn.CrossEntropyCriterion,
        LOGP,
        np.array([1, 2**32 + 3]),
        ["nn.CrossEntropyCriterion", "got 4294967299"],
    ),
    (nn.CrossEntropyCriterion, LOGP, np.array([-(2**40), 0]), ["got -1099511627776"]),
    (
        nn.BCECriterion,
        jnp.array([0.2, 1.5]),
        jnp.array([0.0, 1.0]),
        ["[0, 1]", "got 1.5", "position 1"],
    ),
    (
        nn.BCECriterion,
        jnp.array([-0.1, 0.5]),
        jnp.array([0.0, 1.0]),
        ["[0, 1]", "got -0.1", "position 0"],
    ),
    (nn.BCECriterion, jnp.array([0.2, jnp.nan]), jnp.array([0.0, 1.0]), ["[0, 1]", "got nan"]),
    (nn.MSECriterion, jnp.ones((2, 3)), jnp.ones((4,)), ["as many elements", "(4,)"]),
]


@pytest.mark.parametrize("make, input, target, words", CRITERIA)
@pytest.mark.parametrize("call", ["forward", "backward"])
def test_criterions_refuse_bad_values(make, input, target, words, call):
    with pytest.raises(ModuleError) as info:
        getattr(make(), call)(input, target)
    message = str(info.value)
    assert message.startswith(f"nn.{make.__name__}"), message
    for w in words:
        assert w in message, f"{w!r} not in {message!r}"
    assert not re.search(r"-2\.14748e\+09", message)


def test_criterion_targets_in_range_still_work():
    c = nn.ClassNLLCriterion()
    assert np.isclose(c.forward(LOGP, np.array([1, 9], np.int64)), -np.log(0.1), rtol=1e-6)
    assert np.isclose(nn.BCECriterion().forward(jnp.array([0.0, 1.0]), jnp.array([0.0, 1.0])), 0)
