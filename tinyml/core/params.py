"""Declared arguments: each class lists its constructor's arguments once, with their rules.

A class sets ``declared_arguments``, a dict ``{argument: rule}`` in signature order (the idea
of scikit-learn's ``_parameter_constraints``)::

    class SGD(Optimizer):
        declared_arguments = {
            "lr": Real(above=0.0),
            "momentum": Real(at_least=0.0, below=1.0),
            "nesterov": Flag(),
            "weight_decay": Real(at_least=0.0),
        }

and that one declaration drives:

- validation and its messages (:func:`check_arguments`, which the base classes call), each
  naming the owner (``"SGD"``, ``"LeakyReLU 'act'"``), the argument, what arrived and what
  is allowed: a TypeError for a value of the wrong kind, a ValueError for one out of range;
- ``hyperparameters``, ``repr`` and an optimizer's ``state_dict`` (the declared names, in
  order) and ``load_state_dict``'s checks of the saved values;
- ``tests/test_declared_arguments.py``, which feeds every declared class the bad values each
  rule generates (:meth:`Rule.bad_values`) and checks the message.

A bound may name an argument declared before it (``Real(at_least=0.0, at_most="initial_lr")``):
the checked value of that argument is the bound. Checks that tie several arguments together
in another way (SGD's ``nesterov`` needs momentum) stay with the class.

Values come back as plain Python values (a NumPy scalar becomes a float or int), so a float32
net stays float32 and array_api_strict never meets a NumPy scalar.
"""

import math
import numbers

__all__ = ["AnyOf", "Flag", "Initializer", "Integer", "ListOf", "OneOf", "Optional", "Pair",
           "Real", "Reals", "Rule", "Sizes", "check_arguments"]


def check_arguments(owner, declared, values):
    """{argument: checked value} of `values` for each argument `declared` lists, in order.

    Parameters
    ----------
    owner : str
        How messages name the class or object (``"SGD"``, ``"Dropout 'drop'"``).
    declared : dict
        ``{argument: Rule}``; a bound naming an argument uses that argument's checked value.
    values : mapping
        The arguments as given; those `declared` does not list are ignored.

    Raises
    ------
    TypeError, ValueError
        From the first argument that breaks its rule; a TypeError where `values` lacks a
        declared argument (a constructor that did not pass it on).
    """
    missing = [argument for argument in declared if argument not in values]
    if missing:
        raise TypeError(f"{owner} declares {missing} but its constructor did not pass them on "
                        "to the base class's constructor, which checks them")
    checked = {}
    for argument, rule in declared.items():
        checked[argument] = rule.check(owner, argument, values[argument], checked)
    return checked


def _number(value):
    """Bound `value` spelled as in messages: 0.0, 1e-08."""
    return repr(float(value))


class Rule:
    """What one argument may be. A subclass writes :meth:`check` and :meth:`bad_values`."""

    def check(self, owner, argument, value, known):
        """`value` as the class keeps it, or the TypeError/ValueError naming `owner` and
        `argument`; `known` holds the arguments checked before it."""
        raise NotImplementedError(f"{type(self).__name__} must implement check")

    def bad_values(self, known):
        """[(value, exception type, [key words of the message])]: values this rule refuses,
        for the generic test; `known` holds valid values of the other arguments."""
        raise NotImplementedError(f"{type(self).__name__} must implement bad_values")

    def takes_kind(self, value):
        """True if `value` is of the kind this rule takes, so its message about `value` is
        the most precise (:class:`AnyOf` uses it). False here."""
        return False


class Real(Rule):
    """A finite Python float within bounds; each bound is a number, the name of an argument
    declared before, or None.

    Parameters
    ----------
    above, at_least : lower bound, open or closed (at most one of them)
    below, at_most : upper bound, open or closed (at most one of them)
    label : str, optional
        How messages name the argument, when its name alone says too little
        (``"probability (of dropping)"``).
    infinite : bool, optional
        True to take ``math.inf`` too (a norm's order, where inf is the max norm).
    """

    def __init__(self, *, above=None, at_least=None, below=None, at_most=None, label=None,
                 infinite=False):
        if above is not None and at_least is not None or below is not None and \
                at_most is not None:
            raise ValueError("Real takes one lower bound (above or at_least) and one upper "
                             "bound (below or at_most)")
        self.low, self.low_open = (above, True) if above is not None else (at_least, False)
        self.high, self.high_open = (below, True) if below is not None else (at_most, False)
        self.label, self.infinite = label, infinite

    def bounds(self, known):
        """(low, high) as numbers (None where unbounded), argument names looked up in `known`."""
        return tuple(known[bound] if isinstance(bound, str) else bound
                     for bound in (self.low, self.high))

    def spelled(self, known):
        """``"> 0.0"``, ``">= 0.0 and < 1.0"`` or ``"finite"``: what the message asks for."""
        low, high = self.bounds(known)
        parts = [] if low is None else [f"{'>' if self.low_open else '>='} {_number(low)}"]
        if high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {_number(high)}")
        spelled = " and ".join(parts) or "finite"
        return spelled + " or math.inf" if self.infinite else spelled

    def interval(self, known):
        """``"[0, 1)"``: the range as an interval, where both ends are bounded."""
        low, high = self.bounds(known)
        if low is None or high is None:
            return None
        return (f"{'(' if self.low_open else '['}{low:g}, {high:g}"
                f"{')' if self.high_open else ']'}")

    def check(self, owner, argument, value, known):
        name = self.label or argument
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            hint = f" Pass float({argument}) for a 0-d array." if \
                getattr(value, "shape", None) == () else ""
            raise TypeError(f"{owner}: {name} must be a Python number; got {value!r}.{hint}")
        value = float(value)
        if not self._holds(value, known):
            interval = self.interval(known)
            wanted = self.spelled(known) + ("" if interval is None else f", in {interval}")
            raise ValueError(f"{owner}: invalid {name} {value}; it must be {wanted}")
        return value

    def _holds(self, value, known):
        low, high = self.bounds(known)
        too_low = low is not None and (value <= low if self.low_open else value < low)
        too_high = high is not None and (value >= high if self.high_open else value > high)
        if self.infinite and value == math.inf and high is None:
            return True
        return math.isfinite(value) and not too_low and not too_high

    def bad_values(self, known):
        low, high = self.bounds(known)
        kinds = [("0.5", TypeError, ["must be a Python number", "'0.5'"]),
                 (True, TypeError, ["must be a Python number", "True"]),
                 (None, TypeError, ["must be a Python number", "None"])]
        values = [math.nan] + ([] if self.infinite else [math.inf])
        if low is not None:
            values.append(low if self.low_open else low - 1.0)
        if high is not None:
            values.append(high if self.high_open else high + 1.0)
        return kinds + [(value, ValueError, [f"invalid {self.label or '{argument}'} {value}",
                                             self.spelled(known)]) for value in values]

    def example(self, known):
        """A value this rule accepts (the middle of the range, or next to its one bound)."""
        low, high = self.bounds(known)
        if low is not None and high is not None:
            return (low + high) / 2.0
        return 1.0 if low is None and high is None else \
            (low + 1.0 if high is None else high - 1.0)


class Reals(Rule):
    """A tuple of `length` Python floats, each checked by `item` (a :class:`Real`); a 1-d host
    array (as an ``.npz`` gives back) is taken too."""

    def __init__(self, length, item):
        self.length, self.item = length, item

    def check(self, owner, argument, value, known):
        try:
            items = tuple(value)
        except TypeError:
            items = None
        if items is None or len(items) != self.length or isinstance(value, str):
            raise TypeError(f"{owner}: {argument} must be a tuple of {self.length} Python "
                            f"numbers; got {value!r}")
        return tuple(self.item.check(owner, f"{argument}[{index}]", item, known)
                     for index, item in enumerate(items))

    def bad_values(self, known):
        good = self.example(known)
        bad = [(0.5, TypeError, [f"must be a tuple of {self.length} Python numbers"]),
               ("ab", TypeError, [f"must be a tuple of {self.length} Python numbers"]),
               (good * 2, TypeError, [f"must be a tuple of {self.length} Python numbers"])]
        for value, error, words in self.item.bad_values(known):
            words = [word.replace("{argument}", "{argument}[0]") for word in words]
            bad.append(((value, *good[1:]), error, words))
        return bad

    def example(self, known):
        return (self.item.example(known),) * self.length


class Integer(Rule):
    """A Python int (not a bool) of at least `minimum` (an int, an argument's name, or None
    for any int)."""

    def __init__(self, minimum=1):
        self.minimum = minimum

    def takes_kind(self, value):
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)

    def check(self, owner, argument, value, known):
        minimum = known[self.minimum] if isinstance(self.minimum, str) else self.minimum
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{owner}: {argument} must be an int; got {value!r}")
        if minimum is not None and value < minimum:
            raise ValueError(f"{owner}: {argument} must be >= {minimum}; got {value}")
        return int(value)

    def bad_values(self, known):
        minimum = self.example(known)
        below = [] if self.minimum is None else [
            (minimum - 1, ValueError, [f"must be >= {minimum}", f"got {minimum - 1}"])]
        return below + [(minimum + 0.5, TypeError, ["must be an int", f"got {minimum + 0.5}"]),
                        (True, TypeError, ["must be an int", "got True"]),
                        ("3", TypeError, ["must be an int", "got '3'"])]

    def example(self, known):
        if self.minimum is None:
            return 0
        return known[self.minimum] if isinstance(self.minimum, str) else self.minimum


class Flag(Rule):
    """True or False, nothing else (not 0 or 1)."""

    def check(self, owner, argument, value, known):
        if not isinstance(value, bool):
            raise TypeError(f"{owner}: {argument} must be True or False; got {value!r}")
        return value

    def bad_values(self, known):
        return [(1, TypeError, ["must be True or False", "got 1"]),
                ("yes", TypeError, ["must be True or False", "got 'yes'"]),
                (None, TypeError, ["must be True or False", "got None"])]

    def example(self, known):
        return False


class OneOf(Rule):
    """One of the given values (strings, usually); `hint`, if given, ends the message."""

    def __init__(self, *options, hint=""):
        self.options, self.hint = options, hint

    def spelled(self):
        """``"None, 'sum' or 'mean'"``: the options as the message lists them."""
        names = [repr(option) for option in self.options]
        return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"

    def same_kind(self, value):
        """True if `value` is of the type of one of the options."""
        return any(type(value) is type(option) for option in self.options)

    def check(self, owner, argument, value, known):
        if not any(value == option and type(value) is type(option) for option in self.options):
            raise ValueError(f"{owner}: {argument} must be {self.spelled()}; got {value!r}"
                             + (f". {self.hint}" if self.hint else ""))
        return value

    def bad_values(self, known):
        bad = [("unknown", ValueError, [f"must be {self.spelled()}", "got 'unknown'"])]
        counts = [option for option in self.options
                  if isinstance(option, int) and not isinstance(option, bool)]
        if counts:  # a number next to the ones allowed (verbose=2)
            bad.append((max(counts) + 1, ValueError, [f"must be {self.spelled()}",
                                                      f"got {max(counts) + 1}"]))
        return bad

    def example(self, known):
        return self.options[0]


class Optional(Rule):
    """None, or what `rule` accepts."""

    def __init__(self, rule):
        self.rule = rule

    def check(self, owner, argument, value, known):
        return None if value is None else self.rule.check(owner, argument, value, known)

    def bad_values(self, known):
        return [case for case in self.rule.bad_values(known) if case[0] is not None]

    def example(self, known):
        return self.rule.example(known)


class ListOf(Rule):
    """A list (or tuple) whose items `item` accepts; comes back as a list."""

    def __init__(self, item):
        self.item = item

    def check(self, owner, argument, value, known):
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{owner}: {argument} must be a list; got {type(value).__name__}")
        return [self.item.check(owner, f"{argument}[{index}]", item, known)
                for index, item in enumerate(value)]

    def bad_values(self, known):
        bad = [("1, 2", TypeError, ["must be a list", "got str"])]
        for value, error, words in self.item.bad_values(known):
            words = [word.replace("{argument}", "{argument}[0]") for word in words]
            bad.append(([value], error, words))
        return bad

    def example(self, known):
        return []


class Pair(Rule):
    """An int for both ways, or a pair of them; each checked by `item` (an :class:`Integer`)
    and given back as a tuple of two (``2`` -> ``(2, 2)``). `spelled` names the pair in
    messages (``"(h, w)"``)."""

    def __init__(self, item, spelled="(h, w)"):
        self.item, self.pair = item, spelled

    def takes_kind(self, value):
        return isinstance(value, (tuple, list)) and len(value) == 2

    def check(self, owner, argument, value, known):
        if isinstance(value, (tuple, list)):
            if len(value) != 2:
                raise TypeError(f"{owner}: {argument} must be an int or an {self.pair} pair; "
                                f"got {value!r}")
            return tuple(self.item.check(owner, argument, extent, known) for extent in value)
        return (self.item.check(owner, argument, value, known),) * 2

    def bad_values(self, known):
        single = self.item.bad_values(known)
        return [((1, 2, 3), TypeError, [f"must be an int or an {self.pair} pair"])] + \
            single + [((self.item.example(known), value), error, words)
                      for value, error, words in single]

    def example(self, known):
        return (self.item.example(known),) * 2


class AnyOf(Rule):
    """What one of `rules` accepts (the first that does gives the value back).

    A value none accepts is a ValueError if one rule refused only its range, else a
    TypeError. With `specific` (the default), a value of the kind a rule takes (an int for
    :class:`Integer`, a pair for :class:`Pair`: :meth:`Rule.takes_kind`) gets that rule's
    message (``padding must be >= 0; got -1``); any other value gets ``{argument} must be
    {spelled}; got ...``, then `hints`' ending for that value (or for its type), if any.
    """

    def __init__(self, *rules, spelled, hints=None, specific=True):
        self.rules, self.spelled, self.hints = rules, spelled, dict(hints or {})
        self.specific = specific

    def check(self, owner, argument, value, known):
        for rule in self.rules:
            try:
                return rule.check(owner, argument, value, known)
            except (TypeError, ValueError):
                if self.specific and rule.takes_kind(value):
                    raise
        hint = next((line for key, line in self.hints.items()
                     if type(key) is type(value) and key == value),
                    self.hints.get(type(value), ""))
        raise self._error(value, known)(f"{owner}: {argument} must be {self.spelled}; got "
                                        f"{value!r}{hint}")

    def _error(self, value, known):
        """ValueError if a rule refused only `value`'s range (a :class:`OneOf`: a value of its
        options' type), else TypeError."""
        for rule in self.rules:
            if rule.same_kind(value) if isinstance(rule, OneOf) else \
                    _refuses_range(rule, value, known):
                return ValueError
        return TypeError

    def bad_values(self, known):
        # the rules' own bad values that no rule accepts: a value of a rule's kind is refused
        # as that rule refuses it, any other with this rule's message
        cases = {}
        for rule in self.rules:
            for value, error, words in rule.bad_values(known):
                if repr(value) in cases or _accepts(self, value, known):
                    continue
                taker = next((each for each in self.rules if each.takes_kind(value)), None)
                if not self.specific or taker is None:
                    cases[repr(value)] = (value, self._error(value, known),
                                          [f"must be {self.spelled}"])
                elif taker is rule:  # (a value of another rule's kind: that rule has its own)
                    cases[repr(value)] = (value, error, words)
        return list(cases.values())

    def example(self, known):
        return self.rules[0].example(known)


def _accepts(rule, value, known):
    try:
        rule.check("", "", value, known)
    except (TypeError, ValueError):
        return False
    return True


def _refuses_range(rule, value, known):
    """True if `rule` refuses `value` with a ValueError (its kind, out of range)."""
    try:
        rule.check("", "", value, known)
    except ValueError:
        return True
    except TypeError:
        return False
    return False


class Initializer(Rule):
    """A weight initializer: a function ``(shape, fan_in, fan_out) -> array``, or the name of
    one of ``tinyml.init.INITIALIZERS``."""

    def check(self, owner, argument, value, known):
        from ..init import INITIALIZERS

        if callable(value):
            return value
        if not isinstance(value, str) or value not in INITIALIZERS:
            error = ValueError if isinstance(value, str) else TypeError
            raise error(f"{owner}: unknown initializer {value!r}; choose one of "
                        f"{', '.join(INITIALIZERS)} or pass a function "
                        f"(shape, fan_in, fan_out) -> array as {argument}")
        return value

    def bad_values(self, known):
        return [("glorot", ValueError, ["unknown initializer 'glorot'", "he_uniform"]),
                (3, TypeError, ["unknown initializer 3", "pass a function"])]

    def example(self, known):
        return "he_uniform"


class Sizes(Rule):
    """A shape of `rank` positive ints, such as an image's (C, H, W); a list is taken and
    comes back as a tuple (an int too, where `rank` is 1)."""

    def __init__(self, rank):
        self.rank = rank
        self.spelled = "(C, H, W)" if rank == 3 else f"a tuple of {rank} ints"

    def check(self, owner, argument, value, known):
        if isinstance(value, int) and not isinstance(value, bool) and self.rank == 1:
            value = (value,)
        if not isinstance(value, (tuple, list)) or len(value) != self.rank:
            raise TypeError(f"{owner}: {argument} must be {self.spelled}; got {value!r}")
        return tuple(Integer(1).check(owner, argument, extent, known) for extent in value)

    def bad_values(self, known):
        good = self.example(known)
        return [(good + (1,), TypeError, [f"must be {self.spelled}"]),
                ("28", TypeError, [f"must be {self.spelled}"]),
                ((0, *good[1:]), ValueError, ["must be >= 1", "got 0"]),
                ((2.5, *good[1:]), TypeError, ["must be an int", "got 2.5"])]

    def example(self, known):
        return (2,) + (5,) * (self.rank - 1)
