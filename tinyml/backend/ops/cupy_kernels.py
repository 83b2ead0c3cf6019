"""CuPy natives of im2col and col2im_matmul: one elementwise CUDA kernel each (the way Chainer
ran convolutions before cuDNN), the products on cuBLAS.

On a GPU every array operation is a kernel launch. The portable paths launch one per kernel
offset (25 slices, and 25 matmuls and 25 strided adds for col2im_matmul); here im2col is one
launch, and col2im_matmul one GEMM plus one launch. Each kernel thread computes one output
element; col2im GATHERS, for each image pixel, the columns of the windows that cover it, so
no two threads write the same element and no atomics are needed.

The kernels are plain C in the subset CUDA shares (integer arithmetic, ``if``, ``for``), and
``i`` is the element's index, as ``cupy.ElementwiseKernel`` defines it. The tests compile the
same source with a C compiler and run it on NumPy arrays, so the index arithmetic is checked
on machines without a GPU.
"""


# (in_params, out_params, operation, name): cupy.ElementwiseKernel's four arguments.
IM2COL = (
    "raw T img, int32 h, int32 w, int32 out_h, int32 out_w, int32 kh, int32 kw, "
    "int32 stride, int32 dilation",
    "T col",
    """
    // col (N*C, kh, kw, out_h, out_w) from img (N*C, h, w), both C-contiguous
    int q = i % out_w;
    int p = i / out_w % out_h;
    int kj = i / (out_w * out_h) % kw;
    int ki = i / (out_w * out_h * kw) % kh;
    long plane = i / ((long)out_w * out_h * kw * kh);
    int y = p * stride + ki * dilation;
    int x = q * stride + kj * dilation;
    col = img[(plane * h + y) * w + x];
    """,
    "tinyml_im2col",
)

COL2IM = (
    "raw T col, int32 h, int32 w, int32 out_h, int32 out_w, int32 kh, int32 kw, "
    "int32 stride, int32 dilation",
    "T img",
    """
    // img (N*C, h, w): the sum of the columns (N*C, kh, kw, out_h, out_w) whose windows
    // cover each pixel; pixels no window reaches get 0
    int x = i % w;
    int y = i / w % h;
    long plane = i / ((long)w * h);
    T total = 0;
    for (int ki = 0; ki < kh; ++ki) {
        int rows = y - ki * dilation;
        if (rows < 0) break;
        if (rows % stride != 0) continue;
        int p = rows / stride;
        if (p >= out_h) continue;
        for (int kj = 0; kj < kw; ++kj) {
            int cols = x - kj * dilation;
            if (cols < 0) break;
            if (cols % stride != 0) continue;
            int q = cols / stride;
            if (q >= out_w) continue;
            total += col[(((plane * kh + ki) * kw + kj) * out_h + p) * out_w + q];
        }
    }
    img = total;
    """,
    "tinyml_col2im",
)

_compiled = {}


def kernel(definition):
    """The ``cupy.ElementwiseKernel`` of `definition` (IM2COL or COL2IM), built once."""
    import cupy

    name = definition[3]
    if name not in _compiled:
        _compiled[name] = cupy.ElementwiseKernel(*definition)
    return _compiled[name]


def _cupy_im2col(x, kh, kw, *, stride, dilation, out_h, out_w, xp):
    """One launch of IM2COL over the (N, C, kh, kw, OH, OW) columns."""
    import cupy

    n, c, h, w = x.shape
    with x.device:
        image = cupy.ascontiguousarray(x)
        cols = cupy.empty((n, c * kh * kw, out_h * out_w), dtype=x.dtype)
        kernel(IM2COL)(image, h, w, out_h, out_w, kh, kw, stride, dilation, cols)
    return cols


def _cupy_col2im_matmul(g, weight, *, stride, dilation, out_shape, xp):
    """One cuBLAS GEMM ``weight^T @ g`` to columns, then one launch of COL2IM."""
    import cupy

    n, a, h, w = g.shape
    b, kh, kw = weight.shape[1], weight.shape[2], weight.shape[3]
    with g.device:
        kernels = cupy.ascontiguousarray(weight).reshape(a, b * kh * kw)
        cols = cupy.matmul(kernels.T, cupy.ascontiguousarray(g).reshape(n, a, h * w))
        image = cupy.empty(tuple(out_shape), dtype=cols.dtype)
        kernel(COL2IM)(cols, out_shape[2], out_shape[3], h, w, kh, kw, stride, dilation, image)
    return image
