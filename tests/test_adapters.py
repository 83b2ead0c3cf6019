"""Each array library's adapter is the one place tinyml learns about it: its natives are the
operations' natives, its facts agree with the backends built from it, and the defaults a new
library inherits do what they say."""

import sys

import numpy as np
import pytest

import tinyml
from tinyml.backend import adapters, make_backend, namespace_name, ops, to_numpy
from tinyml.backend._random import HostRandom
from tinyml.backend.adapters.base import Adapter


def test_the_adapters_natives_are_every_operations_natives():
    """Registered from the adapters and nowhere else: each operation's natives are exactly
    the functions the adapters name for it."""
    declared = {}
    for adapter in adapters.ADAPTERS:
        for operation, where in adapter.natives.items():
            module, function = where.rsplit(".", 1)
            native = getattr(__import__(f"tinyml.backend.ops.{module}", fromlist=[function]),
                             function)
            declared.setdefault(operation, {})[adapter.name] = native
    registered = {name: dict(op.natives) for name, op in ops.OPERATIONS.items() if op.natives}
    assert registered == declared


def test_every_adapter_names_operations_that_exist():
    for adapter in adapters.ADAPTERS:
        unknown = set(adapter.natives) - set(ops.OPERATIONS)
        assert not unknown, f"{adapter!r} names operations that do not exist: {unknown}"


def test_each_namespace_belongs_to_one_adapter(backend):
    x = backend.zeros((2,))
    owners = [a.name for a in adapters.ADAPTERS if a.is_namespace(backend.xp)]
    assert owners == [backend.name] == [namespace_name(x)]


def test_an_adapters_facts_agree_with_its_backend(backend):
    adapter = adapters.named(backend.name)
    x = backend.asarray(np.arange(3.0))
    assert adapter.device_of(x) == backend.device
    assert adapter.device_index(backend.device) == 0  # the fixture's backends sit on the host
    np.testing.assert_array_equal(adapter.to_numpy(x), np.arange(3.0))
    assert backend._random_factory is adapter.random_factory
    assert make_backend(backend.name, device=adapter.test_device) == \
        tinyml.backend.resolve_backend(backend, dtype="float32")


def test_only_libraries_that_make_backends_are_known_backends():
    assert adapters.KNOWN_BACKENDS == ("numpy", "cupy", "array_api_strict", "torch")
    assert not adapters.named("ndonnx").makes_backend
    with pytest.raises(ValueError, match="unknown backend 'ndonnx'"):
        make_backend("ndonnx")


class _Missing(Adapter):
    name = "missing"
    module = "tinyml_no_such_library"
    install = "pip install no-such-library"


def test_a_new_library_inherits_standard_defaults():
    """DLPack home, array_api_compat's device, device index 0, host draws, no natives."""
    adapter = _Missing()
    x = np.arange(4.0)
    np.testing.assert_array_equal(adapter.to_numpy(x), x)
    assert adapter.device_of(x) == "cpu"
    assert adapter.device_index("cpu") == 0
    assert adapter.natives == {} and adapter.random_factory is HostRandom
    with pytest.raises(ValueError, match="the missing backend takes no device"):
        adapter.device("gpu")


def test_a_missing_library_says_how_to_install_it_and_skips_its_tests():
    adapter = _Missing()
    assert adapter.test_skip_reason() == \
        "tinyml_no_such_library is not installed (optional backend)"
    with pytest.raises(RuntimeError, match="needs the 'tinyml_no_such_library' package.*"
                                           "Install it with: pip install no-such-library"):
        adapter.namespace()


def test_to_numpy_asks_the_adapter_of_the_arrays_library(backend):
    x = backend.asarray([1.0, 2.0])
    np.testing.assert_array_equal(to_numpy(x), adapters.named(backend.name).to_numpy(x))


NEW_LIBRARY = """
from tinyml.backend.adapters.base import Adapter


class NewLibraryAdapter(Adapter):
    name = module = "tinyml_new_library"

    def is_namespace(self, xp):
        return getattr(xp, "__name__", None) == "tinyml_new_library"


ADAPTER = NewLibraryAdapter()
"""


def test_a_new_library_is_one_module_in_the_adapters_package(tmp_path, monkeypatch):
    """Found by being there, listed after tinyml's own (its rank is the default)."""
    (tmp_path / "tinyml_new_library.py").write_text(NEW_LIBRARY)
    monkeypatch.setattr(adapters, "__path__", [*adapters.__path__, str(tmp_path)])
    try:
        found = adapters._found()
    finally:  # leave no trace of it for the tests that follow
        sys.modules.pop("tinyml.backend.adapters.tinyml_new_library", None)
        vars(adapters).pop("tinyml_new_library", None)
    assert [a.name for a in found] == [*(a.name for a in adapters.ADAPTERS),
                                       "tinyml_new_library"]
    assert found[-1].makes_backend and found[-1].test_skip_reason() == \
        "tinyml_new_library is not installed (optional backend)"
