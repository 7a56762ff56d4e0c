"""Checkpoints as a hostile file would be (issue 18): every malformed header, flipped bit or
crafted reference ends in a `CheckpointError` naming the place, or loads identically; none
costs more memory than the file holds.

Each table row: (case, edit of the header or of the bytes, words the message must hold).
"""

import json
import random
import struct
import subprocess
import sys
import textwrap
import time

import jax.numpy as jnp
import numpy as np
import pytest

import nets
from nets import nn
from nets import serialization as ser
from nets.serialization import CheckpointError


def _net():
    nets.manual_seed(0)
    return (
        nn.Sequential()
        .add(nn.SpatialConvolution(1, 2, 3, 3, 1, 1, 1))
        .add(nn.ReLU())
        .add(nn.View(2 * 4 * 4))
        .add(nn.Linear(2 * 4 * 4, 3))
    )


def _split(blob: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack("<I", blob[8:12])
    return json.loads(blob[16 : 16 + n]), blob[16 + n :]


def _crafted(path, edit):
    """Rewrite the header with `edit(header)`, with a right CRC: a crafted file, not damage."""
    header, data = _split(path.read_bytes())
    header = edit(header) or header
    path.write_bytes(ser.header_block(header) if isinstance(header, dict) else _raw(header))
    with open(path, "ab") as f:
        f.write(data)


def _raw(value):
    body = json.dumps(value).encode()
    body += b" " * (-(16 + len(body)) % 64)
    return ser.MAGIC + struct.pack("<II", len(body), ser.zlib.crc32(body)) + body


def _node(h, *path):
    node = h["module"]
    for i in path:
        node = node["modules"][i]
    return node


def _set(d, key, value):
    d[key] = value


def _deep(levels):
    v = []
    for _ in range(levels):
        v = [v]
    return v


HEADERS = [
    ("the header is a list", lambda h: [h], ["header is a list, not an object"]),
    ("no array table", lambda h: h.pop("arrays") and None, ["'arrays' is missing"]),
    ("no module key", lambda h: h.pop("module") and None, ["'module' is missing"]),
    ("version 7", lambda h: _set(h, "version", 7), ["version 7", "versions 1 to 3"]),
    ("another format", lambda h: _set(h, "format", "zip"), ["format 'zip'"]),
    ("meta a list", lambda h: _set(h, "meta", [1]), ["'meta' is not an object"]),
    ("table entry a string", lambda h: _set(h["arrays"], "0.weight", "x"), ["'0.weight'", "a str"]),
    (
        "dtype unknown",
        lambda h: _set(h["arrays"]["0.weight"], "dtype", "object"),
        ["unknown dtype object"],
    ),
    (
        "dtype missing",
        lambda h: h["arrays"]["0.weight"].pop("dtype") and None,
        ["'dtype' is missing"],
    ),
    (
        "shape negative",
        lambda h: _set(h["arrays"]["0.bias"], "shape", [-2]),
        ["not a list of sizes"],
    ),
    (
        "shape a string",
        lambda h: _set(h["arrays"]["0.bias"], "shape", "2"),
        ["'shape' is missing or not a list"],
    ),
    ("nbytes wrong", lambda h: _set(h["arrays"]["0.bias"], "nbytes", 4), ["do not hold", "(2,)"]),
    (
        "offset beyond the file",
        lambda h: _set(h["arrays"]["0.bias"], "offset", 10**9),
        ["truncated", "'0.bias'"],
    ),
    (
        "offset negative",
        lambda h: _set(h["arrays"]["0.bias"], "offset", -64),
        ["'0.bias'", "offset -64"],
    ),
    ("crc missing", lambda h: h["arrays"]["0.bias"].pop("crc32") and None, ["'crc32' is missing"]),
    ("crc a bool", lambda h: _set(h["arrays"]["0.bias"], "crc32", True), ["'crc32'"]),
    ("module a list", lambda h: _set(h, "module", [1]), ["the header's 'module' is missing"]),
    (
        "class missing",
        lambda h: _node(h).pop("class") and None,
        ["module <root>", "'class' is missing"],
    ),
    ("class a number", lambda h: _set(_node(h, 0), "class", 3), ["module 0", "'class'", "int"]),
    (
        "child not an object",
        lambda h: _node(h)["modules"].__setitem__(1, "relu"),
        ["module 1 is a str"],
    ),
    ("modules missing", lambda h: _node(h).pop("modules") and None, ["'modules' is missing"]),
    ("args a dict", lambda h: _set(_node(h, 3), "args", {}), ["module 3", "'args'"]),
    ("kwargs a list", lambda h: _set(_node(h, 3), "kwargs", []), ["module 3", "'kwargs'"]),
    ("attrs a list", lambda h: _set(_node(h, 0), "attrs", []), ["module 0", "'attrs'"]),
    ("container a string", lambda h: _set(_node(h), "container", "yes"), ["'container'"]),
    (
        "attribute __dict__",
        lambda h: _set(_node(h, 1)["attrs"], "__dict__", {"dict": {}}),
        ["'__dict__' is not a hyper-parameter"],
    ),
    (
        "attribute _vars",
        lambda h: _set(_node(h, 1)["attrs"], "_vars", 1),
        ["'_vars' is not a hyper-parameter"],
    ),
    (
        "attribute to a missing array",
        lambda h: _set(_node(h, 1)["attrs"], "x", {"array": "nope"}),
        ["refers to array 'nope'"],
    ),
    (
        "attribute to a numbered array",
        lambda h: _set(_node(h, 1)["attrs"], "x", {"array": 3}),
        ["refers to array 3"],
    ),
    (
        "a malformed tuple",
        lambda h: _set(_node(h, 1)["attrs"], "x", {"tuple": 3}),
        ["malformed tuple"],
    ),
    (
        "a malformed dict",
        lambda h: _set(_node(h, 1)["attrs"], "x", {"dict": [1]}),
        ["malformed dict"],
    ),
    (
        "an unknown tagged value",
        lambda h: _set(_node(h, 1)["attrs"], "x", {"what": 1}),
        ["unknown value"],
    ),
    (
        "argument child out of range",
        lambda h: _set(_node(h, 3), "args", [{"child": 9}, 3]),
        ["refers to child 9"],
    ),
    (
        "array entry without a name",
        lambda h: _node(h, 0)["arrays"][0].pop("name") and None,
        ["module 0", "array entry 0 is malformed"],
    ),
    (
        "array of unknown kind",
        lambda h: _set(_node(h, 0)["arrays"][0], "kind", "weird"),
        ["unknown kind 'weird'"],
    ),
    (
        "array missing from the table",
        lambda h: h["arrays"].pop("3.weight") and None,
        ["lacks its array 'weight'"],
    ),
    (
        "shared with a module not there",
        lambda h: _set(_node(h, 0)["arrays"][0], "shared", "7.weight"),
        ["shared with '7.weight'"],
    ),
    (
        "shared with an array not there",
        lambda h: _set(_node(h, 0)["arrays"][0], "shared", "3.nope"),
        ["shared with '3.nope'"],
    ),
    (
        "class outside nets",
        lambda h: _set(_node(h, 1), "class", "os.system"),
        ["outside the nets package"],
    ),
    (
        "class unknown in nets",
        lambda h: _set(_node(h, 1), "class", "nets.nn.Nope"),
        ["unknown class nets.nn.Nope"],
    ),
    (
        "a class that is no module",
        lambda h: _set(_node(h, 1), "class", "nets.serialization.Checkpoint"),
        ["not an nn.Module class"],
    ),
    (
        "a constructor refusing",
        lambda h: _set(_node(h, 3), "args", [0, 3]),
        ["rebuilding module 3 (Linear)", "inputSize"],
    ),
    ("container with stray children", lambda h: _set(_node(h), "container", False), ["module"]),
    (
        "meta nested 900 levels",
        lambda h: _set(h, "meta", {"x": _deep(900)}),
        ["nested deeper than 100 levels"],
    ),
    (
        "args nested 150 levels",
        lambda h: _set(_node(h, 1), "args", _deep(150)),
        ["nested deeper than 100 levels"],
    ),
]


@pytest.mark.parametrize("case, edit, words", HEADERS, ids=[c[0] for c in HEADERS])
def test_malformed_headers_raise_checkpoint_error_naming_the_place(tmp_path, case, edit, words):
    path = tmp_path / "net.nets"
    nets.save(path, _net())
    _crafted(path, edit)
    with pytest.raises(CheckpointError) as info:
        nets.load(path)
    for w in words:
        assert w in str(info.value), f"{w!r} not in {info.value}"


def _flip(blob, at, bit=0):
    b = bytearray(blob)
    b[at] ^= 1 << bit
    return bytes(b)


def _header_len(blob):
    return struct.unpack("<I", blob[8:12])[0]


BYTES = [
    ("empty file", lambda b: b"", ["not a nets checkpoint"]),
    ("another magic", lambda b: b"PK\x03\x04" + b[4:], ["not a nets checkpoint"]),
    ("magic only", lambda b: b[:8], ["truncated (no header length)"]),
    (
        "header length too large",
        lambda b: b[:8] + struct.pack("<II", 10**9, 0) + b[16:],
        ["truncated inside its header"],
    ),
    ("header cut short", lambda b: b[: 16 + _header_len(b) // 2], ["truncated inside its header"]),
    ("data cut short", lambda b: b[:-40], ["truncated", "array"]),
    ("a header bit flipped", lambda b: _flip(b, 40, 3), ["header fails its checksum"]),
    (
        "'3' flipped to '2' in the version",
        lambda b: b.replace(b'"version": 3', b'"version": 2'),
        ["header fails its checksum"],
    ),
    (
        "the header CRC zeroed",
        lambda b: b[:12] + b"\0\0\0\0" + b[16:],
        ["header fails its checksum"],
    ),
    (
        "an array bit flipped",
        lambda b: _flip(b, 16 + _header_len(b) + 5, 6),
        ["fails its checksum"],
    ),
]


@pytest.mark.parametrize("case, edit, words", BYTES, ids=[c[0] for c in BYTES])
def test_damaged_files_raise_checkpoint_error(tmp_path, case, edit, words):
    path = tmp_path / "net.nets"
    nets.save(path, _net())
    path.write_bytes(edit(path.read_bytes()))
    with pytest.raises(CheckpointError) as info:
        nets.load(path)
    for w in words:
        assert w in str(info.value), f"{w!r} not in {info.value}"


def test_a_version_2_file_without_a_header_crc_still_loads(tmp_path):
    path = tmp_path / "v2.nets"
    net = _net()
    nets.save(path, net)
    header, data = _split(path.read_bytes())
    header["version"] = 2
    body = json.dumps(header).encode()
    body += b" " * (-(16 + len(body)) % 64)
    path.write_bytes(ser.MAGIC + struct.pack("<Q", len(body)) + body + data)  # v2's layout
    back = nets.load(path)
    assert back.describe() == net.describe()


def _same(a, b):
    if a.describe() != b.describe():
        return False
    return all(
        np.asarray(x[k]).tobytes() == np.asarray(y[k]).tobytes()
        for x, y in zip(a.split(), b.split(), strict=True)
        for k in x
    )


def test_fuzz_bit_flips_load_identically_or_raise_checkpoint_error(tmp_path):
    """Random single-bit flips over the header and the arrays (fixed seed, bounded count and
    time): each load is identical to the saved network or a CheckpointError, nothing else."""
    path = tmp_path / "net.nets"
    net = _net()
    nets.save(path, net)
    blob = path.read_bytes()
    rng = random.Random(18)
    outcomes = {"identical": 0, "refused": 0}
    deadline = time.monotonic() + 30
    for _ in range(400):
        if time.monotonic() > deadline:
            break
        at = rng.randrange(len(blob))
        path.write_bytes(_flip(blob, at, rng.randrange(8)))
        try:
            back = nets.load(path)
        except CheckpointError:
            outcomes["refused"] += 1
            continue
        assert _same(back, net), f"a flip at byte {at} loaded a different network"
        outcomes["identical"] += 1  # a flip in padding between arrays
    assert outcomes["refused"] > 0 and sum(outcomes.values()) >= 100, outcomes


def _amplifying(path, refs=400, size=1 << 20):
    """A file whose one float32 array of `size` values is the value of `refs` attributes."""
    nets.save(path, nn.Identity())
    header, _ = _split(path.read_bytes())
    table, blobs = ser._array_table({"attr:.0": np.arange(size, dtype=np.float32)})
    header["arrays"] = table
    header["module"]["attrs"] = {f"a{i}": [{"array": "attr:.0"}] for i in range(refs)}
    ser._write(path, header, table, blobs)


def test_an_array_referenced_many_times_is_materialised_once(tmp_path):
    path = tmp_path / "amp.nets"
    _amplifying(path, refs=50, size=1000)
    m = nets.load(path)
    values = [getattr(m, f"a{i}")[0] for i in range(50)]
    assert all(v is values[0] for v in values)  # one array, fifty references
    np.testing.assert_array_equal(values[7], np.arange(1000, dtype=np.float32))


def test_the_amplification_file_costs_what_it_holds(tmp_path):
    """A 4 MB file whose 400 attributes reference its one 4 MB array: the load's peak RSS grows
    by a small multiple of the file (it was 1.6 GB)."""
    path = tmp_path / "amp.nets"
    _amplifying(path)
    size = path.stat().st_size
    code = textwrap.dedent(
        f"""
        import resource, nets, jax.numpy as jnp
        jnp.zeros(1).block_until_ready()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        m = nets.load({str(path)!r})
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) * 1024)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    grown = int(out.stdout.split()[-1])
    assert grown < 8 * size, f"peak RSS grew by {grown / 1e6:.1f} MB for a {size / 1e6:.1f} MB file"


def test_nets_load_of_the_zoo_is_unchanged(tmp_path):
    nets.manual_seed(0)
    net = nets.models.get("lenet5")
    nets.save(tmp_path / "l.nets", net)
    back = nets.load(tmp_path / "l.nets")
    assert _same(back, net)
    x = jnp.ones((1, 3, 32, 32))
    np.testing.assert_array_equal(net.evaluate().forward(x), back.evaluate().forward(x))


# ----------------------------------------------------------------------------- stale temporaries


def test_the_next_save_removes_the_temporaries_of_a_killed_save(tmp_path):
    """kill -9 during a save leaves its temporary file; the next save to the path removes it."""
    import os
    import pathlib
    import signal

    path = tmp_path / "net.nets"
    root = str(pathlib.Path(__file__).resolve().parents[2])
    code = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {root!r})
        import nets
        from nets import nn, serialization
        def stuck(fd):
            print("writing", flush=True)
            time.sleep(60)
        serialization.os.fsync = stuck
        nets.save({str(path)!r}, nn.Linear(300, 300))
        """
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        child.kill()
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".net.nets.") and left[0].endswith(".tmp")
    old_style = tmp_path / ".net.nets.k2j4h5.tmp"  # what saves before this one named them
    old_style.write_bytes(b"x" * 100)
    mine = tmp_path / f".net.nets.{os.getpid()}.abc.tmp"  # a save of this process, in flight
    other = tmp_path / ".other.nets.1.abc.tmp"  # another target's
    mine.write_bytes(b"")
    other.write_bytes(b"")
    nets.save(path, _net())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["net.nets", mine.name, other.name])
    assert _same(nets.load(path), _net())
