"""The backend shim: choosing, creating, moving, seeding, and refusing mixed arrays."""

import sys
import types

import numpy as np
import pytest

import tinyml
from tinyml.backend import array_namespace, backend_of, make_backend, to_numpy
from tinyml.testing import assert_close


def test_default_is_numpy_float32(monkeypatch):
    monkeypatch.delenv("TINYML_BACKEND", raising=False)
    tinyml.backend.reset()  # as in a new process: the next get_backend reads the variable
    backend = tinyml.get_backend()
    assert (backend.name, backend.dtype_name, backend.device) == ("numpy", "float32", "cpu")


def test_environment_variable_picks_the_default(monkeypatch):
    monkeypatch.setenv("TINYML_BACKEND", "array_api_strict")
    tinyml.backend.reset()  # as in a new process: the next get_backend reads the variable
    assert tinyml.get_backend().name == "array_api_strict"


def test_bad_environment_variable_names_it(monkeypatch):
    monkeypatch.setenv("TINYML_BACKEND", "tensorflow")
    tinyml.backend.reset()  # as in a new process: the next get_backend reads the variable
    with pytest.raises(ValueError, match="TINYML_BACKEND='tensorflow'.*known backends: numpy"):
        tinyml.get_backend()


def test_set_backend_returns_and_makes_current():
    backend = tinyml.set_backend("array_api_strict", device="device1", dtype="float64")
    assert tinyml.get_backend() is backend
    assert backend.name == "array_api_strict" and backend.dtype_name == "float64"
    assert "device1" in str(backend.device)


def test_use_backend_restores_the_previous_one_even_on_error():
    before = tinyml.set_backend("numpy")
    with pytest.raises(KeyError):
        with tinyml.use_backend("array_api_strict") as inside:
            assert tinyml.get_backend() is inside
            raise KeyError("boom")
    assert tinyml.get_backend() is before


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": "jax"}, ValueError, "unknown backend 'jax'; known backends: numpy, cupy, "
                                      "array_api_strict, torch"),
        ({"name": 3}, TypeError, "backend name must be a string"),
        ({"name": "numpy", "dtype": "float16"}, ValueError, "dtype must be one of"),
        ({"name": "numpy", "device": "cuda"}, ValueError, "one device, 'cpu'"),
        ({"name": "array_api_strict", "device": "gpu7"}, ValueError,
         "no device 'gpu7'; choose one of .*device1"),
    ],
)
def test_bad_choices_say_what_is_valid(kwargs, error, match):
    name = kwargs.pop("name")
    with pytest.raises(error, match=match):
        tinyml.set_backend(name, **kwargs)


def test_cupy_not_installed_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` fail
    with pytest.raises(RuntimeError, match=r'pip install "tinyml-xp\[cuda12\]"'):
        make_backend("cupy")


def test_cupy_without_a_gpu_reports_what_cupy_said(monkeypatch):
    def no_device():
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    runtime = types.SimpleNamespace(getDeviceCount=no_device)
    fake = types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    with pytest.raises(RuntimeError, match="no usable GPU.*cudaErrorNoDevice"):
        make_backend("cupy")


def test_asarray_gives_floats_the_backend_dtype_and_keeps_integers(backend32):
    values = tinyml.asarray(np.arange(6.0).reshape(2, 3))  # float64 on the host
    assert_close(values, np.arange(6.0).reshape(2, 3), backend=backend32)
    labels = tinyml.asarray(np.array([3, 1, 2]))
    assert_close(labels, np.array([3, 1, 2]), backend=backend32)
    assert_close(tinyml.asarray([[1.5, 2.5]]), np.array([[1.5, 2.5]]), backend=backend32)


def test_asarray_copies_host_data(backend):
    host = np.ones(3)
    on_device = tinyml.asarray(host)
    host[:] = 7.0
    np.testing.assert_array_equal(to_numpy(on_device), np.ones(3))


def test_asarray_moves_between_backends(backend):
    strict = make_backend("array_api_strict", device="device2", dtype="float64")
    elsewhere = strict.asarray(np.array([1.0, 2.0]))
    assert_close(tinyml.asarray(elsewhere), np.array([1.0, 2.0]), backend=backend)


def test_asarray_refuses_non_numeric_data(backend):
    with pytest.raises(TypeError, match="numbers only"):
        tinyml.asarray(np.array(["a", "b"]))


def test_to_numpy_brings_any_backend_home(backend):
    array = backend.asarray(np.array([[1.0, 2.0]]))
    home = to_numpy(array)
    assert isinstance(home, np.ndarray)
    np.testing.assert_array_equal(home, [[1.0, 2.0]])
    np.testing.assert_array_equal(to_numpy([1, 2]), [1, 2])


def test_same_seed_same_draws_other_seed_other_draws(backend):
    tinyml.seed(5)
    first = to_numpy(backend.uniform((4, 3)))
    tinyml.seed(5)
    again = to_numpy(backend.uniform((4, 3)))
    tinyml.seed(6)
    other = to_numpy(backend.uniform((4, 3)))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_draws_are_on_the_backend_with_the_asked_dtype_and_range(backend):
    uniform = backend.uniform((2000,), -2.0, 3.0)
    normal = backend.normal((2000,), 1.0, 0.5)
    host_u, host_n = to_numpy(uniform), to_numpy(normal)
    assert_close(uniform, host_u, backend=backend)
    assert host_u.min() >= -2.0 and host_u.max() < 3.0
    assert abs(host_n.mean() - 1.0) < 0.05 and abs(host_n.std() - 0.5) < 0.05
    assert to_numpy(backend.uniform((3,), dtype="float32")).dtype == np.float32


def test_permutation_is_a_permutation_on_the_host(backend):
    order = backend.permutation(50)
    assert isinstance(order, np.ndarray)
    np.testing.assert_array_equal(np.sort(order), np.arange(50))


def test_host_generated_backends_share_one_stream():
    """numpy, array_api_strict and torch draw on the host: one seed, the same numbers."""
    draws = []
    for name in ("numpy", "array_api_strict"):
        tinyml.seed(11)
        draws.append(to_numpy(make_backend(name, dtype="float64").normal((5,))))
    np.testing.assert_array_equal(draws[0], draws[1])


@pytest.mark.parametrize(("value", "error"), [(-1, ValueError), (1.5, TypeError),
                                              (True, TypeError), ("1", TypeError)])
def test_bad_seeds(value, error):
    with pytest.raises(error, match="seed must be a non-negative int"):
        tinyml.seed(value)


def test_array_namespace_refuses_two_libraries_and_names_both(backend):
    if backend.name == "numpy":
        pytest.skip("needs a second library")
    mine = backend.asarray(np.ones(2))
    with pytest.raises(TypeError, match=r"Linear 'fc': weight lives on numpy \(cpu\) but input "
                                        rf"lives on {backend.name}.*net\.to\("):
        array_namespace(mine, np.ones(2), names=["input", "weight"], where="Linear 'fc'")


def test_array_namespace_refuses_two_devices():
    one = make_backend("array_api_strict", device="device1").asarray(np.ones(2))
    two = make_backend("array_api_strict", device="device2").asarray(np.ones(2))
    with pytest.raises(ValueError, match="device2.*device1"):
        array_namespace(one, two, names=["input", "weight"])


def test_array_namespace_refuses_non_arrays():
    with pytest.raises(TypeError, match="input must be an array; got list"):
        array_namespace([1.0, 2.0], names=["input"])


def test_backend_of_an_array(backend):
    array = backend.asarray(np.ones(3))
    found = backend_of(array)
    assert found == backend and hash(found) == hash(backend)
    assert backend.name in repr(found)


def test_none_keeps_the_current_library_and_what_is_not_asked_to_change():
    tinyml.set_backend("array_api_strict", device="device1", dtype="float64")
    changed = tinyml.set_backend(None, device="device2")
    assert changed.name == "array_api_strict" and changed.dtype_name == "float64"
    assert "device2" in str(changed.device)
