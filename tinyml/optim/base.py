"""Optimizer: the part every optimizer shares.

A subclass declares its hyperparameters and one update of one parameter; the base does the
rest, one job per file:

- ``hyperparameters.py``: the declared hyperparameters, checked (``lr`` and its setter);
- ``options.py``: the three options every optimizer takes as keywords, ``clip_norm`` (global
  gradient clipping), ``decay_filter`` (which parameters get weight decay) and ``scheduler``
  (the learning rate per step);
- ``stepping.py``: the step, which walks the parameters and skips frozen ones;
- ``placement.py``: each parameter's state beside it, moved when the parameter moves;
- ``saving.py``: ``state_dict`` and the checked ``load_state_dict``.

Writing an optimizer::

    class SGD(Optimizer):
        declared_arguments = {                    # signature order, lr first
            "lr": Real(above=0.0),
            "momentum": Real(at_least=0.0, below=1.0),
            "nesterov": Flag(),
            "weight_decay": Real(at_least=0.0),
        }
        state_keys = ("momentum_buffer",)

        def __init__(self, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
            super().__init__(lr, momentum=momentum, nesterov=nesterov,
                             weight_decay=weight_decay)  # checks and sets them all

        def _check_together(self, hyperparameters):   # optional: rules across arguments
            ...

        def update(self, data, grad, state, *, xp, weight_decay):  # in place, one parameter
            ...                                   # the pure function of arrays does the math

``init_state(data, *, xp)`` may return the arrays to start from (Adam's zeros); by default a
parameter's state starts as ``{"step": 0}`` and ``update`` adds what it keeps. An optimizer
with a ``"weight_decay"`` hyperparameter receives ``weight_decay=`` in ``update``: its own
value, or 0.0 for a parameter that ``decay_filter`` exempts; others are called without it.
"""

from .hyperparameters import OptimizerHyperparameters
from .options import OptimizerOptions
from .placement import OptimizerPlacement
from .saving import OptimizerSaving
from .stepping import OptimizerStep


class Optimizer(OptimizerHyperparameters, OptimizerOptions, OptimizerStep,
                OptimizerPlacement, OptimizerSaving):
    r"""Base class: per-parameter state keyed by parameter name, a step count, ``state_dict``.

    Attributes
    ----------
    lr : float
        The learning rate; settable between steps (validated), used from the next step on.
    step_count : int
        How many times :meth:`step` has run.
    state : dict
        ``{parameter name: {"step": int, key: array, ...}}``: how many updates the parameter
        has had, and the arrays in :attr:`state_keys` on the parameter's backend, device and
        dtype. Created on a parameter's first update; frozen parameters get none.

    Options (keyword-only on every optimizer; settable later, validated)
    --------------------------------------------------------------------
    clip_norm : float > 0 or None
        Before each update, scale all the trainable parameters' gradients by one factor so
        that their global L2 norm is at most `clip_norm`, as
        ``torch.nn.utils.clip_grad_norm_(parameters, clip_norm)``:

        .. math::
            n = \sqrt{\textstyle\sum_p \lVert g_p \rVert_2^2}, \qquad
            g_p \leftarrow g_p \cdot \min\!\left(1, \frac{c}{n + 10^{-6}}\right)

        The factor is a 0-d array computed on the device and multiplied in; nothing is read
        back. Unlike PyTorch, ``parameter.grad`` is NOT changed in place: the update uses a
        scaled copy, so the gradients a callback sees after the step are the unclipped ones.
        A NaN or inf norm gives NaN gradients, as in PyTorch (which does not check by default).
    decay_filter : callable ``(name, parameter) -> bool`` or None
        Which parameters get weight decay: True decays the parameter, False updates it with
        ``weight_decay=0``. None decays all of them. :func:`no_decay_for_bias_and_norm` is the
        usual choice (no decay for biases and normalization weights). Called for every
        trainable parameter at every step, before any parameter is updated; only optimizers
        with a ``weight_decay`` hyperparameter accept it.
    scheduler : object with ``learning_rate(step, cur_loss=None) -> float``, or None
        Before each step the optimizer sets ``lr = scheduler.learning_rate(step,
        cur_loss=...)``, where `step` is 1-BASED: the number of updates made once this one is
        done (1 at the first step, ``step_count + 1`` in general; the same count as each
        parameter's ``state["step"]`` and Adam's bias correction). `cur_loss` is the value
        given to :meth:`report_loss`, passed at the first step after each report and None at
        the others, so a schedule that counts reports (ReduceOnPlateau, King) counts epochs,
        not steps. A schedule may return 0.0 (the end of a
        cosine, the start of a warm-up); a value set by hand on ``lr`` is overridden at the next
        step.

    The three options are not part of :meth:`state_dict`: build the resumed optimizer with the
    same ones (the step count it loads keeps a schedule where it was).

    Subclasses set :attr:`declared_arguments` (``{argument: rule}`` of the constructor's
    arguments, ``"lr"`` first; :attr:`hyperparameter_names` follows from it) and
    :attr:`state_keys`, pass their hyperparameters to this constructor by keyword, and
    implement :meth:`update`. Every state array has its parameter's shape.
    """

    _api_inherited_members = True  # the docs show the members of the parts above
    state_keys = ()

    def __init__(self, lr, *, clip_norm=None, decay_filter=None, scheduler=None,
                 **hyperparameters):
        self._set_hyperparameters({"lr": lr, **hyperparameters})
        self.clip_norm = clip_norm
        self.decay_filter = decay_filter
        self.scheduler = scheduler
        self.step_count = 0
        self.state = {}
        self.reported_loss = None  # the last report_loss value
        self._unseen_loss = None  # ... until the scheduler has been handed it once
        self._placed = {}  # name -> (data, grad, xp) as last checked: the per-step fast path
        self._loaded = ()  # names load_state_dict brought, checked against the next step's

    @property
    def _name(self):
        return type(self).__name__

    # ---------------------------------------------------------------- what subclasses write
    def init_state(self, data, *, xp):
        """The arrays a parameter's state starts with (made with `xp` next to `data`)."""
        return {}

    def expected_state_keys(self):
        """The keys (besides "step") that a parameter's state holds after an update, with these
        hyperparameters (Adam's amsgrad adds one);
        :meth:`~tinyml.optim.Optimizer.load_state_dict` requires exactly these. Default: all of
        :attr:`state_keys`."""
        return self.state_keys

    def update(self, data, grad, state, *, xp, weight_decay=None):
        """Update one parameter's `data` in place from `grad`, keeping arrays in `state`.

        ``state["step"]`` already counts this update (1 on the first). `grad` is
        ``parameter.grad``, or a scaled copy of it under ``clip_norm``: never write into it.
        `weight_decay` is passed only to optimizers that have that hyperparameter.
        """
        raise NotImplementedError(f"{self._name} must implement update(data, grad, state, xp=)")

    def __repr__(self):
        settings = [f"{name}={value}" for name, value in self.hyperparameters.items()]
        settings += [f"{name}={value!r}" for name, value in (
            ("clip_norm", self._clip_norm), ("decay_filter", self._decay_filter),
            ("scheduler", self._scheduler)) if value is not None]
        return f"{self._name}({', '.join(settings)})"

