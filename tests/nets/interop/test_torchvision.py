"""torchvision's parameter names into the zoo: every family torchvision has, and one network
checked against a forward pass written here from torchvision's names alone."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import nets
from nets import models
from nets.interop import StateDictError
from nets.interop.torchvision import KEYS, torchvision_keys
from tests.nets.interop.pth_writer import write_pth
from tests.tolerance import assert_close, path_terms


def _state_dict(name, seed=0):
    """A torchvision-named state dict for zoo network `name`: torchvision's names, the shapes
    of another build of the same network (so only the names are under test here)."""
    nets.manual_seed(seed)
    with nets.shape_only():
        net = models.get(name)
    rng = np.random.default_rng(seed)
    out = {}
    keys = iter(torchvision_keys(name))
    for _, module in net.named_modules():
        for array_name, (kind, _, value) in module.own_arrays().items():
            if kind != "grad":
                key = next(keys)
                assert key.endswith("." + array_name)
                out[key] = rng.normal(0, 0.05, value.shape).astype(np.float32)
                if key.endswith("running_var"):
                    out[key] = np.abs(out[key]) + 1.0
                    out[key.replace("running_var", "num_batches_tracked")] = np.array(3)
    return out


@pytest.mark.parametrize("name", sorted(KEYS))
def test_every_torchvision_family_loads_by_name(name):
    sd = _state_dict(name)
    with nets.shape_only():
        net = models.get(name)
    net.from_torchvision(sd)
    params, buffers = net.split()
    loaded = {**params, **buffers}
    assert len(loaded) == len([k for k in sd if "num_batches_tracked" not in k])
    first = torchvision_keys(name)[0]
    np.testing.assert_array_equal(next(iter(params.values())), sd[first])


def _alexnet_reference(sd, x):
    """torchvision's AlexNet forward, from its state dict's names (not nets' code)."""

    def conv(x, key, stride, pad):
        y = lax.conv_general_dilated(
            x,
            sd[f"{key}.weight"],
            (stride, stride),
            [(pad, pad)] * 2,
            dimension_numbers=("NCHW", "OIHW", "NCHW"),
        )
        return jax.nn.relu(y + sd[f"{key}.bias"][None, :, None, None])

    def pool(x):
        return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 3, 3), (1, 1, 2, 2), "VALID")

    x = pool(conv(x, "features.0", 4, 2))
    x = pool(conv(x, "features.3", 1, 2))
    x = conv(conv(conv(x, "features.6", 1, 1), "features.8", 1, 1), "features.10", 1, 1)
    x = pool(x).reshape(x.shape[0], -1)  # 6x6 at 224x224: the adaptive pool is the identity
    for i, key in enumerate(("classifier.1", "classifier.4", "classifier.6")):
        x = x @ sd[f"{key}.weight"].T + sd[f"{key}.bias"][None, :]
        x = jax.nn.relu(x) if i < 2 else jax.nn.log_softmax(x)
    return x


def test_alexnet_gives_the_reference_forward_on_torchvisions_names(tmp_path):
    sd = _state_dict("alexnet_onetower", seed=1)
    path = tmp_path / "alexnet-owt.pth"
    write_pth(path, sd)  # through a .pth file, as torchvision ships its weights
    net = models.get("alexnet_onetower").from_torchvision(path).evaluate()
    x = jax.random.normal(jax.random.key(0), (2, 3, 224, 224))
    want = _alexnet_reference({k: jnp.asarray(v) for k, v in sd.items()}, x)
    terms = path_terms(3 * 121, 64 * 25, 192 * 9, 384 * 9, 256 * 9, 9216, 4096, 4096, 1000)
    assert_close(net.forward(x), want, terms=terms)


def test_a_state_dict_that_does_not_fit_lists_every_problem():
    sd = _state_dict("resnet18")
    sd["fc.weight"] = sd["fc.weight"][:10]
    del sd["layer1.0.bn1.running_mean"]
    sd["head.extra"] = np.zeros(3, np.float32)
    net = models.abstract("resnet18")
    with pytest.raises(StateDictError) as caught:
        net.from_torchvision(sd)
    text = str(caught.value)
    assert "nothing was loaded" in text
    assert "layer1.0.bn1.running_mean: missing" in text
    assert "fc.weight: shape (10, 512)" in text
    assert "head.extra: not an array of resnet18" in text
    with pytest.raises(StateDictError, match=r"torchvision has no network matching nets' "):
        models.abstract("googlenet").from_torchvision({})
