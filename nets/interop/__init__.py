"""Networks in and out of nets: serialized StableHLO, safetensors files, foreign state dicts.

``export(net, example_input, path)`` writes the network's forward pass as a serialized
StableHLO module that ``load_exported(path)`` runs without the model's Python code, and
``export_onnx`` as an ONNX model;
``save_safetensors(net, path)`` writes the arrays in the safetensors format and
``load_state_dict(net, source)`` reads a safetensors file or a dict of arrays into a network,
listing every mismatch.
"""

from .export import export as export
from .export import export_onnx as export_onnx
from .export import load_exported as load_exported
from .state_dict import StateDictError as StateDictError
from .state_dict import load_state_dict as load_state_dict
from .state_dict import save_safetensors as save_safetensors
