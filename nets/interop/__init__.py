"""Networks in and out of nets: StableHLO and ONNX, safetensors, PyTorch and Torch7 files.

* `export` writes the network's forward pass as serialized StableHLO that `load_exported` runs
  without the model's code; `export_onnx` writes ONNX (the ``onnx`` extra).
* `save_safetensors` writes the arrays by `split` name; `load_state_dict` reads a
  ``.safetensors`` or ``.pth`` file, or a dict of arrays, listing every mismatch.
* `nets.interop.torchvision`: torchvision's parameter names for the zoo
  (``models.get('resnet50').from_torchvision(path)``); `nets.interop.pth`: PyTorch's files read
  without torch; `nets.interop.t7`: Torch7's ``.t7`` files, read and written.
"""

from .._errors import StateDictError as StateDictError
from .export import export as export
from .export import export_onnx as export_onnx
from .export import load_exported as load_exported
from .state_dict import load_state_dict as load_state_dict
from .state_dict import save_safetensors as save_safetensors
