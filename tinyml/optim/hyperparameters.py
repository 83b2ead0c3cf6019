"""Hyperparameters: each optimizer declares its constructor's arguments once
(``declared_arguments``, rules from :mod:`tinyml.core.params`), and that declaration checks
them, names them in ``hyperparameters``, ``repr`` and ``state_dict``, and checks them again in
``load_state_dict``."""

from ..core.params import Real, check_arguments

_SCHEDULED_LR = Real(at_least=0.0)


class OptimizerHyperparameters:
    """The part of :class:`~tinyml.optim.Optimizer` that keeps the declared hyperparameters."""

    declared_arguments = {"lr": Real(above=0.0)}
    hyperparameter_names = ("lr",)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.hyperparameter_names = tuple(cls.declared_arguments)

    @property
    def lr(self):
        """The learning rate, a float > 0, settable between steps (a scheduler sets it before
        each step)."""
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = self.declared_arguments["lr"].check(self._name, "lr", value, {})

    def set_scheduled_lr(self, value):
        """Set the lr to a schedule's value: a float >= 0. Unlike ``lr = value``, 0.0 is
        allowed (the end of a cosine, the start of a warm-up), which set by hand is a typo."""
        self._lr = _SCHEDULED_LR.check(self._name, "lr", value, {})

    @property
    def hyperparameters(self):
        """{name: value} of the hyperparameters, in :attr:`hyperparameter_names` order."""
        return {name: getattr(self, name) for name in self.hyperparameter_names}

    def _checked_hyperparameters(self, values):
        """{name: value} of `values` checked against the declaration, then together."""
        checked = check_arguments(self._name, self.declared_arguments, values)
        self._check_together(checked)
        return checked

    def _check_together(self, hyperparameters):
        """Raise where checked `hyperparameters` do not go together (SGD's nesterov needs
        momentum); a subclass with such a rule overrides it."""

    def _set_hyperparameters(self, values):
        for name, value in self._checked_hyperparameters(values).items():
            setattr(self, name, value)
