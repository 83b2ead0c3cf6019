"""Adam and AdamW: the classes validate hyperparameters and keep the moment estimates; a pure
function of arrays does the arithmetic, exactly as PyTorch's ``torch.optim.Adam`` / ``AdamW``."""

from ..core.params import Flag, Real, Reals
from .base import Optimizer


def adam_update(data, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2,
                eps, weight_decay, decoupled, xp):
    r"""One Adam (or AdamW) step, in place: updates `data` and the moment arrays.

    With gradient :math:`g`, step :math:`t` (1 on the first update), as PyTorch computes it:

    .. math::
        g &\leftarrow g + \lambda w \quad\text{(Adam's L2 decay)} \qquad\text{or}\qquad
        w \leftarrow w\,(1 - \eta\lambda) \quad\text{(AdamW's decoupled decay)} \\
        m &\leftarrow \beta_1 m + (1 - \beta_1)\, g \\
        v &\leftarrow \beta_2 v + (1 - \beta_2)\, g^2 \\
        \hat v &= \max(\hat v_{\text{prev}}, v) \text{ with amsgrad, else } v \\
        w &\leftarrow w - \frac{\eta}{1 - \beta_1^t} \cdot
            \frac{m}{\sqrt{\hat v} / \sqrt{1 - \beta_2^t} + \epsilon}

    So :math:`\epsilon` is added after the bias correction of the second moment (PyTorch's
    placement, not the paper's :math:`\sqrt{\hat v_t} + \epsilon` on uncorrected moments), and
    AMSGrad keeps the running maximum of the uncorrected :math:`v`.

    Parameters
    ----------
    data, grad : arrays of one shape
        The parameter (updated in place) and its gradient (read only).
    exp_avg, exp_avg_sq : arrays like `data`
        :math:`m` and :math:`v`, updated in place.
    max_exp_avg_sq : array like `data`, or None
        AMSGrad's running maximum of :math:`v` (updated in place); None without amsgrad.
    step : int >= 1
    lr, beta1, beta2, eps, weight_decay : Python floats
    decoupled : bool
        True for AdamW.
    xp : the arrays' namespace
    """
    if weight_decay:
        if decoupled:
            data *= 1.0 - lr * weight_decay
        else:
            grad = grad + weight_decay * data
    exp_avg += (1.0 - beta1) * (grad - exp_avg)  # PyTorch's lerp: beta1 m + (1 - beta1) g
    exp_avg_sq *= beta2
    exp_avg_sq += (1.0 - beta2) * (grad * grad)
    second = exp_avg_sq
    if max_exp_avg_sq is not None:
        max_exp_avg_sq[...] = xp.maximum(max_exp_avg_sq, exp_avg_sq)
        second = max_exp_avg_sq
    bias_correction1 = 1.0 - beta1**step
    bias_correction2_sqrt = (1.0 - beta2**step) ** 0.5
    denominator = xp.sqrt(second) / bias_correction2_sqrt + eps
    data -= (lr / bias_correction1) * (exp_avg / denominator)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015) with PyTorch's formula, L2 weight decay and AMSGrad.

    Parameters
    ----------
    lr : float > 0
        Learning rate :math:`\eta` (settable between steps).
    betas : (float, float), each in [0, 1)
        Decay rates :math:`(\beta_1, \beta_2)` of the first and second moment estimates.
    eps : float > 0
        Added to the bias-corrected square root of the second moment.
    weight_decay : float >= 0
        L2 penalty :math:`\lambda` added to the gradient (AdamW decouples it instead).
    amsgrad : bool
        Divide by the running maximum of the second moment (Reddi et al., 2018).
    clip_norm, decay_filter, scheduler : keyword-only, optional
        See :class:`tinyml.optim.Optimizer`.

    The formula is :func:`adam_update`'s. ``state[name]`` holds ``"exp_avg"``,
    ``"exp_avg_sq"`` (and ``"max_exp_avg_sq"`` with amsgrad), the names PyTorch uses, made as
    zeros next to the parameter on its first update; ``"step"`` (per parameter, so a parameter
    frozen for a while is bias-corrected by its own count) is the :math:`t` of the formula.

    Examples
    --------
    >>> import tinyml
    >>> from tinyml.optim import Adam
    >>> w = tinyml.Parameter(tinyml.asarray([1.0, -2.0]), name="w")
    >>> w.grad += tinyml.asarray([0.5, -1.0])
    >>> Adam(lr=0.1).step([w])          # the first step moves each weight by about lr
    >>> [round(float(v), 6) for v in tinyml.to_numpy(w.data)]
    [0.9, -1.9]
    """

    declared_arguments = {
        "lr": Real(above=0.0),
        "betas": Reals(2, Real(at_least=0.0, below=1.0)),
        "eps": Real(above=0.0),
        "weight_decay": Real(at_least=0.0),
        "amsgrad": Flag(),
    }
    state_keys = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    decoupled = False

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 *, clip_norm=None, decay_filter=None, scheduler=None):
        super().__init__(lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         clip_norm=clip_norm, decay_filter=decay_filter, scheduler=scheduler)

    def expected_state_keys(self):
        return self.state_keys if self.amsgrad else self.state_keys[:2]

    def init_state(self, data, *, xp):
        return {key: xp.zeros_like(data) for key in self.expected_state_keys()}

    def update(self, data, grad, state, *, xp, weight_decay):
        beta1, beta2 = self.betas
        adam_update(
            data, grad, state["exp_avg"], state["exp_avg_sq"],
            state["max_exp_avg_sq"] if self.amsgrad else None,
            step=state["step"], lr=self.lr, beta1=beta1, beta2=beta2, eps=self.eps,
            weight_decay=weight_decay, decoupled=self.decoupled, xp=xp,
        )


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2019): Adam with weight decay decoupled from the gradient.

    Before the Adam step each decayed weight shrinks, :math:`w \leftarrow w(1 - \eta\lambda)`
    (PyTorch's ``AdamW``: the decay is scaled by the current lr), and the moments see the bare
    gradient. The parameters are Adam's, with ``weight_decay=1e-2`` by default; see
    :func:`adam_update` for the whole formula and :class:`Adam` for the state.
    """

    decoupled = True

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 *, clip_norm=None, decay_filter=None, scheduler=None):
        super().__init__(lr, betas, eps, weight_decay, amsgrad, clip_norm=clip_norm,
                         decay_filter=decay_filter, scheduler=scheduler)
