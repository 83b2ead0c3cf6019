"""SGD: the class validates hyperparameters and keeps the momentum buffers; a pure function of
arrays does the arithmetic."""

from ..backend.ops import sgd_step
from ..backend.ops.optimizers import sgd_update
from ..core.params import Flag, Real
from .base import Optimizer

__all__ = ["SGD", "sgd_update"]


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov and weight decay.

    Parameters
    ----------
    lr : float > 0
        Learning rate (settable between steps).
    momentum : float in [0, 1)
    nesterov : bool
        Nesterov momentum (needs momentum > 0).
    weight_decay : float >= 0
        L2 penalty added to the gradient.
    clip_norm, decay_filter, scheduler : keyword-only, optional
        Global gradient clipping, which parameters get weight decay, and a learning-rate
        schedule: see :class:`tinyml.optim.Optimizer`.

    With momentum, ``state[name]["momentum_buffer"]`` is created on a parameter's first
    update next to it (same backend, device and dtype) and follows it when the net moves.
    """

    declared_arguments = {
        "lr": Real(above=0.0),
        "momentum": Real(at_least=0.0, below=1.0),
        "nesterov": Flag(),
        "weight_decay": Real(at_least=0.0),
    }
    state_keys = ("momentum_buffer",)

    def __init__(self, lr, momentum=0.0, nesterov=False, weight_decay=0.0, *, clip_norm=None,
                 decay_filter=None, scheduler=None):
        super().__init__(lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay,
                         clip_norm=clip_norm, decay_filter=decay_filter, scheduler=scheduler)

    def _check_together(self, hyperparameters):
        if hyperparameters["nesterov"] and hyperparameters["momentum"] == 0.0:
            raise ValueError(f"{self._name}: nesterov=True needs momentum > 0")

    def expected_state_keys(self):
        return ("momentum_buffer",) if self.momentum else ()

    def update(self, data, grad, state, *, xp, weight_decay):
        buffer = sgd_update(
            data, grad, state.get("momentum_buffer"), lr=self.lr, momentum=self.momentum,
            nesterov=self.nesterov, weight_decay=weight_decay, xp=xp,
        )
        if buffer is not None:
            state["momentum_buffer"] = buffer

    def update_all(self, datas, grads, states, *, xp, weight_decays):
        """All parameters of one library in one ``sgd_step`` (a few multi-tensor calls on
        the torch backend instead of four operations a parameter). A subclass that
        overrides :meth:`update` gets its ``update`` called on each parameter instead."""
        if type(self).update is not SGD.update:
            return super().update_all(datas, grads, states, xp=xp, weight_decays=weight_decays)
        buffers = sgd_step(datas, grads, [state.get("momentum_buffer") for state in states],
                           lr=self.lr, momentum=self.momentum, nesterov=self.nesterov,
                           weight_decays=weight_decays, xp=xp)
        if self.momentum:
            for state, buffer in zip(states, buffers, strict=True):
                state["momentum_buffer"] = buffer
