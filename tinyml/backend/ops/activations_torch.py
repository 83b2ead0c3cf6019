"""The torch natives of ``activation``: PyTorch's own activation kernels and the ``aten``
backward kernels its autograd runs (one kernel each way, where the portable forms take up to
a dozen). Kinds without one here (tanh, hard_sigmoid, exponential) run their portable forms.
"""

from functools import partial

from .activations import GELU_CLIP, activation

# Softplus above this x returns x (slope 1), as PyTorch's threshold does: there log1p(exp(-x))
# is below half an ulp of x, so the result is the exact one rounded (20 is PyTorch's default,
# enough for float32; float64 needs about 37).
_SOFTPLUS_THRESHOLD = {"float32": 20.0, "float64": 40.0}


def _threshold(x):
    return _SOFTPLUS_THRESHOLD.get(str(x.dtype).rsplit(".", 1)[-1], 40.0)


def _aten():
    import torch

    return torch.ops.aten


def _relu(x):
    y = _aten().relu(x)
    return y, partial(_aten().threshold_backward, threshold=0, self=y)


def _sigmoid(x):
    # exp(log sigmoid(x)), log sigmoid(x) = -softplus(-x) being softplus with beta = -1: aten's
    # sigmoid is 1/(1 + exp(-x)), which gives 0 where the value is subnormal (x < -709.78)
    aten = _aten()
    y = aten.exp(aten.softplus(x, -1.0, _threshold(x)))
    return y, partial(aten.sigmoid_backward, output=y)


def _leaky_relu(x, *, alpha):
    aten = _aten()
    return (aten.leaky_relu(x, alpha),
            partial(aten.leaky_relu_backward, self=x, negative_slope=alpha, self_is_result=False))


def _elu(x, *, alpha, scale):
    aten = _aten()
    return (aten.elu(x, alpha, scale, 1.0),
            partial(aten.elu_backward, alpha=alpha, scale=scale, input_scale=1.0,
                    is_result=False, self_or_result=x))


def _gelu(x, *, approximate):
    aten = _aten()
    if not approximate:
        return aten.gelu(x), partial(aten.gelu_backward, self=x, approximate="none")
    # PyTorch's tanh-form backward is NaN beyond |x| ~ 1e100 (x^3 overflows); at +-40 its
    # slope is already exactly 1 or 0, as the portable form's clip makes it.
    near = aten.clamp(x, -GELU_CLIP, GELU_CLIP)
    return (aten.gelu(x, approximate="tanh"),
            partial(aten.gelu_backward, self=near, approximate="tanh"))


def _softplus(x):
    threshold = _threshold(x)
    aten = _aten()
    return (aten.softplus(x, 1.0, threshold),
            partial(aten.softplus_backward, self=x, beta=1.0, threshold=threshold))


NATIVES = {"relu": _relu, "sigmoid": _sigmoid, "leaky_relu": _leaky_relu, "elu": _elu,
           "gelu": _gelu, "softplus": _softplus}


def _torch_activation(x, *, kind, xp, **options):
    native = NATIVES.get(kind)
    if native is None:
        return activation.portable(x, kind=kind, xp=xp, **options)
    return native(x, **options)
