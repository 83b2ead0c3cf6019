"""The CuPy natives without a GPU: NumPy stands in for CuPy, and the CUDA source of the
elementwise kernels is compiled as C and run on the CPU, one ``i`` at a time, as
``cupy.ElementwiseKernel`` runs it on the GPU. This checks the natives' own logic (arguments,
shapes, dtypes, and every index computation in the kernels); the real CuPy runs in the cupy
backend fixture's tests, on a machine with a GPU."""

import ctypes
import re
import shutil
import subprocess
import sys
import types

import numpy as np
import pytest
import reference

from tinyml.backend import array_namespace
from tinyml.backend.ops import col2im_matmul, cupy_kernels, im2col, scatter_add

RNG = np.random.default_rng(0)
C_TYPES = {"float32": "float", "float64": "double", "int32": "int", "int64": "long long"}
CTYPES_SCALARS = {"int": ctypes.c_int, "long long": ctypes.c_longlong,
                  "float": ctypes.c_float, "double": ctypes.c_double}


class CompiledElementwiseKernel:
    """``cupy.ElementwiseKernel(in_params, out_params, operation, name)`` on the CPU.

    Called with every parameter in order (outputs too); ``T`` is bound to the dtype of the
    first array declared ``T``. A raw parameter is a pointer the body indexes; a non-raw one
    is element ``i`` of its array; ``int32`` and the like are scalars. The loop runs ``i``
    over the size of the first non-raw array.
    """

    built = {}  # (kernel name, dtype) -> the loaded function

    def __init__(self, in_params, out_params, operation, name):
        self.params = [self._parse(p) for p in f"{in_params}, {out_params}".split(",")]
        self.operation, self.name = operation, name

    @staticmethod
    def _parse(param):
        words = param.split()
        raw = words[0] == "raw"
        return raw, words[-2], words[-1]

    def __call__(self, *args):
        assert len(args) == len(self.params), "every parameter, outputs included"
        dtype = next(a.dtype for a, (_, t, _) in zip(args, self.params, strict=True)
                     if t == "T")
        function = self._function(dtype.name)
        size = next(a.size for a, (raw, _, _) in zip(args, self.params, strict=True)
                    if isinstance(a, np.ndarray) and not raw)
        values = [ctypes.c_long(size)]
        for arg, (_, kind, _) in zip(args, self.params, strict=True):
            if isinstance(arg, np.ndarray):
                assert arg.flags.c_contiguous and arg.dtype == dtype
                values.append(ctypes.c_void_p(arg.ctypes.data))
            else:
                values.append(CTYPES_SCALARS[C_TYPES[kind]](arg))
        function(*values)

    def _source(self, dtype):
        arguments, defines = ["long _size"], []
        for raw, kind, name in self.params:
            c_type = C_TYPES[dtype] if kind == "T" else C_TYPES[kind]
            if kind != "T" and not raw:
                arguments.append(f"{c_type} {name}")
            elif raw:
                arguments.append(f"{c_type}* {name}")
            else:
                arguments.append(f"{c_type}* _{name}")
                defines.append(name)
        define = "".join(f"#define {n} (_{n}[i])\n" for n in defines)
        undefine = "".join(f"#undef {n}\n" for n in defines)
        return (f"typedef {C_TYPES[dtype]} T;\n"
                f"void {self.name}({', '.join(arguments)}) {{\n"
                f"  for (long i = 0; i < _size; ++i) {{\n{define}{{\n{self.operation}\n}}\n"
                f"{undefine}  }}\n}}\n")

    def _function(self, dtype):
        key = (self.name, dtype)
        if key not in self.built:
            folder = self.folder / f"{self.name}_{dtype}"
            folder.mkdir()
            (folder / "kernel.c").write_text(self._source(dtype))
            subprocess.run([self.compiler, "-O1", "-std=c99", "-Wall", "-Werror", "-shared",
                            "-fPIC", "-o", str(folder / "kernel.so"), str(folder / "kernel.c")],
                           check=True, capture_output=True, timeout=120)
            self.built[key] = getattr(ctypes.CDLL(str(folder / "kernel.so")), self.name)
        return self.built[key]


class _StandInDevice:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _StandInArray(np.ndarray):
    """A NumPy array with CuPy's ``.device`` (a context manager)."""

    @property
    def device(self):
        return _StandInDevice()


@pytest.fixture(scope="session")
def compiled_kernels(tmp_path_factory):
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler here to run the CUDA kernels' source on the CPU")
    CompiledElementwiseKernel.compiler = compiler
    CompiledElementwiseKernel.folder = tmp_path_factory.mktemp("kernels")
    return CompiledElementwiseKernel


@pytest.fixture
def numpy_as_cupy(monkeypatch, compiled_kernels):
    """NumPy under the module names the CuPy natives import; returns a function that makes a
    host array look like a CuPy array (``.device``)."""
    cupy = types.ModuleType("cupy")
    for name in ("zeros", "array", "empty", "matmul", "ascontiguousarray"):
        setattr(cupy, name, getattr(np, name))
    cupy.ElementwiseKernel = compiled_kernels
    cupyx = types.ModuleType("cupyx")

    def scatter_add_like_cupy(out, indices, values):
        if values.dtype == np.int64:
            raise TypeError("scatter_add only supports int32, float16, float32, float64, ...")
        np.add.at(out, indices, values)

    cupyx.scatter_add = scatter_add_like_cupy
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "cupyx", cupyx)
    monkeypatch.setattr(cupy_kernels, "_compiled", {})
    return lambda x: np.asarray(x).view(_StandInArray)


def test_the_kernels_are_plain_c_in_cudas_subset():
    """No CUDA-only syntax that the C compile of the tests would not see (it would fail to
    compile there anyway; this says why)."""
    for _, _, body, _ in (cupy_kernels.IM2COL, cupy_kernels.COL2IM):
        assert not re.search(r"__\w+__|threadIdx|blockIdx|atomic", body)


@pytest.mark.parametrize(
    ("shape", "kh", "kw", "stride", "dilation", "spare"),
    [((2, 3, 5, 5), 3, 3, 1, 1, 0), ((1, 2, 6, 7), 2, 3, 2, 1, 0), ((2, 1, 7, 6), 3, 2, 2, 2, 0),
     ((1, 1, 4, 4), 1, 1, 3, 1, 0), ((2, 2, 9, 8), 3, 2, 2, 1, 2)],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_kernel(numpy_as_cupy, shape, kh, kw, stride, dilation, spare, dtype):
    x = RNG.standard_normal(shape).astype(dtype)
    out_h = (shape[2] - spare - dilation * (kh - 1) - 1) // stride + 1
    out_w = (shape[3] - spare - dilation * (kw - 1) - 1) // stride + 1
    transposed = numpy_as_cupy(np.swapaxes(np.ascontiguousarray(np.swapaxes(x, 2, 3)), 2, 3))
    cols = im2col.natives["cupy"](transposed, kh, kw, stride=stride, dilation=dilation,
                                  out_h=out_h, out_w=out_w, xp=np)
    assert cols.dtype == dtype and cols.shape == (shape[0], shape[1] * kh * kw, out_h * out_w)
    np.testing.assert_array_equal(cols, reference.im2col(x, kh, kw, stride, dilation, out_h,
                                                         out_w).astype(dtype))


@pytest.mark.parametrize(
    ("g_shape", "b", "kh", "kw", "stride", "dilation", "extra"),
    [((2, 3, 3, 3), 2, 3, 3, 1, 1, 0), ((1, 2, 2, 3), 3, 2, 3, 2, 1, 1),
     ((2, 1, 3, 2), 2, 2, 2, 2, 2, 2), ((2, 4, 5, 5), 3, 1, 1, 1, 1, 0),
     ((1, 2, 3, 4), 2, 3, 3, 3, 1, 0)],  # stride above the kernel: pixels no window covers
)
def test_col2im_kernel(numpy_as_cupy, g_shape, b, kh, kw, stride, dilation, extra):
    n, a, h, w = g_shape
    g, weight = RNG.standard_normal(g_shape), RNG.standard_normal((a, b, kh, kw))
    full = reference.conv_transpose2d(g, weight, np.zeros(b), stride, 0, dilation)
    expected = np.zeros((n, b, full.shape[2] + extra, full.shape[3] + 2 * extra))
    expected[:, :, :full.shape[2], :full.shape[3]] = full
    out = col2im_matmul.natives["cupy"](numpy_as_cupy(g), numpy_as_cupy(weight), stride=stride,
                                        dilation=dilation, out_shape=expected.shape, xp=np)
    assert out.shape == expected.shape and out.dtype == np.float64
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_scatter_add_native(numpy_as_cupy):
    indices = RNG.integers(0, 5, size=40)
    for dtype in (np.float32, np.float64, np.int64):  # int64: no atomicAdd, the portable path
        values = RNG.integers(-9, 9, size=(40, 2)).astype(dtype)
        # The namespace a real call gets: array-api-compat's (bare NumPy 1.26 lacks device=).
        out = scatter_add.natives["cupy"](indices, numpy_as_cupy(values), 5,
                                          xp=array_namespace(values))
        expected = np.zeros((5, 2), dtype=dtype)
        np.add.at(expected, indices, values)
        np.testing.assert_array_equal(out, expected)
        assert out.dtype == dtype
