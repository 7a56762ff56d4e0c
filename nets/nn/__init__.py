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
from .convolution import tables as tables
from .criterion import AbsCriterion as AbsCriterion
from .criterion import BCECriterion as BCECriterion
from .criterion import ClassNLLCriterion as ClassNLLCriterion
from .criterion import Criterion as Criterion
from .criterion import CrossEntropyCriterion as CrossEntropyCriterion
from .criterion import MSECriterion as MSECriterion
from .criterion import SmoothL1Criterion as SmoothL1Criterion
from .graph import gModule as gModule
from .jacobian import Jacobian as Jacobian
from .lookup import LookupTable as LookupTable
from .module import Module as Module
from .normalization import BatchNormalization as BatchNormalization
from .normalization import SpatialBatchNormalization as SpatialBatchNormalization
from .normalization import SpatialCrossMapLRN as SpatialCrossMapLRN
from .pooling import SpatialAdaptiveAveragePooling as SpatialAdaptiveAveragePooling
from .pooling import SpatialAveragePooling as SpatialAveragePooling
from .pooling import SpatialMaxPooling as SpatialMaxPooling
from .pooling import SpatialSubSampling as SpatialSubSampling
from .recurrent import GRU as GRU
from .recurrent import LSTM as LSTM
from .recurrent import AbstractRecurrent as AbstractRecurrent
from .recurrent import Recurrent as Recurrent
from .recurrent import SeqLSTM as SeqLSTM
from .sequencer import BiSequencer as BiSequencer
from .sequencer import Sequencer as Sequencer
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
