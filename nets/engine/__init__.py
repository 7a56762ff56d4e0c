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
from .meters import MovingAverageValueMeter as MovingAverageValueMeter
from .meters import MSEMeter as MSEMeter
from .meters import TimeMeter as TimeMeter
from .meters_ranking import AUCMeter as AUCMeter
from .meters_ranking import MultiLabelConfusionMeter as MultiLabelConfusionMeter
from .meters_ranking import NDCGMeter as NDCGMeter
from .meters_ranking import PrecisionAtKMeter as PrecisionAtKMeter
from .meters_ranking import PrecisionMeter as PrecisionMeter
from .meters_ranking import RecallMeter as RecallMeter
from .meters_ranking import mAPMeter as mAPMeter
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
    "MovingAverageValueMeter",
    "MSEMeter",
    "mAPMeter",
    "MultiLabelConfusionMeter",
    "NDCGMeter",
    "PrecisionAtKMeter",
    "PrecisionMeter",
    "RecallMeter",
    "AUCMeter",
    "TextLog",
    "JSONLog",
    "ProgressBar",
]
