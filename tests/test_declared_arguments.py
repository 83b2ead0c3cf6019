"""One test for every class that declares its arguments (``declared_arguments``, the rules of
:mod:`tinyml.core.params`): the optimizers, schedules, layers, callbacks and the Learner, and
the configurable losses (objects that declare their options). Each bad value a rule generates
is refused with the right type and a message naming the class, the argument and what is
allowed; the defaults hold; the declaration is the signature's; and what the declaration
drives (``hyperparameters``, ``repr``, a layer's config, the lr setter, ``load_state_dict``)
follows it.

A new declared class is tested here without a line written, unless a required argument of
its constructor is undeclared (then add a valid value to REQUIRED).
"""

import importlib.util
import inspect

import numpy as np
import pytest

import tinyml
from tinyml import callbacks, layers, losses
from tinyml.core.params import Pair, Real, check_arguments
from tinyml.optim import SGD, Optimizer, clip_grad_norm, schedules
from tinyml.optim import clip as clip_module
from tinyml.optim.schedules import Scheduler

NAME = "under_test"
OPTIONS = {"clip_norm", "decay_filter", "scheduler"}  # every optimizer's keyword options
# class -> {argument: a valid value}, for required arguments left undeclared
REQUIRED = {  # a callable value is called for a fresh one each time
    layers.SparseEvolution: {"input_dim": 6, "output_dim": 4},  # a density of at most 1
    layers.Bidirectional: {"layer": lambda: layers.GRU("gru", 3, 2)},
    callbacks.LearningRateScheduler: {"schedule": lambda: lambda epoch, lr: lr},
    tinyml.Learner: {"net": lambda: tinyml.Net([layers.Linear("fc", 2, 1)]),
                     "loss": lambda: losses.mse, "optimizer": lambda: SGD(lr=0.1)},
}
# (class, argument) whose attribute is derived from the argument, not the argument checked:
# None for "as the other one" (a square kernel, windows side by side)
DERIVED = {(layers.Conv2D, "w_filter"), (layers.Deconv2D, "w_filter"),
           *((pool, "stride") for pool in (layers.Pool2D, layers.MaxPool2D, layers.AvgPool2D)),
           (layers.TransformerEncoderBlock, "dropout")}  # its sub-layer has that name


def _declared_classes():
    found = [getattr(tinyml.optim, name) for name in tinyml.optim.__all__]
    found += [getattr(schedules, name) for name in schedules.__all__]
    found += [getattr(layers, name) for name in layers.__all__]
    found += [getattr(callbacks, name) for name in callbacks.__all__]
    found += [tinyml.Learner]
    if importlib.util.find_spec("tensorboardX") is None:  # it needs its writer to be built
        found.remove(callbacks.TensorBoard)
    return [cls for cls in found if isinstance(cls, type) and cls is not Scheduler
            and getattr(cls, "declared_arguments", None)]


CLASSES = _declared_classes()


def _signature(cls):
    return {name: parameter for name, parameter in
            list(inspect.signature(cls.__init__).parameters.items())[1:]
            if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)}


def valid_arguments(cls):
    """Keyword arguments that build `cls`: the defaults, and for required arguments a value
    from REQUIRED, the layer name, or an example of the argument's rule."""
    known = {}
    for name, parameter in _signature(cls).items():
        if name in REQUIRED.get(cls, {}):
            value = REQUIRED[cls][name]
            known[name] = value() if callable(value) and not isinstance(value, type) else value
        elif name == "name":
            known[name] = NAME
        elif parameter.default is not parameter.empty and _takes(cls, name, parameter.default,
                                                                  known):
            known[name] = parameter.default
        elif name in cls.declared_arguments:
            known[name] = cls.declared_arguments[name].example(known)
        else:
            raise AssertionError(f"{cls.__name__}: give the required argument {name!r} a valid "
                                 "value in REQUIRED")
    return known


def _takes(cls, name, value, known):
    """False for a default that the declaration refuses (None for an argument a constructor
    requires, but after the input size, which may be left out)."""
    rule = cls.declared_arguments.get(name)
    try:
        rule is None or rule.check("", name, value, known)
    except (TypeError, ValueError):
        return False
    return True


def owner_of(cls):
    """How messages name an instance of `cls` built by :func:`valid_arguments`."""
    return f"{cls.__name__} '{NAME}'" if issubclass(cls, layers.Layer) else cls.__name__


def bad_values(rule, known):
    """The rule's bad values, and for a real number a 0-d NumPy array (a device scalar would
    make every step wait for the device)."""
    extra = [(np.asarray(rule.example(known)), TypeError,
              ["must be a Python number", "Pass float({argument}) for a 0-d array"])]
    return rule.bad_values(known) + (extra if isinstance(rule, Real) else [])


def _bad_cases():
    cases = []
    for cls in CLASSES:
        known = valid_arguments(cls)
        for argument, rule in cls.declared_arguments.items():
            if argument not in known:  # an argument of the parent that this class fixes
                continue
            for value, error, words in bad_values(rule, known):
                cases.append(pytest.param(cls, argument, value, error, words,
                                          id=f"{cls.__name__}-{argument}-{value!r}"))
    return cases


def _check_message(message, cls, argument, words):
    lowered = message.lower()
    for word in [owner_of(cls), argument, *words]:
        word = word.replace("{argument}", argument)
        assert word.lower() in lowered, f"{word!r} is not in the message {message!r}"


@pytest.mark.parametrize(("cls", "argument", "value", "error", "words"), _bad_cases())
def test_each_bad_value_is_refused_with_a_message_that_names_it(cls, argument, value, error,
                                                                 words):
    arguments = {**valid_arguments(cls), argument: value}
    with pytest.raises(Exception) as caught:
        cls(**arguments)
    assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value}"
    _check_message(str(caught.value), cls, argument, words)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_the_declaration_is_the_signatures_and_its_defaults_hold(cls):
    signature = _signature(cls)
    declared = list(cls.declared_arguments)
    fixed = {name for name in set(declared) - set(signature)  # a parent's, that cls fixes
             if any(name in getattr(base, "declared_arguments", {}) for base in cls.__mro__[1:])}
    assert set(declared) - fixed <= set(signature), f"not taken: {set(declared) - set(signature)}"
    declared = [name for name in declared if name not in fixed]
    if issubclass(cls, (Optimizer, Scheduler)):  # every hyperparameter is declared, in order
        assert declared == [name for name in signature if name not in OPTIONS]
    defaults = {name: parameter.default for name, parameter in signature.items()
                if parameter.default is not parameter.empty}
    known = valid_arguments(cls)
    checked = check_arguments(owner_of(cls), {name: cls.declared_arguments[name]
                                              for name in declared}, known)
    for name in set(defaults) & set(declared):  # a pair rule makes 2 the pair (2, 2)
        spelled = (defaults[name],) * 2 if isinstance(cls.declared_arguments[name], Pair) \
            else defaults[name]
        assert checked[name] == spelled or defaults[name] is None


@pytest.mark.parametrize("cls", [cls for cls in CLASSES if issubclass(cls, (Optimizer, Scheduler))],
                         ids=lambda cls: cls.__name__)
def test_hyperparameters_and_repr_follow_the_declaration(cls):
    instance = cls(**valid_arguments(cls))
    assert tuple(instance.hyperparameters) == tuple(cls.declared_arguments)
    for name, value in instance.hyperparameters.items():
        assert f"{name}={value!r}" in repr(instance) or f"{name}={value}" in repr(instance)


@pytest.mark.parametrize("cls", [cls for cls in CLASSES if issubclass(cls, layers.Layer)],
                         ids=lambda cls: cls.__name__)
def test_a_layer_keeps_its_declared_arguments_in_its_config(cls):
    instance = cls(**valid_arguments(cls))
    recorded = instance.hyperparameters
    for name, rule in cls.declared_arguments.items():
        if (cls, name) not in DERIVED and name in recorded:  # the argument checked is kept
            kept = vars(instance).get(name, vars(instance).get(f"_{name}"))  # or privately
            kept = getattr(instance, name) if kept is None else kept  # or a property
            assert rule.check("", name, recorded[name], recorded) == kept


OPTIMIZERS = [cls for cls in CLASSES if issubclass(cls, Optimizer)]


def _saved_bad_cases():
    cases = []
    for cls in OPTIMIZERS:
        known = valid_arguments(cls)
        for argument, rule in list(cls.declared_arguments.items())[1:]:  # lr is saved apart
            for value, error, words in rule.bad_values(known):
                cases.append(pytest.param(cls, argument, value, error, words,
                                          id=f"{cls.__name__}-{argument}-{value!r}"))
    return cases


@pytest.mark.parametrize(("cls", "argument", "value", "error", "words"), _saved_bad_cases())
def test_load_state_dict_checks_the_saved_hyperparameters_by_the_declaration(
        cls, argument, value, error, words):
    optimizer = cls(**valid_arguments(cls))
    saved = optimizer.state_dict()
    saved["hyperparameters"][argument] = value
    before = optimizer.hyperparameters
    with pytest.raises(error, match="load_state_dict: the saved hyperparameters do not hold"):
        optimizer.load_state_dict(saved)
    assert optimizer.hyperparameters == before


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda cls: cls.__name__)
def test_a_bad_lr_set_by_hand_is_refused_and_the_old_one_kept(cls):
    optimizer = cls(**valid_arguments(cls))
    lr = optimizer.lr
    for value, error, words in cls.declared_arguments["lr"].bad_values({}):
        with pytest.raises(error) as caught:
            optimizer.lr = value
        _check_message(str(caught.value), cls, "lr", words)
        assert optimizer.lr == lr


def _state_bad_cases():
    cases = []
    for cls in CLASSES:
        for argument, rule in getattr(cls, "declared_state", {}).items():
            for value, error, words in rule.bad_values({}):
                cases.append(pytest.param(cls, argument, value, error, words,
                                          id=f"{cls.__name__}-{argument}-{value!r}"))
    return cases


@pytest.mark.parametrize(("cls", "argument", "value", "error", "words"), _state_bad_cases())
def test_a_schedule_refuses_a_bad_saved_state_by_its_declaration(cls, argument, value, error,
                                                                 words):
    schedule = cls(**valid_arguments(cls))
    saved = schedule.state_dict()
    before = dict(saved)
    with pytest.raises(error) as caught:
        schedule.load_state_dict({**saved, argument: value})
    _check_message(str(caught.value), cls, argument, ["load_state_dict", *words])
    assert schedule.state_dict() == before


# ---------------------------------------------------------------- losses with options
# A configurable loss is an object, not a class: ``huber(delta=2.0)`` configures it. It keeps
# its declaration as ``loss.declared_arguments`` ({option: rule}), so each bad value of each
# option is fed to the configuring call, which is where the declaration checks it.
LOSSES = [getattr(losses, name) for name in losses.__all__
          if isinstance(getattr(losses, name), losses.Loss)
          and getattr(losses, name).declared_arguments]


def _loss_bad_cases():
    cases = []
    for loss in LOSSES:
        for option, rule in loss.declared_arguments.items():
            for value, error, words in bad_values(rule, dict(loss.defaults)):
                cases.append(pytest.param(loss, option, value, error, words,
                                          id=f"{loss.__name__}-{option}-{value!r}"))
    return cases


def test_the_configurable_losses_are_found():
    assert {loss.__name__ for loss in LOSSES} >= {"huber", "smooth_l1", "cross_entropy",
                                                  "cross_entropy_with_logits"}


@pytest.mark.parametrize(("loss", "option", "value", "error", "words"), _loss_bad_cases())
def test_a_loss_refuses_each_bad_option_with_a_message_that_names_it(loss, option, value, error,
                                                                     words):
    with pytest.raises(Exception) as caught:
        loss(**{option: value})
    assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value}"
    message = str(caught.value).lower()
    for word in [f"{loss.__name__}:", option, *words]:
        assert word.replace("{argument}", option).lower() in message, (word, message)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: loss.__name__)
def test_a_loss_declares_its_options_and_their_defaults_hold(loss):
    assert list(loss.declared_arguments) == list(loss.defaults)
    assert dict(loss.options) == check_arguments(loss.__name__, loss.declared_arguments,
                                                 dict(loss.defaults))


# ---------------------------------------------------------------- functions with options
def _clip(**options):
    net = tinyml.Net([layers.Linear("fc", 2, 1)])
    return clip_grad_norm(net.parameters(), **{"max_norm": 1.0, **options})


FUNCTIONS = [("clip_grad_norm", _clip, clip_module.DECLARED_ARGUMENTS)]


def _function_bad_cases():
    return [pytest.param(name, call, argument, value, error, words,
                         id=f"{name}-{argument}-{value!r}")
            for name, call, declared in FUNCTIONS for argument, rule in declared.items()
            for value, error, words in bad_values(rule, {})]


@pytest.mark.parametrize(("name", "call", "argument", "value", "error", "words"),
                         _function_bad_cases())
def test_a_function_refuses_each_bad_option_by_its_declaration(name, call, argument, value,
                                                               error, words):
    with pytest.raises(Exception) as caught:
        call(**{argument: value})
    assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value}"
    message = str(caught.value).lower()
    for word in [f"{name}:", argument, *words]:
        assert word.replace("{argument}", argument).lower() in message, (word, message)
