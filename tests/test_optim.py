"""Optimizers: SGD's update rule against a NumPy reference (and PyTorch where installed), the
base class's state (by name, beside its parameter, following it when it moves), state_dict
round trips, a settable lr, and every error."""

import copy

import numpy as np
import pytest

import tinyml
from tinyml import Parameter
from tinyml.backend import make_backend, resolve_backend
from tinyml.core.params import Real
from tinyml.layers import Linear
from tinyml.optim import SGD, Optimizer
from tinyml.testing import assert_close

RNG = np.random.default_rng(0)
WEIGHTS = RNG.standard_normal((3, 2))
GRADS = [RNG.standard_normal((3, 2)) for _ in range(4)]
BIAS = RNG.standard_normal(2)
BIAS_GRADS = [RNG.standard_normal(2) for _ in range(4)]
DEFAULTS = {"momentum": 0.0, "nesterov": False, "weight_decay": 0.0}


def reference_sgd(lr, momentum, nesterov, weight_decay, lrs=None, w=WEIGHTS, grads=GRADS):
    """PyTorch's SGD (dampening 0), written out: (weights, momentum buffer) after the steps.

    `lrs` gives a learning rate per step (default: `lr` throughout).
    """
    w, buffer = w.copy(), None
    for rate, grad in zip(lrs or [lr] * len(grads), grads, strict=True):
        g = grad + weight_decay * w
        if momentum:
            buffer = g.copy() if buffer is None else momentum * buffer + g
            g = g + momentum * buffer if nesterov else buffer
        w = w - rate * g
    return w, buffer


def run_tinyml(optimizer, grads=GRADS, parameter=None):
    """Step `optimizer` once per gradient on one parameter named "w" (made if not given)."""
    if parameter is None:
        parameter = Parameter(tinyml.asarray(WEIGHTS), name="w")
    for grad in grads:
        parameter.zero_grad()
        parameter.grad += tinyml.asarray(grad)  # as a layer's backward adds into it
        optimizer.step([parameter])
    return parameter


def host(x):
    return tinyml.to_numpy(x).copy()


SETTINGS = [
    {"lr": 0.1},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.5, "nesterov": True},
    {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
    {"lr": 0.2, "weight_decay": 0.1},
    {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05},
]


# ---------------------------------------------------------------- the update rule
@pytest.mark.parametrize("settings", SETTINGS)
def test_sgd_matches_the_reference(backend, settings):
    parameter = run_tinyml(SGD(**settings))
    assert_close(parameter.data, reference_sgd(**{**DEFAULTS, **settings})[0], backend=backend)


@pytest.mark.parametrize("settings", SETTINGS)
def test_sgd_matches_pytorch(settings):
    torch = pytest.importorskip("torch")
    with tinyml.use_backend("numpy", dtype="float64"):
        ours = tinyml.to_numpy(run_tinyml(SGD(**settings)).data)
    weight = torch.nn.Parameter(torch.tensor(WEIGHTS))
    theirs = torch.optim.SGD([weight], **settings)
    for grad in GRADS:
        weight.grad = torch.tensor(grad)
        theirs.step()
    np.testing.assert_allclose(ours, weight.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_momentum_buffer_lives_with_the_parameter(backend32):
    optimizer = SGD(lr=0.1, momentum=0.9)
    parameter = run_tinyml(optimizer)
    _, expected = reference_sgd(0.1, 0.9, False, 0.0)
    assert_close(optimizer.state["w"]["momentum_buffer"], expected, backend=backend32)
    assert parameter.data.dtype == backend32.dtype


def test_first_momentum_step_does_not_alias_the_gradient(backend):
    """backward adds into grad in place; the buffer must not change with it."""
    optimizer = SGD(lr=0.1, momentum=0.9)
    parameter = Parameter(tinyml.asarray(WEIGHTS), name="w")
    parameter.grad += tinyml.asarray(GRADS[0])
    optimizer.step([parameter])
    parameter.grad += tinyml.asarray(GRADS[1])
    assert_close(optimizer.state["w"]["momentum_buffer"], GRADS[0], backend=backend)


def test_frozen_parameters_are_skipped(backend):
    parameter = Parameter(tinyml.asarray(WEIGHTS), name="w", trainable=False)
    parameter.grad += tinyml.asarray(GRADS[0])
    optimizer = SGD(lr=0.1, momentum=0.9)
    optimizer.step([parameter])
    assert_close(parameter.data, WEIGHTS, backend=backend)
    assert optimizer.state == {}
    assert optimizer.step_count == 1


def test_step_count_counts_calls(backend):
    optimizer = SGD(lr=0.1)
    run_tinyml(optimizer, GRADS[:3])
    assert optimizer.step_count == 3
    assert optimizer.state["w"]["step"] == 3


# ---------------------------------------------------------------- parameters by name
def test_net_update_keys_the_state_by_dotted_names(backend):
    net = tinyml.Net([Linear("fc1", 3, 2), Linear("fc2", 2, 2)])
    grads = {name: RNG.standard_normal(p.shape) for name, p in net.named_parameters().items()}
    for name, parameter in net.named_parameters().items():
        parameter.grad += tinyml.asarray(grads[name])
    optimizer = SGD(lr=0.1, momentum=0.9)
    net.update(optimizer)
    assert list(optimizer.state) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    for name, grad in grads.items():
        assert_close(optimizer.state[name]["momentum_buffer"], grad, backend=backend)


def test_a_list_with_two_parameters_of_one_name_is_refused(backend):
    net = tinyml.Net([Linear("fc1", 3, 2), Linear("fc2", 2, 2)])
    before = host(net["fc1"].weight.data)
    net["fc1"].weight.grad += 1.0
    with pytest.raises(ValueError, match=r"both named 'weight'.*Pass net.named_parameters\(\)"):
        SGD(lr=0.1).step(net.parameters())
    assert_close(net["fc1"].weight.data, before, backend=backend)


def test_one_parameter_must_come_in_a_list(backend):
    parameter = Parameter(tinyml.asarray(WEIGHTS), name="w")
    with pytest.raises(TypeError, match=r"SGD.step takes several parameters.*Pass \[parameter\]"):
        SGD(lr=0.1).step(parameter)


@pytest.mark.parametrize("parameters", [{"w": WEIGHTS}, [WEIGHTS]], ids=["mapping", "list"])
def test_step_takes_parameters_only(parameters):
    with pytest.raises(TypeError, match="SGD.step expects Parameters .* got ndarray"):
        SGD(lr=0.1).step(parameters)


# ---------------------------------------------------------------- following the parameter
SETTLED = {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}


def continued_here(settings):
    """(weights, buffer) on the current backend after 3 steps and then a 4th: the expected
    result of the 4th step wherever the parameter went."""
    optimizer = SGD(**settings)
    parameter = run_tinyml(optimizer, GRADS)
    return host(parameter.data), host(optimizer.state["w"]["momentum_buffer"])


@pytest.mark.parametrize("explicit", [True, False], ids=["optimizer.to", "followed"])
def test_a_moved_optimizer_takes_the_same_next_step(backend, explicit):
    expected_w, expected_buffer = continued_here(SETTLED)
    optimizer = SGD(**SETTLED)
    parameter = run_tinyml(optimizer, GRADS[:3])
    target = make_backend("array_api_strict", device="device2", dtype="float64")
    parameter.to(target)
    if explicit:
        optimizer.to(target)
        assert_close(optimizer.state["w"]["momentum_buffer"],
                     reference_sgd(**SETTLED, grads=GRADS[:3])[1], backend=target)
    with tinyml.use_backend(target):
        run_tinyml(optimizer, GRADS[3:], parameter)
    assert_close(parameter.data, expected_w, backend=target)
    assert_close(optimizer.state["w"]["momentum_buffer"], expected_buffer, backend=target)


def test_the_state_follows_a_change_of_dtype(backend):
    expected_w, expected_buffer = continued_here(SETTLED)
    optimizer = SGD(**SETTLED)
    parameter = run_tinyml(optimizer, GRADS[:3])
    single = resolve_backend(backend, dtype="float32")
    parameter.to(single)
    with tinyml.use_backend(single):
        run_tinyml(optimizer, GRADS[3:], parameter)
    assert_close(parameter.data, expected_w, backend=single)
    assert_close(optimizer.state["w"]["momentum_buffer"], expected_buffer, backend=single)


def test_data_and_grad_on_two_devices_are_refused_before_any_update(backend):
    first = Parameter(tinyml.asarray(WEIGHTS), name="a")
    second = Parameter(tinyml.asarray(WEIGHTS), name="b")
    first.grad += tinyml.asarray(GRADS[0])
    second.grad = make_backend("array_api_strict", device="device2",
                               dtype="float64").asarray(GRADS[0])
    error = ValueError if backend.name == "array_api_strict" else TypeError
    with pytest.raises(error, match="SGD on parameter 'b': grad lives on"):
        SGD(lr=0.1).step({"a": first, "b": second})
    assert_close(first.data, WEIGHTS, backend=backend)


# ---------------------------------------------------------------- lr between steps
def test_lr_set_between_steps_is_used_by_the_next_step(backend):
    optimizer = SGD(lr=0.1, momentum=0.9)
    parameter = run_tinyml(optimizer, GRADS[:2])
    optimizer.lr = 0.01
    assert type(optimizer.lr) is float and optimizer.lr == 0.01
    run_tinyml(optimizer, GRADS[2:], parameter)
    expected, _ = reference_sgd(0.1, 0.9, False, 0.0, lrs=[0.1, 0.1, 0.01, 0.01])
    assert_close(parameter.data, expected, backend=backend)


def test_lr_set_between_steps_matches_pytorch():
    torch = pytest.importorskip("torch")
    with tinyml.use_backend("numpy", dtype="float64"):
        optimizer = SGD(lr=0.1, momentum=0.9, nesterov=True)
        parameter = run_tinyml(optimizer, GRADS[:2])
        optimizer.lr = 0.02
        ours = tinyml.to_numpy(run_tinyml(optimizer, GRADS[2:], parameter).data)
    weight = torch.nn.Parameter(torch.tensor(WEIGHTS))
    theirs = torch.optim.SGD([weight], lr=0.1, momentum=0.9, nesterov=True)
    for step, grad in enumerate(GRADS):
        if step == 2:
            theirs.param_groups[0]["lr"] = 0.02
        weight.grad = torch.tensor(grad)
        theirs.step()
    np.testing.assert_allclose(ours, weight.detach().numpy(), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- state_dict
def two_parameters(weights=WEIGHTS, bias=BIAS):
    return {"fc.weight": Parameter(tinyml.asarray(weights), name="weight"),
            "fc.bias": Parameter(tinyml.asarray(bias), name="bias")}


def train(optimizer, parameters, steps):
    for step in steps:
        for name, grad in (("fc.weight", GRADS[step]), ("fc.bias", BIAS_GRADS[step])):
            parameters[name].zero_grad()
            parameters[name].grad += tinyml.asarray(grad)
        optimizer.step(parameters)


def test_state_dict_is_a_host_copy_of_simple_values(backend):
    optimizer = SGD(**SETTLED)
    train(optimizer, two_parameters(), range(2))
    saved = optimizer.state_dict()
    assert saved["type"] == "SGD" and saved["step"] == 2 and saved["lr"] == 0.1
    assert saved["hyperparameters"] == {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}
    assert list(saved["state"]) == ["fc.weight", "fc.bias"]
    entry = saved["state"]["fc.weight"]
    assert entry["step"] == 2 and type(entry["step"]) is int
    assert type(entry["momentum_buffer"]) is np.ndarray
    _, buffer = reference_sgd(**SETTLED, grads=GRADS[:2])
    np.testing.assert_allclose(entry["momentum_buffer"], buffer, rtol=1e-12)
    entry["momentum_buffer"][...] = 0.0  # a copy: the live state keeps its values
    assert_close(optimizer.state["fc.weight"]["momentum_buffer"], buffer, backend=backend)


@pytest.mark.parametrize("settings", [SETTLED, {"lr": 0.1}], ids=["momentum", "plain"])
def test_state_round_trips_and_resumes_identically(backend, settings):
    straight = two_parameters()
    straight_optimizer = SGD(**settings)
    train(straight_optimizer, straight, range(4))

    first = two_parameters()
    first_optimizer = SGD(**settings)
    train(first_optimizer, first, range(2))
    saved = first_optimizer.state_dict()
    kept = copy.deepcopy(saved)
    # A fresh process: new parameters holding the saved values, an optimizer built afresh
    # (with another lr: the saved hyperparameters win).
    resumed = two_parameters(host(first["fc.weight"].data), host(first["fc.bias"].data))
    resumed_optimizer = SGD(lr=0.5)
    resumed_optimizer.load_state_dict(saved)
    assert resumed_optimizer.hyperparameters == first_optimizer.hyperparameters
    train(resumed_optimizer, resumed, range(2, 4))

    assert resumed_optimizer.state_dict()["step"] == 4
    for key, value in flatten(kept).items():  # the optimizer took copies, not the dict's arrays
        np.testing.assert_array_equal(flatten(saved)[key], value, err_msg=key)
    for name in straight:
        assert_close(resumed[name].data, host(straight[name].data), backend=backend)
        np.testing.assert_array_equal(host(resumed[name].data), host(straight[name].data))
        ours, theirs = resumed_optimizer.state[name], straight_optimizer.state[name]
        assert ours.keys() == theirs.keys() and ours["step"] == 4
        for key in ours.keys() - {"step"}:
            assert_close(ours[key], host(theirs[key]), backend=backend)
            np.testing.assert_array_equal(host(ours[key]), host(theirs[key]))


def flatten(tree, prefix=""):
    """{"state/fc.weight/momentum_buffer": value, ...}: how a checkpoint can store it."""
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


def test_state_dict_survives_an_npz_without_pickle(backend, tmp_path):
    straight = two_parameters()
    train(SGD(**SETTLED), straight, range(3))
    first = two_parameters()
    optimizer = SGD(**SETTLED)
    train(optimizer, first, range(2))
    np.savez(tmp_path / "optimizer.npz", **flatten(optimizer.state_dict()))
    with np.load(tmp_path / "optimizer.npz", allow_pickle=False) as archive:
        loaded = unflatten({name: archive[name] for name in archive.files})
    resumed = SGD(lr=1.0)
    resumed.load_state_dict(loaded)
    assert resumed.hyperparameters == optimizer.hyperparameters
    assert type(resumed.step_count) is int and resumed.step_count == 2
    train(resumed, first, [2])
    for name in straight:
        np.testing.assert_array_equal(host(first[name].data), host(straight[name].data))


def test_loaded_state_moves_next_to_each_parameter(backend32):
    with tinyml.use_backend("numpy", dtype="float64"):
        optimizer = SGD(lr=0.1, momentum=0.9)
        run_tinyml(optimizer, GRADS[:1])
        saved = optimizer.state_dict()
    resumed = SGD(lr=0.1)
    resumed.load_state_dict(saved)
    run_tinyml(resumed, GRADS[1:2], Parameter(tinyml.asarray(WEIGHTS), name="w"))
    _, buffer = reference_sgd(0.1, 0.9, False, 0.0, grads=GRADS[:2])
    assert_close(resumed.state["w"]["momentum_buffer"], buffer, backend=backend32)


def saved_sgd():
    optimizer = SGD(lr=0.1, momentum=0.9)
    with tinyml.use_backend("numpy", dtype="float64"):
        run_tinyml(optimizer, GRADS[:2])
    return optimizer.state_dict()


def changed(edit):
    def make():
        state = copy.deepcopy(saved_sgd())
        return edit(state) or state
    return make


def _set(path, value):
    def edit(state):
        node = state
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return edit


def _delete(*path):
    def edit(state):
        node = state
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return edit


BAD_STATE = [
    ("list", lambda s: list(s.items()), TypeError, r"takes the dict that state_dict\(\) returns"),
    ("missing", _delete("lr"), ValueError, r"the state dict has missing keys \['lr'\]"),
    ("unknown", _set(["epoch"], 3), ValueError, r"has unknown keys \['epoch'\]"),
    ("type", _set(["type"], "Adam"), ValueError, r"the state is from 'Adam', not 'SGD'"),
    ("negative step", _set(["step"], -1), ValueError, r"step must be an int >= 0; got -1"),
    ("float step", _set(["step"], 2.5), ValueError, r"step must be an int >= 0; got 2.5"),
    ("bool step", _set(["step"], True), ValueError, r"step must be an int >= 0; got True"),
    ("bad lr", _set(["lr"], -1.0), ValueError,
     r"saved hyperparameters do not hold: SGD: invalid lr -1.0"),
    ("nesterov without momentum",
     lambda s: s["hyperparameters"].update(momentum=0.0, nesterov=True), ValueError,
     r"saved hyperparameters do not hold: SGD: nesterov=True needs momentum > 0"),
    ("not a dict", _set(["hyperparameters"], 0.9), TypeError, r"hyperparameters must be a dict"),
    ("unknown hyperparameter", _set(["hyperparameters", "dampening"], 0.1), ValueError,
     r"hyperparameters has unknown keys \['dampening'\]"),
    ("missing hyperparameter", _delete("hyperparameters", "momentum"), ValueError,
     r"hyperparameters has missing keys \['momentum'\]"),
    ("state list", _set(["state"], []), TypeError, r"'state' must map parameter names"),
    ("entry", _set(["state", "w"], WEIGHTS), TypeError, r"state\['w'\] must be a dict"),
    ("state key", _set(["state", "w", "exp_avg"], WEIGHTS), ValueError,
     r"state\['w'\] has unknown keys \['exp_avg'\]"),
    ("state step", _delete("state", "w", "step"), ValueError,
     r"state\['w'\] has missing keys \['step'\]"),
    ("no momentum buffer", _delete("state", "w", "momentum_buffer"), ValueError,
     r"state\['w'\] has missing keys \['momentum_buffer'\]"),
    ("a buffer without momentum", _set(["hyperparameters", "momentum"], 0.0), ValueError,
     r"state\['w'\] has unknown keys \['momentum_buffer'\]"),
    ("negative state step", _set(["state", "w", "step"], -3), ValueError,
     r"state\['w'\]\['step'\] must be an int >= 0"),
    ("strings", _set(["state", "w", "momentum_buffer"], np.asarray(["a", "b"])), TypeError,
     r"state\['w'\]\['momentum_buffer'\] must be an array of numbers; got ndarray <U1"),
    ("list array", _set(["state", "w", "momentum_buffer"], [[1.0, 2.0]]), TypeError,
     r"state\['w'\]\['momentum_buffer'\] must be an array of numbers; got list"),
]


@pytest.mark.parametrize(("edit", "error", "match"), [case[1:] for case in BAD_STATE],
                         ids=[case[0] for case in BAD_STATE])
def test_a_bad_state_dict_changes_nothing(edit, error, match):
    optimizer = SGD(lr=0.3, momentum=0.5)
    with tinyml.use_backend("numpy", dtype="float64"):
        run_tinyml(optimizer, GRADS[:1])
    before = optimizer.state_dict()
    with pytest.raises(error, match=r"SGD.load_state_dict:? .*" + match):
        optimizer.load_state_dict(changed(edit)())
    after = optimizer.state_dict()
    assert flatten(after).keys() == flatten(before).keys()
    for key, value in flatten(before).items():
        np.testing.assert_array_equal(flatten(after)[key], value, err_msg=key)


def test_loaded_state_of_another_shape_is_refused_at_the_next_step(backend):
    optimizer = SGD(lr=0.1, momentum=0.9)
    optimizer.load_state_dict(saved_sgd())  # a (3, 2) buffer for "w"
    parameter = Parameter(tinyml.asarray(WEIGHTS[:2]), name="w")
    parameter.grad += 1.0
    with pytest.raises(ValueError, match=r"SGD: state 'momentum_buffer' of parameter 'w' has "
                                         r"shape \(3, 2\) but the parameter has \(2, 2\)"):
        optimizer.step([parameter])
    assert_close(parameter.data, WEIGHTS[:2], backend=backend)


def test_loaded_state_for_parameters_not_given_is_refused(backend):
    optimizer = SGD(lr=0.1, momentum=0.9)
    optimizer.load_state_dict(saved_sgd())
    parameter = Parameter(tinyml.asarray(WEIGHTS), name="v")
    with pytest.raises(ValueError, match=r"parameters this step did not get: \['w'\]"):
        optimizer.step([parameter])
    assert optimizer.step_count == 2


# ---------------------------------------------------------------- the base for other optimizers
class Scaled(Optimizer):
    """A toy optimizer on the base: w <- w - lr * scale * (updates so far) * g, and a running
    sum of gradients made by init_state."""

    declared_arguments = {"lr": Real(above=0.0), "scale": Real(above=0.0)}
    state_keys = ("total",)

    def __init__(self, lr, scale=1.0):
        super().__init__(lr, scale=scale)

    def init_state(self, data, *, xp):
        return {"total": xp.zeros_like(data)}

    def update(self, data, grad, state, *, xp):
        state["total"] += grad
        data -= self.lr * self.scale * state["step"] * grad


def test_a_subclass_gets_state_per_parameter_and_its_own_counts(backend):
    parameters = two_parameters()
    optimizer = Scaled(lr=0.1, scale=2.0)
    parameters["fc.bias"].trainable = False
    train(optimizer, parameters, [0])
    parameters["fc.bias"].trainable = True
    train(optimizer, parameters, [1])
    assert optimizer.step_count == 2
    assert optimizer.state["fc.weight"]["step"] == 2 and optimizer.state["fc.bias"]["step"] == 1
    assert_close(optimizer.state["fc.weight"]["total"], GRADS[0] + GRADS[1], backend=backend)
    assert_close(optimizer.state["fc.bias"]["total"], BIAS_GRADS[1], backend=backend)
    assert_close(parameters["fc.weight"].data, WEIGHTS - 0.2 * GRADS[0] - 0.4 * GRADS[1],
                 backend=backend)
    assert_close(parameters["fc.bias"].data, BIAS - 0.2 * BIAS_GRADS[1], backend=backend)
    saved = optimizer.state_dict()
    assert saved["type"] == "Scaled" and saved["hyperparameters"] == {"scale": 2.0}
    assert repr(optimizer) == "Scaled(lr=0.1, scale=2.0)"


def test_the_base_alone_has_no_update(backend):
    parameter = Parameter(tinyml.asarray(WEIGHTS), name="w")
    with pytest.raises(NotImplementedError, match=r"Optimizer must implement update"):
        Optimizer(lr=0.1).step([parameter])


# ---------------------------------------------------------------- hyperparameters
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"lr": 0.1, "nesterov": True}, ValueError, "nesterov=True needs momentum > 0"),
        ({"lr": 0.1, "clip_norm": 0.0}, ValueError, r"invalid clip_norm 0.0; it must be > 0"),
        ({"lr": 0.1, "clip_norm": True}, TypeError, r"clip_norm must be a Python number"),
        ({"lr": 0.1, "decay_filter": 1}, TypeError, r"decay_filter must be a function"),
        ({"lr": 0.1, "scheduler": "cosine"}, TypeError, r"scheduler must have a method "
                                                        r"learning_rate"),
    ],
)
def test_bad_options_and_cross_checks(kwargs, error, match):
    # each declared hyperparameter's bad values: tests/test_declared_arguments.py
    with pytest.raises(error, match="SGD: " + match):
        SGD(**kwargs)


def test_numpy_scalars_become_python_floats():
    optimizer = SGD(lr=np.float64(0.1), momentum=np.float32(0.5))
    assert type(optimizer.lr) is float and type(optimizer.momentum) is float
    assert "lr=0.1" in repr(optimizer)
    assert repr(SGD(lr=0.1)) == "SGD(lr=0.1, momentum=0.0, nesterov=False, weight_decay=0.0)"


def test_sgd_keeps_its_positional_arguments_and_takes_the_options_by_keyword():
    optimizer = SGD(0.1, 0.9, True, 0.01, clip_norm=1.0)
    assert optimizer.hyperparameters == SETTLED and optimizer.clip_norm == 1.0
    with pytest.raises(TypeError):
        SGD(0.1, 0.9, True, 0.01, 1.0)
