"""nets.nn: Torch7's nn on JAX.

Naming: the public Torch surface keeps Torch7's names exactly (``SpatialConvolution``,
``updateOutput``, ``gradInput``, ``nInputPlane``); everything else is PEP 8. The one deliberate
difference from Torch7: indices are 0-based, as everywhere in Python (class targets, dimension
arguments such as ``Concat(1)``, and the ``(0)``, ``(1)`` in printed module trees).
"""

from .containers import Concat as Concat
from .containers import ConcatTable as ConcatTable
from .containers import Container as Container
from .containers import DepthConcat as DepthConcat
from .containers import ParallelTable as ParallelTable
from .containers import Sequential as Sequential
from .convolution import SpatialConvolution as SpatialConvolution
from .convolution import SpatialConvolutionMap as SpatialConvolutionMap
from .convolution import SpatialDilatedConvolution as SpatialDilatedConvolution
from .convolution import SpatialFullConvolution as SpatialFullConvolution
from .convolution import TemporalConvolution as TemporalConvolution
from .convolution import VolumetricConvolution as VolumetricConvolution
from .convolution import tables as tables
from .criterion import AbsCriterion as AbsCriterion
from .criterion import BCECriterion as BCECriterion
from .criterion import ClassNLLCriterion as ClassNLLCriterion
from .criterion import Criterion as Criterion
from .criterion import CrossEntropyCriterion as CrossEntropyCriterion
from .criterion import MSECriterion as MSECriterion
from .criterion import SmoothL1Criterion as SmoothL1Criterion
from .jacobian import Jacobian as Jacobian
from .module import Module as Module
from .normalization import BatchNormalization as BatchNormalization
from .normalization import SpatialBatchNormalization as SpatialBatchNormalization
from .normalization import SpatialContrastiveNormalization as SpatialContrastiveNormalization
from .normalization import SpatialCrossMapLRN as SpatialCrossMapLRN
from .normalization import SpatialDivisiveNormalization as SpatialDivisiveNormalization
from .normalization import SpatialSubtractiveNormalization as SpatialSubtractiveNormalization
from .normalization import VolumetricBatchNormalization as VolumetricBatchNormalization
from .padding import SpatialReflectionPadding as SpatialReflectionPadding
from .padding import SpatialReplicationPadding as SpatialReplicationPadding
from .pooling import SpatialAdaptiveAveragePooling as SpatialAdaptiveAveragePooling
from .pooling import SpatialAveragePooling as SpatialAveragePooling
from .pooling import SpatialDilatedMaxPooling as SpatialDilatedMaxPooling
from .pooling import SpatialFractionalMaxPooling as SpatialFractionalMaxPooling
from .pooling import SpatialLPPooling as SpatialLPPooling
from .pooling import SpatialMaxPooling as SpatialMaxPooling
from .pooling import SpatialSubSampling as SpatialSubSampling
from .pooling import TemporalMaxPooling as TemporalMaxPooling
from .pooling import VolumetricAveragePooling as VolumetricAveragePooling
from .pooling import VolumetricMaxPooling as VolumetricMaxPooling
from .simple import Dropout as Dropout
from .simple import Identity as Identity
from .simple import Linear as Linear
from .simple import MulConstant as MulConstant
from .simple import Reshape as Reshape
from .simple import SpatialDropout as SpatialDropout
from .simple import SpatialZeroPadding as SpatialZeroPadding
from .simple import View as View
from .table import CAddTable as CAddTable
from .table import JoinTable as JoinTable
from .trainer import StochasticGradient as StochasticGradient
from .transfer import ELU as ELU
from .transfer import LeakyReLU as LeakyReLU
from .transfer import LogSoftMax as LogSoftMax
from .transfer import ReLU as ReLU
from .transfer import Sigmoid as Sigmoid
from .transfer import SoftMax as SoftMax
from .transfer import Tanh as Tanh
from .upsampling import SpatialUpSamplingBilinear as SpatialUpSamplingBilinear
from .upsampling import SpatialUpSamplingNearest as SpatialUpSamplingNearest
