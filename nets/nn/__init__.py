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
from .module import Module as Module
from .table import CAddTable as CAddTable
from .table import JoinTable as JoinTable
from .trainer import StochasticGradient as StochasticGradient
