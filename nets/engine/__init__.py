"""Torchnet's training machinery on a compiled JAX step: Engine, meters, logs, devices."""

from .distributed import CoordinatorTimeoutError as CoordinatorTimeoutError
from .distributed import initialize as initialize
from .engine import HOOKS as HOOKS
from .engine import Engine as Engine
from .engine import TrainingError as TrainingError
from .log import JSONLog as JSONLog
from .log import ProgressBar as ProgressBar
from .log import TextLog as TextLog
from .meters import APMeter as APMeter
from .meters import AverageValueMeter as AverageValueMeter
from .meters import ClassErrorMeter as ClassErrorMeter
from .meters import ConfusionMeter as ConfusionMeter
from .meters import TimeMeter as TimeMeter
from .parallel import DataParallel as DataParallel

__all__ = [
    "Engine",
    "HOOKS",
    "TrainingError",
    "DataParallel",
    "initialize",
    "CoordinatorTimeoutError",
    "AverageValueMeter",
    "ClassErrorMeter",
    "ConfusionMeter",
    "TimeMeter",
    "APMeter",
    "TextLog",
    "JSONLog",
    "ProgressBar",
]
