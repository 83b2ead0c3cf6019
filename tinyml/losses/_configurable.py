r"""Losses with options: configured by a keyword-only call, compared by function and options.

``@configurable({"delta": Real(above=0.0)})`` turns ``def huber(predicted, ground_truth, *,
delta=1.0)`` into a :class:`Loss` that is called two ways:

- ``huber(predicted, ground_truth)`` computes, with the options it holds (the defaults here);
- ``huber(delta=2.0)`` (keywords only) returns a new :class:`Loss` holding ``delta=2.0``.

Two losses are equal when they wrap the same function with the same options, so
``huber(delta=1.0) == huber`` and a configured loss can be looked up in a table (the fusion
table matches a row by the function, its *family*, and hands the options on).
Options are checked once, when the loss is configured, by their declaration (``{option:
rule}``, the rules of :mod:`tinyml.core.params`, as a class's ``declared_arguments``; the Loss
keeps it as its ``declared_arguments``, so the generic test of declared arguments feeds it bad
values too), which gives them back normalized (Python floats, so float32 work stays float32).
"""

import functools
import inspect
from types import MappingProxyType

from ..core.params import check_arguments


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

    def __init__(self, function, options, declared):
        functools.update_wrapper(self, function)
        self.function = function
        self.defaults = MappingProxyType(_keyword_defaults(function))
        self.options = MappingProxyType(dict(options))
        #: ``{option: rule}`` that checks the options ({} for a loss checked by a function)
        self.declared_arguments = MappingProxyType({} if callable(declared) else declared)
        self._declared = declared

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
        return Loss(self.function, _checked(self.__name__, self._declared, merged),
                    self._declared)

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


def configurable(declared):
    """Decorator: the loss function below becomes a :class:`Loss` at its defaults.

    `declared` is ``{option: rule}`` for the function's keyword-only options (rules of
    :mod:`tinyml.core.params`: ``{"delta": Real(above=0.0)}``), which checks and normalizes
    them each time the loss is configured; or a function ``check(who, options) -> options``
    that does it.
    """
    def wrap(function):
        defaults = _keyword_defaults(function)
        if not callable(declared) and set(declared) != set(defaults):
            raise TypeError(f"configurable: {function.__name__}'s keyword options "
                            f"{sorted(defaults)} must be the ones declared, {sorted(declared)}")
        return Loss(function, _checked(function.__name__, declared, defaults), declared)
    return wrap


def _checked(who, declared, options):
    """`options` checked by `declared` (rules, or a function), in the function's order."""
    if callable(declared):
        return declared(who, options)
    checked = check_arguments(who, declared, options)
    return {name: checked[name] for name in options}


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


def _keyword_defaults(function):
    return {name: parameter.default
            for name, parameter in inspect.signature(function).parameters.items()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY}
