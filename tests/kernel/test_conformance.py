"""The Jupyter project's kernel conformance suite (jupyter_kernel_test) with itorch's samples."""

import os
import shutil
import tempfile
import unittest

import jupyter_kernel_test

_ENV_KEYS = ("HOME", "JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR")


class ItorchConformance(jupyter_kernel_test.KernelTests):
    kernel_name = "itorch"
    language_name = "python"
    file_extension = ".py"

    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('oops', file=sys.stderr)"
    completion_samples = [{"text": "zi", "matches": {"zip"}}]
    complete_code_samples = ["1", "print('hello, world')", "def f(x):\n    return 2 * x\n\n"]
    incomplete_code_samples = ["print('''hello", "def f(x):\n    x * 2", "(1 +"]
    invalid_code_samples = ["import = 7q", "1 +* 2"]
    code_page_something = "? print"
    code_generate_error = "raise ValueError('boom')"
    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": "'it' + 'orch'", "result": "'itorch'"},
        {"code": "[1, 2.5]", "result": "[1, 2.5]"},
    ]
    code_display_data = [
        {"code": "itorch.html('<b>hi</b>');", "mime": "text/html"},
        {"code": "itorch.image(np.zeros((8, 8)))", "mime": "image/png"},
    ]
    code_history_pattern = "6 * 7"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "zip"
    code_clear_output = "itorch.clear_output()"

    @classmethod
    def setUpClass(cls) -> None:
        # The suite starts its kernel by kernelspec name: install ours into a private home first
        # (class set-up runs outside the per-test fixtures, so it makes its own).
        from kernel import kernelspec

        cls._saved_env = {key: os.environ.get(key) for key in _ENV_KEYS}
        cls._home = tempfile.mkdtemp(prefix="itorch-conformance-")
        os.environ["HOME"] = cls._home
        os.environ["JUPYTER_DATA_DIR"] = os.path.join(cls._home, "data")
        os.environ["JUPYTER_CONFIG_DIR"] = os.path.join(cls._home, "config")
        os.environ["JUPYTER_RUNTIME_DIR"] = os.path.join(cls._home, "runtime")
        os.environ["IPYTHONDIR"] = os.path.join(cls._home, "ipython")
        kernelspec.install(user=True)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        for key, value in cls._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(cls._home, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
