"""Data for training: the Dataset protocol, iterators, augmentations and file readers.

A dataset indexes like Torchnet's: ``ds[i] -> (input, target)``, ``len(ds)``, ``ds.size()``.
``DatasetIterator`` batches it (seeded shuffle, background prefetch). Readers: ``mnist`` (idx,
plain or .gz), ``cifar10`` / ``cifar100`` (binary and python versions, no unpickling),
``ImageFolder`` (class-per-folder images) and ``digits`` (scikit-learn's, the embedded default).
"""

from ._files import DataFileError as DataFileError
from .batching import BatchDataset as BatchDataset
from .batching import CoroutineBatchDataset as CoroutineBatchDataset
from .cifar import cifar10 as cifar10
from .cifar import cifar100 as cifar100
from .datasets import ConcatDataset as ConcatDataset
from .datasets import Dataset as Dataset
from .datasets import ListDataset as ListDataset
from .datasets import ResampleDataset as ResampleDataset
from .datasets import ShuffleDataset as ShuffleDataset
from .datasets import SubsetDataset as SubsetDataset
from .datasets import TensorDataset as TensorDataset
from .datasets import TransformDataset as TransformDataset
from .datasets import shuffle as shuffle
from .datasets import split as split
from .digits import digits as digits
from .folder import ImageFolder as ImageFolder
from .indexed import IndexedDataset as IndexedDataset
from .indexed import IndexedDatasetReader as IndexedDatasetReader
from .indexed import IndexedDatasetWriter as IndexedDatasetWriter
from .iterators import DatasetIterator as DatasetIterator
from .mnist import mnist as mnist
from .mnist import read_idx as read_idx
from .parallel import ParallelDatasetIterator as ParallelDatasetIterator
from .transforms import Compose as Compose
from .transforms import HorizontalFlip as HorizontalFlip
from .transforms import Normalize as Normalize
from .transforms import PCAColorJitter as PCAColorJitter
from .transforms import RandomCrop as RandomCrop

__all__ = [
    "DataFileError",
    "Dataset",
    "TensorDataset",
    "ListDataset",
    "SubsetDataset",
    "TransformDataset",
    "ConcatDataset",
    "ResampleDataset",
    "ShuffleDataset",
    "BatchDataset",
    "CoroutineBatchDataset",
    "IndexedDataset",
    "IndexedDatasetReader",
    "IndexedDatasetWriter",
    "ParallelDatasetIterator",
    "shuffle",
    "split",
    "DatasetIterator",
    "Compose",
    "RandomCrop",
    "HorizontalFlip",
    "Normalize",
    "PCAColorJitter",
    "mnist",
    "read_idx",
    "cifar10",
    "cifar100",
    "ImageFolder",
    "digits",
]
