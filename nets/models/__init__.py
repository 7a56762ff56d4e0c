"""nets.models: the classic CNN zoo, exact to the papers.

``list()`` names every registered network, ``get(name, **kw)`` builds one, ``meta(name)`` gives
the paper's figures, ``abstract(name, **kw)`` builds one with shape-only arrays (for
`nets.summary` of 100M-parameter networks without allocating them). The builders are also here
by name: ``lenet5``, ``alexnet``, ``vgg`` (+ ``vgg11`` ...), ``googlenet`` (and torchvision's
``googlenet_bn``), ``inception_v2``, ``inception_v3``, ``inception_v4``, ``inception_resnet_v2``,
``resnet`` (+ ``resnet18`` ...), ``resnet_cifar``.
"""

__all__ = [
    "abstract",
    "Model",
    "ModelError",
    "ModelMeta",
    "get",
    "list",
    "meta",
    "alexnet",
    "googlenet",
    "googlenet_bn",
    "inception_resnet_v2",
    "inception_v2",
    "inception_v3",
    "inception_v4",
    "lenet5",
    "resnet",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnet_cifar",
    "vgg",
    "vgg11",
    "vgg13",
    "vgg16",
    "vgg19",
]

from ._abstract import abstract as abstract
from ._base import Model as Model
from ._registry import ModelError as ModelError
from ._registry import ModelMeta as ModelMeta
from ._registry import get as get
from ._registry import list_models as list
from ._registry import meta as meta
from .alexnet import alexnet as alexnet
from .googlenet import googlenet as googlenet
from .googlenet import googlenet_bn as googlenet_bn
from .inception import inception_resnet_v2 as inception_resnet_v2
from .inception import inception_v2 as inception_v2
from .inception import inception_v3 as inception_v3
from .inception import inception_v4 as inception_v4
from .lenet import lenet5 as lenet5
from .resnet import resnet as resnet
from .resnet import resnet18 as resnet18
from .resnet import resnet34 as resnet34
from .resnet import resnet50 as resnet50
from .resnet import resnet101 as resnet101
from .resnet import resnet152 as resnet152
from .resnet import resnet_cifar as resnet_cifar
from .vgg import vgg as vgg
from .vgg import vgg11 as vgg11
from .vgg import vgg13 as vgg13
from .vgg import vgg16 as vgg16
from .vgg import vgg19 as vgg19
