"""kernelspec.py: the pure builders, writing a spec to a temp dir, and installing it privately."""

import json
import os
import sys
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager

from kernel import kernelspec


def test_make_cmd_runs_itorch_kernel_with_this_python():
    cmd = kernelspec.make_cmd()
    assert cmd == [sys.executable, "-m", "kernel", "kernel", "-f", "{connection_file}"]
    assert kernelspec.make_cmd("/opt/py", ["--ip", "127.0.0.1"])[0] == "/opt/py"
    assert kernelspec.make_cmd(extra_arguments=["--ip", "127.0.0.1"])[-2:] == ["--ip", "127.0.0.1"]


def test_kernel_dict_names_itorch_and_python():
    spec = kernelspec.get_kernel_dict()
    assert spec["display_name"] == "iTorch"
    assert spec["language"] == "python"
    assert spec["interrupt_mode"] == "signal"
    assert "{connection_file}" in spec["argv"]


def test_write_kernel_spec_to_temp_dir(tmp_path):
    path = kernelspec.write_kernel_spec(tmp_path / "itorch")
    assert json.loads((path / "kernel.json").read_text()) == kernelspec.get_kernel_dict()
    assert (path / "logo-32x32.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (path / "logo-64x64.png").is_file()


def test_install_user_goes_to_private_jupyter_data_dir(_private_home):
    assert kernelspec.find_installed() is None
    installed = Path(kernelspec.install(user=True))
    assert installed == Path(os.environ["JUPYTER_DATA_DIR"]) / "kernels" / "itorch"
    assert installed.is_relative_to(_private_home)
    spec = KernelSpecManager().get_kernel_spec("itorch")
    assert spec.display_name == "iTorch"
    assert spec.argv[:4] == [sys.executable, "-m", "kernel", "kernel"]
    assert kernelspec.find_installed() == str(installed)


def test_install_prefix(tmp_path):
    installed = Path(kernelspec.install(prefix=str(tmp_path)))
    assert installed == tmp_path / "share" / "jupyter" / "kernels" / "itorch"
    assert (installed / "kernel.json").is_file()


def test_install_refuses_two_locations(tmp_path):
    with pytest.raises(ValueError, match="choose one of --user, --sys-prefix, --prefix; got user"):
        kernelspec.install(user=True, prefix=str(tmp_path))
