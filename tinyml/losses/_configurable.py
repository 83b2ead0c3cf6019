r"""Losses with options: configured by a keyword-only call, compared by function and options.

``@configurable(check)`` turns ``def huber(predicted, ground_truth, *, delta=1.0)`` into a
:class:`Loss` that is called two ways:

- ``huber(predicted, ground_truth)`` computes, with the options it holds (the defaults here);
- ``huber(delta=2.0)`` (keywords only) returns a new :class:`Loss` holding ``delta=2.0``.

Two losses are equal when they wrap the same function with the same options, so
``huber(delta=1.0) == huber`` and a configured loss can be looked up in a table (the fusion
table matches a row by the function, its *family*, and hands the options on).
Options are checked once, when the loss is configured, by ``check(who, options)``, which
returns them normalized (Python floats, so float32 work stays float32).
"""

import functools
import inspect
import math
import numbers
from types import MappingProxyType


class Loss:
    """A loss function together with the options it computes with.

    Attributes
    ----------
    function : callable
        ``function(predicted, ground_truth, **options) -> (loss, gradient)``: the family.
    options : mapping
        Every option, defaults filled in (read only).
    defaults : mapping
        The function's own defaults.
    """

    def __init__(self, function, options, check):
        functools.update_wrapper(self, function)
        self.function = function
        self.defaults = MappingProxyType(_keyword_defaults(function))
        self.options = MappingProxyType(dict(options))
        self._check = check

    # ---------------------------------------------------------------- calling
    def __call__(self, predicted=None, ground_truth=None, **options):
        if predicted is None and ground_truth is None:
            if not options:
                raise TypeError(
                    f"{self.__name__}: call it with (predicted, ground_truth) to compute the "
                    f"loss, or with keyword options ({self._spelled()}) to configure it")
            return self.configure(**options)
        if predicted is None or ground_truth is None:
            raise TypeError(
                f"{self.__name__}: got {'predicted' if ground_truth is None else 'ground_truth'}"
                f" alone; compute with {self.__name__}(predicted, ground_truth), or pass options"
                f" by keyword to configure it: {self.__name__}({self._spelled()})")
        if options:
            return self.configure(**options)(predicted, ground_truth)
        return self.function(predicted, ground_truth, **self.options)

    def configure(self, **options):
        """A new Loss with `options` replacing the ones this one holds; checks them."""
        unknown = sorted(set(options) - set(self.defaults))
        if unknown:
            known = ", ".join(self.defaults) or "none"
            raise TypeError(f"{self.__name__}: unknown option {unknown[0]!r}; its options are "
                            f"{known}")
        merged = {**self.options, **options}
        return Loss(self.function, self._check(self.__name__, merged), self._check)

    # ---------------------------------------------------------------- comparing
    @property
    def family(self):
        """The loss function itself, whatever the options."""
        return self.function

    @property
    def changed_options(self):
        """{name: value} of the options that differ from the function's defaults."""
        return {name: value for name, value in self.options.items()
                if value != self.defaults[name]}

    def __eq__(self, other):
        if not isinstance(other, Loss):
            return NotImplemented
        return self.function is other.function and dict(self.options) == dict(other.options)

    def __hash__(self):
        return hash((self.function, tuple(sorted(self.options.items()))))

    def __repr__(self):
        changed = ", ".join(f"{name}={value!r}" for name, value in self.changed_options.items())
        return f"{self.__name__}({changed})" if changed else self.__name__

    def _spelled(self):
        return ", ".join(f"{name}={value!r}" for name, value in self.defaults.items())


def configurable(check):
    """Decorator: the loss function below becomes a :class:`Loss` at its defaults.

    `check(who, options) -> options` validates and normalizes a full set of options.
    """
    def wrap(function):
        return Loss(function, check(function.__name__, _keyword_defaults(function)), check)
    return wrap


def family_of(loss):
    """The function under `loss`: itself for a plain function, ``loss.function`` for a Loss."""
    return loss.function if isinstance(loss, Loss) else loss


def loss_name(loss):
    """`loss`'s function's name (``huber`` for ``huber(delta=2.0)`` too), for messages."""
    function = getattr(loss, "function", loss)  # a configured Loss keeps its function there
    return getattr(function, "__name__", repr(loss))


def changed_options_of(loss):
    """The options of `loss` that differ from its defaults ({} for a plain function)."""
    return loss.changed_options if isinstance(loss, Loss) else {}


def is_default(loss):
    """True for a plain function and for a Loss at its defaults."""
    return not changed_options_of(loss)


class LossFamilies(tuple):
    """A tuple of losses whose ``in`` matches every configuration of each member.

    ``cross_entropy(label_smoothing=0.1) in LossFamilies((cross_entropy,))`` is True.
    """

    def __contains__(self, loss):
        return any(family_of(loss) is family_of(member) for member in self)


def float_option(who, name, value, *, low, high=math.inf, low_open=False):
    """`value` as a Python float in [low, high] (low excluded with `low_open`), or an error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{who}: {name} must be a real number (a Python float); got {value!r}")
    value = float(value)
    too_low = value <= low if low_open else value < low
    if math.isnan(value) or too_low or value > high:
        bracket = "(" if low_open else "["
        upper = "inf)" if high == math.inf else f"{high}]"
        raise ValueError(f"{who}: {name} must lie in {bracket}{low}, {upper}; got {value!r}")
    return value


def _keyword_defaults(function):
    return {name: parameter.default
            for name, parameter in inspect.signature(function).parameters.items()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY}
