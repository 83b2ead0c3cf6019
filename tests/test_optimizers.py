"""Adam, AdamW, RMSProp and AdaGrad: one step against values worked out by hand, 20 steps
against torch.optim (float64, relative error <= 1e-10, on every backend; with clipping, decay
filters and parameters that sit out steps), a quadratic that converges, state on the
parameter's device, no device reads per step, state_dict round trips (also through an .npz
without pickle), and every hyperparameter error."""

import copy
import math

import numpy as np
import pytest
from device_reads import watch_torch_reads

import tinyml
from tinyml import Parameter
from tinyml.optim import (
    SGD,
    AdaGrad,
    Adam,
    AdamW,
    RMSProp,
    adagrad_update,
    adam_update,
    no_decay_for_bias_and_norm,
    rmsprop_update,
)
from tinyml.testing import assert_close

RNG = np.random.default_rng(6)
WEIGHTS = RNG.standard_normal((3, 2))
BIAS = RNG.standard_normal(2)
STEPS = 20
# Gradients of varied size, so that clip_norm=1.5 clips some steps and not others.
SCALES = np.geomspace(0.05, 3.0, STEPS)
GRADS = [(s * RNG.standard_normal((3, 2)), s * RNG.standard_normal(2)) for s in SCALES]
TORCH_NAMES = {Adam: "Adam", AdamW: "AdamW", RMSProp: "RMSprop", AdaGrad: "Adagrad", SGD: "SGD"}

CASES = {
    "adam": (Adam, {}),
    "adam-tuned": (Adam, {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-6, "weight_decay": 0.1}),
    "adam-amsgrad": (Adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    "adamw": (AdamW, {}),
    "adamw-tuned": (AdamW, {"lr": 0.02, "betas": (0.5, 0.9), "weight_decay": 0.1,
                            "amsgrad": True}),
    "rmsprop": (RMSProp, {}),
    "rmsprop-centered": (RMSProp, {"lr": 0.005, "alpha": 0.9, "centered": True,
                                   "weight_decay": 0.05}),
    "rmsprop-momentum": (RMSProp, {"lr": 0.005, "momentum": 0.7, "eps": 1e-6}),
    "rmsprop-all": (RMSProp, {"lr": 0.003, "alpha": 0.8, "momentum": 0.5, "centered": True,
                              "weight_decay": 0.1}),
    "adagrad": (AdaGrad, {}),
    "adagrad-tuned": (AdaGrad, {"lr": 0.1, "eps": 1e-8, "weight_decay": 0.05,
                                "initial_accumulator_value": 0.3}),
}
# The options on top: clip_norm as torch.nn.utils.clip_grad_norm_, and a decay filter as a
# torch param group with weight_decay=0 for the bias.
OPTION_CASES = {
    "adam-clipped": (Adam, {"lr": 0.01, "weight_decay": 0.1}, {"clip_norm": 1.5}),
    "adamw-no-bias-decay": (AdamW, {"lr": 0.01, "weight_decay": 0.2},
                            {"decay_filter": no_decay_for_bias_and_norm}),
    "rmsprop-clipped-no-bias-decay": (RMSProp, {"lr": 0.01, "momentum": 0.5, "weight_decay": 0.1},
                                      {"clip_norm": 1.5,
                                       "decay_filter": no_decay_for_bias_and_norm}),
    "adagrad-clipped": (AdaGrad, {"lr": 0.1, "weight_decay": 0.1}, {"clip_norm": 1.5}),
    "sgd-clipped-no-bias-decay": (SGD, {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1},
                                  {"clip_norm": 1.5, "decay_filter": no_decay_for_bias_and_norm}),
}
ALL_CASES = {**{key: (*case, {}) for key, case in CASES.items()}, **OPTION_CASES}


def host(x):
    return tinyml.to_numpy(x).copy()


def two_parameters(weights=WEIGHTS, bias=BIAS):
    return {"fc.weight": Parameter(tinyml.asarray(weights), name="weight"),
            "fc.bias": Parameter(tinyml.asarray(bias), name="bias")}


def train(optimizer, parameters, steps, skip_bias=()):
    """One optimizer step per index in `steps`, with GRADS[index]; the bias is frozen at the
    steps in `skip_bias`."""
    for step in steps:
        for parameter, grad in zip(parameters.values(), GRADS[step], strict=True):
            parameter.zero_grad()
            parameter.grad += tinyml.asarray(grad)  # as a layer's backward adds into it
        parameters["fc.bias"].trainable = step not in skip_bias
        optimizer.step(parameters)
    parameters["fc.bias"].trainable = True
    return parameters


# ---------------------------------------------------------------- one step, by hand
W0, G0 = np.array([1.0, -2.0, 0.5]), np.array([0.5, -1.0, 0.0])


def one_step(optimizer, grads=(G0,)):
    parameter = Parameter(tinyml.asarray(W0), name="w")
    for grad in grads:
        parameter.zero_grad()
        parameter.grad += tinyml.asarray(grad)
        optimizer.step([parameter])
    return parameter


def test_adam_first_step_by_hand(backend):
    # m = 0.1 g, v = 0.001 g^2; corrected: m/(1-0.9) = g, sqrt(v/(1-0.999)) = |g|.
    expected = W0 - 0.1 * G0 / (np.abs(G0) + 1e-8)
    assert_close(one_step(Adam(lr=0.1)).data, expected, backend=backend)
    np.testing.assert_allclose(expected, [0.9, -1.9, 0.5], atol=1e-7)


def test_adam_weight_decay_is_added_to_the_gradient_by_hand(backend):
    g = G0 + 0.5 * W0  # [1.0, -2.0, 0.25]
    expected = W0 - 0.1 * g / (np.abs(g) + 1e-8)
    assert_close(one_step(Adam(lr=0.1, weight_decay=0.5)).data, expected, backend=backend)


def test_adamw_decays_the_weights_apart_from_the_gradient_by_hand(backend):
    shrunk = W0 * (1 - 0.1 * 0.5)  # w (1 - lr wd), then the plain Adam step
    expected = shrunk - 0.1 * G0 / (np.abs(G0) + 1e-8)
    assert_close(one_step(AdamW(lr=0.1, weight_decay=0.5)).data, expected, backend=backend)


def test_adam_second_step_and_amsgrad_by_hand(backend):
    """A large gradient, then a small one: AMSGrad divides by the larger (older) v."""
    g1, g2 = np.array([2.0]), np.array([0.1])
    b1, b2, lr, eps = 0.9, 0.5, 0.1, 1e-8  # v1 = 2.0, then v2 = 1.005: v shrinks
    w1 = 1.0 - lr * g1 / (np.abs(g1) + eps)
    m = b1 * (1 - b1) * g1 + (1 - b1) * g2
    v = b2 * (1 - b2) * g1**2 + (1 - b2) * g2**2
    v_max = np.maximum((1 - b2) * g1**2, v)
    for amsgrad, second in ((False, v), (True, v_max)):
        optimizer = Adam(lr=lr, betas=(b1, b2), amsgrad=amsgrad)
        parameter = Parameter(tinyml.asarray([1.0]), name="w")
        for grad in (g1, g2):
            parameter.zero_grad()
            parameter.grad += tinyml.asarray(grad)
            optimizer.step([parameter])
        expected = w1 - lr / (1 - b1**2) * m / (np.sqrt(second) / math.sqrt(1 - b2**2) + eps)
        assert_close(parameter.data, expected, backend=backend)
        if amsgrad:
            assert_close(optimizer.state["w"]["max_exp_avg_sq"], v_max, backend=backend)
    assert v_max[0] > v[0]  # the case really tells the two apart


def test_rmsprop_first_step_by_hand(backend):
    # v = 0.01 g^2, sqrt(v) = 0.1 |g|: the step is lr g / (0.1 |g| + eps).
    expected = W0 - 0.01 * G0 / (0.1 * np.abs(G0) + 1e-8)
    assert_close(one_step(RMSProp(lr=0.01)).data, expected, backend=backend)
    np.testing.assert_allclose(expected[:2], [0.9, -1.9], atol=1e-6)


def test_centered_rmsprop_first_step_by_hand(backend):
    # v = 0.01 g^2 and mean 0.01 g: v - mean^2 = 0.0099 g^2.
    expected = W0 - 0.01 * G0 / (math.sqrt(0.0099) * np.abs(G0) + 1e-8)
    assert_close(one_step(RMSProp(lr=0.01, centered=True)).data, expected, backend=backend)


def test_rmsprop_momentum_two_steps_by_hand(backend):
    g1, g2 = G0, np.array([-0.5, 0.5, 1.0])
    v1 = 0.01 * g1**2
    v2 = 0.99 * v1 + 0.01 * g2**2
    buffer1 = g1 / (np.sqrt(v1) + 1e-8)
    buffer2 = 0.5 * buffer1 + g2 / (np.sqrt(v2) + 1e-8)
    expected = W0 - 0.01 * buffer1 - 0.01 * buffer2
    optimizer = RMSProp(lr=0.01, momentum=0.5)
    assert_close(one_step(optimizer, (g1, g2)).data, expected, backend=backend)
    assert_close(optimizer.state["w"]["momentum_buffer"], buffer2, backend=backend)


def test_adagrad_first_step_by_hand(backend):
    # The sum starts at 0.25: s = 0.25 + g^2 = [0.5, 1.25, 0.25].
    expected = W0 - 0.1 * G0 / (np.sqrt(0.25 + G0**2) + 1e-10)
    optimizer = AdaGrad(lr=0.1, initial_accumulator_value=0.25)
    assert_close(one_step(optimizer).data, expected, backend=backend)
    assert_close(optimizer.state["w"]["sum"], [0.5, 1.25, 0.25], backend=backend)


def test_the_pure_functions_update_in_place(backend):
    """The classes only call them: the same arithmetic, testable without objects."""
    xp = backend.xp
    data, grad = tinyml.asarray(W0), tinyml.asarray(G0)
    m, v = xp.zeros_like(data), xp.zeros_like(data)
    adam_update(data, grad, m, v, None, step=1, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8,
                weight_decay=0.0, decoupled=False, xp=xp)
    assert_close(data, W0 - 0.1 * G0 / (np.abs(G0) + 1e-8), backend=backend)
    assert_close(m, 0.1 * G0, backend=backend)
    data, square = tinyml.asarray(W0), xp.zeros_like(data)
    rmsprop_update(data, grad, square, None, None, lr=0.01, alpha=0.99, eps=1e-8,
                   momentum=0.0, weight_decay=0.0, xp=xp)
    assert_close(square, 0.01 * G0**2, backend=backend)
    data, total = tinyml.asarray(W0), xp.zeros_like(data)
    adagrad_update(data, grad, total, lr=0.1, eps=1e-10, weight_decay=0.0, xp=xp)
    assert_close(total, G0**2, backend=backend)
    assert_close(grad, G0, backend=backend)  # the gradient is never written


# ---------------------------------------------------------------- 20 steps against PyTorch
def torch_run(cls, settings, options, steps=range(STEPS), skip_bias=()):
    """(weights, bias, their torch states) after torch.optim's steps on the same gradients."""
    torch = pytest.importorskip("torch")
    weight = torch.nn.Parameter(torch.tensor(WEIGHTS))
    bias = torch.nn.Parameter(torch.tensor(BIAS))
    bias_group = {"params": [bias]}
    if options.get("decay_filter") is not None:
        bias_group["weight_decay"] = 0.0
    optimizer = getattr(torch.optim, TORCH_NAMES[cls])([{"params": [weight]}, bias_group],
                                                       **settings)
    for step in steps:
        weight.grad = torch.tensor(GRADS[step][0])
        bias.grad = None if step in skip_bias else torch.tensor(GRADS[step][1])
        if options.get("clip_norm") is not None:
            torch.nn.utils.clip_grad_norm_([weight, bias], options["clip_norm"])
        optimizer.step()
    return {"fc.weight": (weight, optimizer.state[weight]),
            "fc.bias": (bias, optimizer.state[bias])}


def largest_relative_difference(ours, theirs):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    return float(np.max(np.abs(ours - theirs) / np.abs(theirs)))


def assert_matches_torch(optimizer, parameters, theirs, backend):
    for name, (tensor, state) in theirs.items():
        expected = tensor.detach().numpy()
        assert_close(parameters[name].data, expected, rtol=1e-10, atol=0.0, backend=backend,
                     err_msg=name)
        assert largest_relative_difference(host(parameters[name].data), expected) <= 1e-10
        ours = optimizer.state[name]
        if "step" in state:  # torch's SGD keeps no count
            assert ours["step"] == int(state["step"])
        shared = [key for key in ours if key != "step" and key in state]
        assert shared == list(optimizer.expected_state_keys()), (name, shared, list(state))
        for key in shared:  # PyTorch's state names, PyTorch's values
            assert_close(ours[key], state[key].numpy(), rtol=1e-9, atol=1e-300,
                         backend=backend, err_msg=f"{name} {key}")


@pytest.mark.parametrize("case", ALL_CASES)
def test_twenty_steps_match_pytorch(backend, case):
    cls, settings, options = ALL_CASES[case]
    theirs = torch_run(cls, settings, options)
    optimizer = cls(**settings, **options)
    parameters = train(optimizer, two_parameters(), range(STEPS))
    assert_matches_torch(optimizer, parameters, theirs, backend)


@pytest.mark.parametrize("case", ["adam-tuned", "adamw-tuned", "rmsprop-all", "adagrad-tuned"])
def test_a_parameter_that_sits_out_steps_matches_pytorch(backend, case):
    """Frozen for a while (PyTorch: grad None), the bias is bias-corrected by its own count."""
    cls, settings = CASES[case]
    skip = {0, 1, 2, 7}
    theirs = torch_run(cls, settings, {}, skip_bias=skip)
    optimizer = cls(**settings)
    parameters = train(optimizer, two_parameters(), range(STEPS), skip_bias=skip)
    assert optimizer.state["fc.bias"]["step"] == STEPS - len(skip)
    assert optimizer.state["fc.weight"]["step"] == STEPS
    assert_matches_torch(optimizer, parameters, theirs, backend)


def test_the_pytorch_gradients_do_clip_some_steps_and_not_others():
    """The clipped cases above test something: the global norm crosses 1.5 along the way."""
    norms = [math.sqrt(np.sum(w**2) + np.sum(b**2)) for w, b in GRADS]
    assert min(norms) < 1.5 < max(norms)


# ---------------------------------------------------------------- a quadratic converges
CURVATURE = np.array([[2.0, 0.5], [0.5, 1.0]])
TARGET = np.array([1.0, -2.0])
CONVERGING = {
    "adam": Adam(lr=0.3, betas=(0.8, 0.99)),
    "adam-amsgrad": Adam(lr=0.3, betas=(0.8, 0.99), amsgrad=True),
    "adamw": AdamW(lr=0.3, betas=(0.8, 0.99), weight_decay=0.0),
    "rmsprop": RMSProp(lr=0.05, momentum=0.5),
    "rmsprop-centered": RMSProp(lr=0.02, momentum=0.8, centered=True),
    "adagrad": AdaGrad(lr=2.0),
}


@pytest.mark.parametrize("case", CONVERGING)
def test_a_quadratic_converges(backend, case):
    """f(w) = (w - t)^T A (w - t) / 2 from w = (4, 3): each optimizer reaches t."""
    optimizer = CONVERGING[case]
    optimizer = type(optimizer)(**optimizer.hyperparameters)  # a fresh one per backend
    xp = backend.xp
    curvature, target = tinyml.asarray(CURVATURE), tinyml.asarray(TARGET)
    parameter = Parameter(tinyml.asarray([4.0, 3.0]), name="w")
    for _ in range(300):
        parameter.grad = xp.matmul(curvature, parameter.data - target)
        optimizer.step([parameter])
    assert_close(parameter.data, TARGET, atol=1e-6, rtol=0.0, backend=backend)


# ---------------------------------------------------------------- where the state lives
@pytest.mark.parametrize("case", CASES)
def test_state_lives_beside_the_parameter_in_its_dtype(backend32, case):
    cls, settings = CASES[case]
    optimizer = cls(**settings)
    parameters = train(optimizer, two_parameters(), range(3))
    for name, parameter in parameters.items():
        assert parameter.data.dtype == backend32.dtype
        for key, value in optimizer.state[name].items():
            if key == "step":
                assert type(value) is int
            else:  # namespace, device, dtype and shape first (assert_close checks them)
                assert_close(value, host(value), backend=backend32, err_msg=key)
    for name, value in optimizer.hyperparameters.items():
        assert type(value) in (float, bool, tuple), name
    if "betas" in optimizer.hyperparameters:
        assert all(type(beta) is float for beta in optimizer.betas)


@pytest.mark.parametrize("case", ["adam-amsgrad", "adamw-tuned", "rmsprop-all", "adagrad-tuned",
                                  "adam-clipped", "rmsprop-clipped-no-bias-decay"])
def test_steps_never_read_the_device(monkeypatch, case):
    """Every float()/bool()/item()/numpy() of a device array makes a GPU wait: count them on
    torch, with clipping, a decay filter and a scheduler on, over several steps."""
    pytest.importorskip("torch")

    class Halving:
        def learning_rate(self, step, cur_loss=None):
            return 0.01 * 0.5 ** (step // 2)

    cls, settings, options = ALL_CASES[case]
    with tinyml.use_backend("torch", dtype="float64"):
        optimizer = cls(**settings, **options, scheduler=Halving())
        parameters = train(optimizer, two_parameters(), range(1))
        reads = watch_torch_reads(monkeypatch)
        train(optimizer, parameters, range(1, 6))
        monkeypatch.undo()
    assert reads == []
    assert optimizer.step_count == 6 and optimizer.lr == 0.01 * 0.5**3


# ---------------------------------------------------------------- saving and resuming
def flatten(tree, prefix=""):
    """{"state/fc.weight/exp_avg": value, ...}: how a checkpoint can store it."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}/"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def unflatten(flat):
    tree = {}
    for key, value in flat.items():
        *path, leaf = key.split("/")
        node = tree
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


def straight_and_halfway(cls, settings, options, backend):
    """The parameters after all the steps in one go, and after half of them, with the state."""
    straight_optimizer = cls(**settings, **options)
    straight = train(straight_optimizer, two_parameters(), range(8), skip_bias={1})
    first_optimizer = cls(**settings, **options)
    first = train(first_optimizer, two_parameters(), range(4), skip_bias={1})
    return straight, straight_optimizer, first, first_optimizer


def assert_identical(resumed, resumed_optimizer, straight, straight_optimizer, backend):
    for name in straight:
        assert_close(resumed[name].data, host(straight[name].data), backend=backend)
        np.testing.assert_array_equal(host(resumed[name].data), host(straight[name].data))
        ours, theirs = resumed_optimizer.state[name], straight_optimizer.state[name]
        assert ours.keys() == theirs.keys() and ours["step"] == theirs["step"]
        for key in ours.keys() - {"step"}:
            assert_close(ours[key], host(theirs[key]), backend=backend)
            np.testing.assert_array_equal(host(ours[key]), host(theirs[key]), err_msg=key)
    assert resumed_optimizer.step_count == straight_optimizer.step_count


@pytest.mark.parametrize("case", ALL_CASES)
def test_state_round_trips_and_resumes_bit_for_bit(backend, case):
    cls, settings, options = ALL_CASES[case]
    straight, straight_optimizer, first, first_optimizer = \
        straight_and_halfway(cls, settings, options, backend)
    saved = first_optimizer.state_dict()
    assert saved["type"] == cls.__name__
    kept = copy.deepcopy(saved)
    # A fresh process: new parameters with the saved values, an optimizer built afresh with
    # another lr (the saved hyperparameters win) and the same options.
    resumed = two_parameters(host(first["fc.weight"].data), host(first["fc.bias"].data))
    resumed_optimizer = cls(lr=0.5, **options)
    resumed_optimizer.load_state_dict(saved)
    assert resumed_optimizer.hyperparameters == first_optimizer.hyperparameters
    train(resumed_optimizer, resumed, range(4, 8))
    assert_identical(resumed, resumed_optimizer, straight, straight_optimizer, backend)
    for key, value in flatten(kept).items():  # the optimizer took copies
        np.testing.assert_array_equal(flatten(saved)[key], value, err_msg=key)


@pytest.mark.parametrize("case", ALL_CASES)
def test_state_survives_an_npz_without_pickle(backend, case, tmp_path):
    cls, settings, options = ALL_CASES[case]
    straight, straight_optimizer, first, first_optimizer = \
        straight_and_halfway(cls, settings, options, backend)
    np.savez(tmp_path / "optimizer.npz", **flatten(first_optimizer.state_dict()))
    with np.load(tmp_path / "optimizer.npz", allow_pickle=False) as archive:
        loaded = unflatten({name: archive[name] for name in archive.files})
    if "betas" in first_optimizer.hyperparameters:
        assert loaded["hyperparameters"]["betas"].shape == (2,)  # a pair comes back an array
    resumed_optimizer = cls(lr=1.0, **options)
    resumed_optimizer.load_state_dict(loaded)
    assert resumed_optimizer.hyperparameters == first_optimizer.hyperparameters
    for name, value in resumed_optimizer.hyperparameters.items():
        assert type(value) is type(first_optimizer.hyperparameters[name]), name
    assert type(resumed_optimizer.step_count) is int
    train(resumed_optimizer, first, range(4, 8))
    assert_identical(first, resumed_optimizer, straight, straight_optimizer, backend)


def saved_adam(**settings):
    optimizer = Adam(lr=0.01, **settings)
    with tinyml.use_backend("numpy", dtype="float64"):
        train(optimizer, two_parameters(), range(2))
    return optimizer.state_dict()


@pytest.mark.parametrize(
    ("settings", "edit", "error", "match"),
    [
        ({}, lambda s: s["state"]["fc.weight"].pop("exp_avg_sq"), ValueError,
         r"state\['fc.weight'\] has missing keys \['exp_avg_sq'\]"),
        ({"amsgrad": True}, lambda s: s["state"]["fc.bias"].pop("max_exp_avg_sq"), ValueError,
         r"state\['fc.bias'\] has missing keys \['max_exp_avg_sq'\]"),
        ({}, lambda s: s["state"]["fc.bias"].update(max_exp_avg_sq=BIAS), ValueError,
         r"state\['fc.bias'\] has unknown keys \['max_exp_avg_sq'\]"),
        ({}, lambda s: s["hyperparameters"].update(betas=(0.9,)), TypeError,
         r"saved hyperparameters do not hold: Adam: betas must be a tuple of 2 Python numbers"),
        ({}, lambda s: s["hyperparameters"].update(betas=np.asarray([0.9, 1.0])), ValueError,
         r"do not hold: Adam: invalid betas\[1\] 1.0; it must be >= 0.0 and < 1.0"),
        ({}, lambda s: s["hyperparameters"].update(amsgrad=1), TypeError,
         r"do not hold: Adam: amsgrad must be True or False; got 1"),
        ({}, lambda s: s.update(lr=0.0), ValueError,
         r"the saved lr is 0.0, a schedule's value; build this Adam with scheduler="),
    ],
    ids=["missing moment", "missing amsgrad max", "extra amsgrad max", "one beta",
         "beta of one", "amsgrad not a bool", "lr zero without a scheduler"],
)
def test_a_bad_adam_state_dict_changes_nothing(settings, edit, error, match):
    """The state's keys are exactly the hyperparameters' (amsgrad adds one); the saved pair is
    checked."""
    state = copy.deepcopy(saved_adam(**settings))
    edit(state)
    optimizer = Adam(lr=0.3)
    before = optimizer.state_dict()
    with pytest.raises(error, match=r"Adam.load_state_dict: .*" + match):
        optimizer.load_state_dict(state)
    assert optimizer.state_dict() == before


# ---------------------------------------------------------------- bad hyperparameters
NAN, INF = float("nan"), float("inf")
OPTION_ERRORS = [  # each declared hyperparameter: tests/test_declared_arguments.py
    ({"clip_norm": 0.0}, ValueError, r"invalid clip_norm 0.0; it must be > 0.0"),
    ({"clip_norm": -1.0}, ValueError, r"invalid clip_norm -1.0"),
    ({"clip_norm": NAN}, ValueError, r"invalid clip_norm nan"),
    ({"clip_norm": INF}, ValueError, r"invalid clip_norm inf"),
    ({"clip_norm": "1"}, TypeError, r"clip_norm must be a Python number; got '1'"),
    ({"decay_filter": "bias"}, TypeError, r"decay_filter must be a function \(name, parameter\) "
                                          r"-> bool.*got 'bias'"),
    ({"scheduler": 0.1}, TypeError, r"scheduler must have a method learning_rate\(step, "
                                    r"cur_loss=None\) -> float.*got 0.1"),
]
HYPERPARAMETER_ERRORS = [
    (cls, *case) for cls, errors in (
        (Adam, OPTION_ERRORS), (AdamW, OPTION_ERRORS), (RMSProp, OPTION_ERRORS),
        (AdaGrad, OPTION_ERRORS),
    ) for case in errors
]


@pytest.mark.parametrize(("cls", "kwargs", "error", "match"), HYPERPARAMETER_ERRORS,
                         ids=[f"{case[0].__name__}-{i}"
                              for i, case in enumerate(HYPERPARAMETER_ERRORS)])
def test_bad_hyperparameters_are_refused_with_the_class_name(cls, kwargs, error, match):
    with pytest.raises(error, match=f"^{cls.__name__}: " + match):
        cls(**kwargs)


def test_the_defaults_and_signatures_are_pytorchs():
    assert Adam().hyperparameters == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                                      "weight_decay": 0.0, "amsgrad": False}
    assert AdamW().hyperparameters == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                                       "weight_decay": 1e-2, "amsgrad": False}
    assert RMSProp().hyperparameters == {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8,
                                         "momentum": 0.0, "centered": False,
                                         "weight_decay": 0.0}
    assert AdaGrad().hyperparameters == {"lr": 1e-2, "eps": 1e-10, "weight_decay": 0.0,
                                         "initial_accumulator_value": 0.0}
    assert Adam(0.1, (0.5, 0.6), 1e-6, 0.1, True).hyperparameters["betas"] == (0.5, 0.6)
    assert RMSProp(0.1, 0.9, 1e-6, 0.5, True, 0.1).centered is True
    with pytest.raises(TypeError):
        Adam(0.1, (0.9, 0.999), 1e-8, 0.0, False, 1.0)  # the options are keyword-only
    assert repr(AdamW()) == ("AdamW(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01, "
                             "amsgrad=False)")


def test_numpy_betas_become_python_floats():
    optimizer = Adam(betas=np.asarray([0.8, 0.9]), eps=np.float32(1e-6))
    assert optimizer.betas == (0.8, 0.9) and all(type(b) is float for b in optimizer.betas)
    assert type(optimizer.eps) is float
