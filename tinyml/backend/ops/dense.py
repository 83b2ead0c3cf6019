r"""linear: the affine map of a fully connected layer, ``y = x W^T + b``.

.. math:: y_{n,o} = b_o + \sum_i x_{n,i} W_{o,i}

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


def _torch_linear(x, weight, bias, *, xp):
    """``torch.nn.functional.linear`` (floating dtypes; portable for the others)."""
    if not x.is_floating_point():
        return _linear(x, weight, bias, xp=xp)
    from torch.nn.functional import linear as torch_linear

    return torch_linear(x, weight, bias)
