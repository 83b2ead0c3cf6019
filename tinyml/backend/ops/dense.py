r"""linear: the affine map of a fully connected layer, ``y = x W^T + b``; linear_backward: its
gradients, added into the parameters' ``grad``.

.. math::
    y_{n,o} = b_o + \sum_i x_{n,i} W_{o,i}, \qquad
    \nabla W \mathrel{+}= g^T x, \quad \nabla b \mathrel{+}= \textstyle\sum_n g_n,
    \quad \frac{\partial L}{\partial x} = g W

The portable path is the matmul itself; the ndonnx native is one ONNX ``Gemm`` (``MatMul``
and ``Add`` for inputs of more than two dimensions), where the portable path would be a
transpose and a matmul that ndonnx spells in several nodes. The torch native is
``torch.nn.functional.linear``: one ``addmm`` for a batch of vectors, where the portable path
dispatches a matmul and an add.
"""

from ._registry import Operation


def _check(x, weight, bias, *, xp=None):
    if len(weight.shape) != 2 or len(x.shape) < 1 or x.shape[-1] != weight.shape[1] \
            or tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(
            f"linear expects x (..., in), weight (out, in) and bias (out,); got shapes "
            f"{tuple(x.shape)}, {tuple(weight.shape)} and {tuple(bias.shape)}."
        )


def _linear(x, weight, bias, *, xp):
    r"""``x @ weight^T + bias`` for x (..., in), weight (out, in), bias (out,): (..., out)."""
    return x @ xp.matrix_transpose(weight) + bias


linear = Operation("linear", _linear, check=_check)


def _check_backward(g, x, weight, weight_grad, bias_grad, *, input_gradient=True, xp=None):
    rows, out = (x.shape[0], weight.shape[0]) if len(x.shape) == 2 else (None, None)
    if len(g.shape) != 2 or len(weight.shape) != 2 or tuple(g.shape) != (rows, out) \
            or x.shape[1] != weight.shape[1] or tuple(weight_grad.shape) != tuple(weight.shape) \
            or tuple(bias_grad.shape) != (out,):
        raise ValueError(
            f"linear_backward expects g (N, out), x (N, in), weight and weight_grad (out, in) "
            f"and bias_grad (out,); got shapes {tuple(g.shape)}, {tuple(x.shape)}, "
            f"{tuple(weight.shape)}, {tuple(weight_grad.shape)} and {tuple(bias_grad.shape)}."
        )


def _linear_backward(g, x, weight, weight_grad, bias_grad, *, input_gradient=True, xp):
    r"""Add ``g^T x`` into `weight_grad` and ``sum_n g_n`` into `bias_grad` (in place); return
    dL/dx = ``g W`` (None when not `input_gradient`). g is (N, out), x (N, in)."""
    if x.shape[0] == 1:
        # A batch of one makes g^T x an outer product with inner dimension 1, for which
        # NumPy's matmul skips BLAS (5-8x slower); broadcasting is the fast outer product.
        weight_grad += xp.reshape(g, (-1, 1)) * x
    else:
        weight_grad += xp.matrix_transpose(g) @ x
    bias_grad += xp.sum(g, axis=0)
    return g @ weight if input_gradient else None


linear_backward = Operation("linear_backward", _linear_backward, check=_check_backward)


def _torch_linear(x, weight, bias, *, xp):
    """``torch.nn.functional.linear`` (floating dtypes; portable for the others)."""
    if not x.is_floating_point():
        return _linear(x, weight, bias, xp=xp)
    from torch.nn.functional import linear as torch_linear

    return torch_linear(x, weight, bias)


def _torch_linear_backward(g, x, weight, weight_grad, bias_grad, *, input_gradient=True, xp):
    """``weight_grad.addmm_(g^T, x)``: the product accumulated where it lands, as PyTorch's
    autograd accumulates (floating dtypes; portable for the others)."""
    if not g.is_floating_point():
        return _linear_backward(g, x, weight, weight_grad, bias_grad,
                                input_gradient=input_gradient, xp=xp)
    weight_grad.addmm_(g.T, x)
    bias_grad += g.sum(0)
    return g @ weight if input_gradient else None
