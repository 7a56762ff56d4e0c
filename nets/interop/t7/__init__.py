"""Torch7's ``.t7`` files: `load_t7` and `save_t7` (the format is described in `format`)."""

from .format import T7Error as T7Error
from .format import TorchObject as TorchObject
from .modules import NN_CLASSES as NN_CLASSES
from .modules import register as register
from .reader import load_t7 as load_t7
from .writer import save_t7 as save_t7
