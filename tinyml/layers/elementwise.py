r"""The elementwise activations: ReLu, Sigmoid, Tanh, LeakyReLU, ELU, SELU, GELU, SoftPlus,
HardSigmoid, Exponential, Identity and Affine (Softmax and LogSoftmax, which normalize along an
axis, are in :mod:`tinyml.layers.softmax`).

Each is a layer with no parameters: forward computes :math:`y = f(x)` elementwise and keeps
what its backward needs; backward returns :math:`\partial L/\partial x = g \odot f'(x)`.
Every formula is taken in a form that does not overflow for large finite :math:`|x|`, except
where :math:`f` itself does (Exponential; Affine and LeakyReLU scale :math:`x`).
At a kink each layer uses the subgradient PyTorch's backward gives there, named in its
docstring. Options are Python floats, so float32 work stays float32.

The math is the backend operation ``activation`` (:mod:`tinyml.backend.ops.activations`):
its portable forms in standard calls, and natives where a library has the kernel (PyTorch's
own activations and their backward; in-place NumPy).
"""

from ..backend import ops
from ..core import Layer
from ..core.params import Flag, Real

# PyTorch's SELU constants (Klambauer et al. 2017), to double precision.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class _Elementwise(Layer):
    """An elementwise activation computed by the backend operation ``activation``: a subclass
    names its ``kind`` and, through ``_options()``, that kind's options."""

    kind = None

    def _options(self):
        return {}

    def forward(self, input):
        xp = self._input_namespace(input)
        output, backward = ops.activation(input, kind=self.kind, xp=xp, **self._options())
        # the output too, so that saved() checks where the gradient lives against an array
        self.save_for_backward(output, backward, output_shape=input.shape)
        return output

    def backward(self, in_gradient, *, input_gradient=True):
        _, _, backward = self.saved(in_gradient)
        return backward(in_gradient) if input_gradient else None


class ReLu(_Elementwise):
    r"""Rectified linear unit, ``y = max(0, x)`` elementwise.

    Notes
    -----
    Forward: :math:`y = x \cdot [x > 0]`.
    Backward: :math:`\partial L/\partial x = g \cdot [x > 0]` (the subgradient 0 at x = 0, as
    PyTorch).

    The mask multiply measured 2x faster than ``maximum(x, 0)`` and 18x faster than ``where``
    on NumPy; its one difference is at ``x = -inf``, which gives NaN (PyTorch gives 0).
    """

    kind = "relu"


ReLU = ReLu


class Sigmoid(_Elementwise):
    r"""The logistic function elementwise, ``y = 1 / (1 + exp(-x))``, values in (0, 1).

    Notes
    -----
    Forward (``sigmoid``): :math:`y = 1/(1 + e^{-x})` for :math:`x \ge 0` and
    :math:`e^{x}/(1 + e^{x})` for :math:`x < 0`, so no exponential overflows for large
    :math:`|x|`.

    Backward: :math:`\partial L/\partial x = g \, y (1 - y)`.

    When a net ends in Sigmoid and is trained with ``binary_cross_entropy``, the training step
    skips this layer and computes ``binary_cross_entropy_with_logits`` on its input (gradient
    :math:`(\sigma(x) - t)/M`): a row of the fusion table, :mod:`tinyml.losses.fusions`.
    """

    kind = "sigmoid"


class Tanh(_Elementwise):
    r"""Hyperbolic tangent, ``y = tanh(x)``, values in (-1, 1).

    Notes
    -----
    Forward: :math:`y = \tanh x` (the library's ``tanh``, finite for every :math:`x`).
    Backward: :math:`\partial L/\partial x = g\,(1 - y^2)`.
    """

    kind = "tanh"


class LeakyReLU(_Elementwise):
    r"""Leaky rectifier: ``y = x`` for ``x > 0`` and ``alpha * x`` otherwise.

    Parameters
    ----------
    name : str
    alpha : float >= 0, default 0.3
        The slope for :math:`x \le 0` (numpy-ml's and Keras' default 0.3; PyTorch's
        ``negative_slope`` defaults to 0.01). A negative slope would make the function
        non-monotonic and is refused.

    Notes
    -----
    Forward: :math:`y = s\,x` with the slope :math:`s = \alpha + (1 - \alpha)[x > 0]`, kept
    for backward (for :math:`\alpha = 0`, :math:`y = \max(x, 0)`, so that :math:`x = -\infty`
    gives 0, not NaN).
    Backward: :math:`\partial L/\partial x = g\,s`: the slope :math:`\alpha` at
    :math:`x = 0`, as PyTorch's ``leaky_relu``.
    """

    kind = "leaky_relu"

    declared_arguments = {"alpha": Real(at_least=0.0, label="alpha (the slope for x <= 0)")}

    def __init__(self, name, *, alpha=0.3):
        super().__init__(name, alpha=alpha)

    def _options(self):
        return {"alpha": self.alpha}


class ELU(_Elementwise):
    r"""Exponential linear unit: ``y = x`` for ``x > 0`` and ``alpha * (exp(x) - 1)`` otherwise.

    Parameters
    ----------
    name : str
    alpha : float >= 0, default 1.0
        The saturation value :math:`-\alpha` for :math:`x \to -\infty` (0 gives ReLU).

    Notes
    -----
    Forward (``elu``): :math:`y = \max(x, 0) + \alpha\,\mathrm{expm1}(\min(x, 0))`, so no
    exponential of a large positive :math:`x` is taken: finite for every finite :math:`x`
    (:math:`-\alpha` below about -37 in float64).
    Backward (``elu_slope``): :math:`\partial L/\partial x = g` for :math:`x > 0` and
    :math:`g\,\alpha e^{x}` for :math:`x \le 0`: the slope :math:`\alpha` at :math:`x = 0`, as
    PyTorch's ``elu``.
    """

    kind = "elu"

    declared_arguments = {
        "alpha": Real(at_least=0.0, label="alpha (the saturation value is -alpha)")}

    def __init__(self, name, *, alpha=1.0):
        super().__init__(name, alpha=alpha)

    def _options(self):
        return {"alpha": self.alpha, "scale": 1.0}


class SELU(_Elementwise):
    r"""Scaled ELU (Klambauer et al. 2017): ``y = scale * elu(x, alpha)`` with PyTorch's
    constants ``alpha = 1.6732632423543772``, ``scale = 1.0507009873554805``
    (``SELU_ALPHA``, ``SELU_SCALE``).

    Notes
    -----
    Forward: :math:`y = \lambda x` for :math:`x > 0` and :math:`\lambda\alpha(e^{x} - 1)`
    otherwise (the stable ``elu``), finite unless :math:`\lambda x` itself overflows
    (:math:`x` above the dtype's largest value over :math:`\lambda`).
    Backward: :math:`\partial L/\partial x = g\,\lambda` for :math:`x > 0` and
    :math:`g\,\lambda\alpha e^{x}` for :math:`x \le 0`: the slope :math:`\lambda\alpha` at
    :math:`x = 0`, as PyTorch's ``selu``.
    """

    kind = "elu"

    def _options(self):
        return {"alpha": SELU_ALPHA, "scale": SELU_SCALE}


class GELU(_Elementwise):
    r"""Gaussian error linear unit, ``y = x * Phi(x)`` with ``Phi`` the standard normal CDF.

    Parameters
    ----------
    name : str
    approximate : bool, default False
        False: the exact form through erf. True: the tanh approximation (PyTorch's
        ``approximate="tanh"``).

    Notes
    -----
    Exact: :math:`\Phi(x) = \tfrac12\operatorname{erfc}(-x/\sqrt2)`, with Cody's erfc in
    standard calls (:mod:`tinyml.backend.ops.erf`, accurate to about 1e-15), so
    :math:`y = x\,\Phi(x)` keeps its relative accuracy for negative :math:`x` too.
    Backward: :math:`\partial L/\partial x = g\,(\Phi(x) + x\,\varphi(x))`,
    :math:`\varphi(x) = e^{-x^2/2}/\sqrt{2\pi}`.

    Tanh form: :math:`u = \sqrt{2/\pi}\,(x + 0.044715\,x^3)` and
    :math:`y = \tfrac12 x(1 + \tanh u) = x\,\sigma(2u)`, the sigmoid form avoiding the
    cancellation of :math:`1 + \tanh u` for negative :math:`x`.
    Backward: :math:`\partial L/\partial x = g\,\big(\sigma(2u) + 2x\,\sigma'(2u)\,
    \sqrt{2/\pi}\,(1 + 3 \cdot 0.044715\,x^2)\big)`.

    Inside :math:`\varphi`, :math:`u` and their factors :math:`x` is clipped to
    :math:`[-40, 40]`, where those terms are already exactly 0 or 1 in float32 and float64, so
    :math:`x^2` and :math:`x^3` cannot overflow and every finite :math:`x` gives finite
    values.

    In float32, :math:`\Phi` comes from a one-formula erfc (``erfc_single``, Numerical
    Recipes' fit), a third of the array passes of Cody's three intervals, within a relative
    2e-6 where :math:`\Phi(x) > 10^{-6}`. On the torch backend both forms are PyTorch's own
    ``gelu`` and ``gelu_backward``, whose :math:`1 + \operatorname{erf}` has PyTorch's accuracy:
    absolute (about :math:`10^{-16}|x|` in float64), not relative, in the lower tail.
    """

    kind = "gelu"

    declared_arguments = {"approximate": Flag()}  # True: the tanh form; False: the exact erf

    def __init__(self, name, *, approximate=False):
        super().__init__(name, approximate=approximate)

    def _options(self):
        return {"approximate": self.approximate}


class SoftPlus(_Elementwise):
    r"""Smooth rectifier, ``y = log(1 + exp(x))``, values in (0, inf).

    Notes
    -----
    Forward (``softplus``): :math:`y = \max(x, 0) + \log(1 + e^{-|x|})`, finite for every
    finite :math:`x` (about :math:`x` for large :math:`x`, about :math:`e^{x}` for very negative
    ones, 0 below about -745).
    Backward: :math:`\partial L/\partial x = g\,\sigma(x)` (the stable ``sigmoid``).

    PyTorch's ``softplus(x, beta=1, threshold=20)`` computes the same below its threshold but
    returns :math:`x` itself, with slope exactly 1, for :math:`x > 20`; tinyml keeps the exact
    form there, which differs from PyTorch's by :math:`\log(1 + e^{-x}) < 2.1 \cdot 10^{-9}`
    in the value and by :math:`1 - \sigma(x) < 2.1 \cdot 10^{-9}` in the slope.
    """

    kind = "softplus"


class HardSigmoid(_Elementwise):
    r"""numpy-ml's piecewise-linear sigmoid, ``y = clip(0.2 x + 0.5, 0, 1)``.

    Notes
    -----
    Forward: :math:`y = \min(1, \max(0, 0.2x + 0.5))`: 0 for :math:`x \le -2.5`, 1 for
    :math:`x \ge 2.5`.
    Backward: :math:`\partial L/\partial x = 0.2\,g\,[-2.5 < x < 2.5]`: slope 0 at the kinks
    :math:`x = \pm 2.5`, as numpy-ml and as PyTorch at its own kinks.

    PyTorch's ``hardsigmoid`` is a different function, :math:`\mathrm{clip}(x/6 + 1/2, 0, 1)`,
    with kinks at :math:`\pm 3`; this one is ``torch.nn.functional.hardsigmoid(1.2 * x)``.
    """

    kind = "hard_sigmoid"


class Exponential(_Elementwise):
    r"""The exponential, ``y = exp(x)``.

    Notes
    -----
    Forward: :math:`y = e^{x}`. Backward: :math:`\partial L/\partial x = g\,y`.

    It overflows by definition: above :math:`x \approx 709.78` in float64 (88.72 in float32)
    :math:`y` is ``inf`` (NumPy also warns "overflow encountered in exp"), and so is the
    gradient wherever :math:`g \ne 0` (NaN where :math:`g = 0`). Below about -745 it is 0.
    """

    kind = "exponential"


class Identity(Layer):
    r"""The identity, ``y = x`` (numpy-ml's default activation).

    Notes
    -----
    Forward: :math:`y = x`, the input array itself (no copy). Backward:
    :math:`\partial L/\partial x = g`, the in_gradient itself.
    """

    def forward(self, input):
        self._input_namespace(input)
        self.save_for_backward(input, output_shape=input.shape)  # so backward checks where g lives
        return input

    def backward(self, in_gradient, *, input_gradient=True):
        self.saved(in_gradient)
        return in_gradient if input_gradient else None


class Affine(Layer):
    r"""A fixed affine map, ``y = slope * x + intercept`` (numpy-ml's Affine activation).

    Parameters
    ----------
    name : str
    slope, intercept : float, default 1.0 and 0.0
        Fixed numbers, not trained parameters.

    Notes
    -----
    Forward: :math:`y = a x + b`. Backward: :math:`\partial L/\partial x = a\,g`.
    Like any scaling it overflows where :math:`|a x|` exceeds the dtype's largest value.
    """

    declared_arguments = {"slope": Real(), "intercept": Real()}

    def __init__(self, name, *, slope=1.0, intercept=0.0):
        super().__init__(name, slope=slope, intercept=intercept)

    def forward(self, input):
        self._input_namespace(input)
        output = self.slope * input + self.intercept
        self.save_for_backward(output, output_shape=input.shape)  # so backward checks where g lives
        return output

    def backward(self, in_gradient, *, input_gradient=True):
        self.saved(in_gradient)
        return self.slope * in_gradient if input_gradient else None
