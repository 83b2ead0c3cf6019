"""The options every optimizer takes from the base: clip_norm (as
torch.nn.utils.clip_grad_norm_, on the device, grads left alone), decay_filter (which
parameters get weight decay), scheduler (1-based steps; report_loss feeds cur_loss, and
Learner.fit reports each epoch's loss), and their errors."""

import math

import numpy as np
import pytest

import tinyml
from tinyml import Parameter
from tinyml.backend import make_backend
from tinyml.layers import Conv2D, Flatten, Linear
from tinyml.losses import cross_entropy_with_logits
from tinyml.optim import SGD, Adam, AdamW, Optimizer, clip_factor, no_decay_for_bias_and_norm
from tinyml.testing import assert_close

RNG = np.random.default_rng(3)
WEIGHTS = RNG.standard_normal((3, 2))
BIAS = RNG.standard_normal(2)
GRADS = [(RNG.standard_normal((3, 2)), RNG.standard_normal(2)) for _ in range(6)]


def host(x):
    return tinyml.to_numpy(x).copy()


def two_parameters():
    return {"fc.weight": Parameter(tinyml.asarray(WEIGHTS), name="weight"),
            "fc.bias": Parameter(tinyml.asarray(BIAS), name="bias")}


def set_grads(parameters, grads):
    for parameter, grad in zip(parameters.values(), grads, strict=True):
        parameter.zero_grad()
        parameter.grad += tinyml.asarray(grad)


def train(optimizer, parameters, grads=GRADS):
    for pair in grads:
        set_grads(parameters, pair)
        optimizer.step(parameters)
    return parameters


# ---------------------------------------------------------------- clip_norm
@pytest.mark.parametrize("scale", [3.0, 0.1], ids=["clipped", "under the limit"])
def test_clip_norm_scales_all_gradients_by_one_factor(backend, scale):
    """With SGD(lr=1) a step subtracts exactly the gradient the optimizer used."""
    grads = [scale * g for g in GRADS[0]]
    norm = math.sqrt(sum(np.sum(g**2) for g in grads))
    factor = min(1.0, 1.0 / (norm + 1e-6))
    assert (factor < 1.0) == (scale == 3.0)  # each case is the one it says
    parameters = two_parameters()
    set_grads(parameters, grads)
    SGD(lr=1.0, clip_norm=1.0).step(parameters)
    for parameter, start, grad in zip(parameters.values(), (WEIGHTS, BIAS), grads, strict=True):
        assert_close(parameter.data, start - factor * grad, backend=backend)
        assert_close(parameter.grad, grad, backend=backend)  # not modified in place
    used = [host(p.data) - start for p, start in zip(parameters.values(), (WEIGHTS, BIAS),
                                                      strict=True)]
    assert math.sqrt(sum(np.sum(u**2) for u in used)) == pytest.approx(min(norm, 1.0), rel=1e-6)


def test_clip_factor_is_a_device_array_of_torchs_value(backend):
    grads = [tinyml.asarray(3.0 * g) for g in GRADS[1]]
    factor = clip_factor(grads, 0.5, xp=backend.xp)
    norm = math.sqrt(sum(np.sum((3.0 * g) ** 2) for g in GRADS[1]))
    assert_close(factor, np.asarray(0.5 / (norm + 1e-6)), backend=backend)
    assert_close(clip_factor(grads, 1e6, xp=backend.xp), np.asarray(1.0), rtol=0, atol=0,
                 backend=backend)


def test_clip_factor_matches_torchs_clip_grad_norm():
    torch = pytest.importorskip("torch")
    tensors = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in GRADS[2]]
    for tensor, grad in zip(tensors, GRADS[2], strict=True):
        tensor.grad = torch.tensor(5.0 * grad)
    torch.nn.utils.clip_grad_norm_(tensors, 0.7)
    with tinyml.use_backend("numpy", dtype="float64") as numpy_backend:
        grads = [tinyml.asarray(5.0 * g) for g in GRADS[2]]
        factor = clip_factor(grads, 0.7, xp=numpy_backend.xp)
        for grad, tensor in zip(grads, tensors, strict=True):
            np.testing.assert_allclose(host(grad * factor), tensor.grad.numpy(), rtol=1e-14)


def test_frozen_parameters_do_not_count_in_the_norm(backend):
    parameters = two_parameters()
    set_grads(parameters, [3.0 * g for g in GRADS[0]])
    parameters["fc.bias"].trainable = False
    SGD(lr=1.0, clip_norm=1.0).step(parameters)
    weight_grad = 3.0 * GRADS[0][0]
    factor = 1.0 / (math.sqrt(np.sum(weight_grad**2)) + 1e-6)
    assert_close(parameters["fc.weight"].data, WEIGHTS - factor * weight_grad, backend=backend)
    assert_close(parameters["fc.bias"].data, BIAS, backend=backend)


def test_clip_norm_can_be_changed_between_steps_and_is_validated():
    optimizer = Adam(clip_norm=1.0)
    optimizer.clip_norm = 2
    assert type(optimizer.clip_norm) is float and optimizer.clip_norm == 2.0
    optimizer.clip_norm = None
    with pytest.raises(ValueError, match=r"^Adam: invalid clip_norm -1.0; it must be > 0.0"):
        optimizer.clip_norm = -1.0
    assert optimizer.clip_norm is None


def test_gradients_on_two_devices_are_refused_before_clipping(backend):
    first = Parameter(tinyml.asarray(WEIGHTS), name="a")
    elsewhere = make_backend("array_api_strict", device="device2", dtype="float64")
    second = Parameter(elsewhere.asarray(WEIGHTS), name="b")
    second.grad = elsewhere.asarray(GRADS[0][0])
    first.grad += tinyml.asarray(GRADS[0][0])
    error = ValueError if backend.name == "array_api_strict" else TypeError
    with pytest.raises(error, match=r"SGD \(clip_norm\): grad of 'b' lives on"):
        SGD(lr=0.1, clip_norm=1.0).step({"a": first, "b": second})
    assert_close(first.data, WEIGHTS, backend=backend)


# ---------------------------------------------------------------- decay_filter
def test_no_decay_for_bias_and_norm_skips_biases_and_one_axis_parameters():
    def parameter(*shape):
        return Parameter(np.zeros(shape))

    assert no_decay_for_bias_and_norm("fc1.weight", parameter(4, 3)) is True
    assert no_decay_for_bias_and_norm("conv.weight", parameter(2, 1, 3, 3)) is True
    assert no_decay_for_bias_and_norm("fc1.bias", parameter(4)) is False
    assert no_decay_for_bias_and_norm("block.norm.weight", parameter(4)) is False
    assert no_decay_for_bias_and_norm("scale", parameter()) is False
    assert no_decay_for_bias_and_norm("odd_bias", parameter(2, 2)) is False


def test_decay_filter_skips_weight_decay_where_it_says(backend):
    """SGD(lr=1, weight_decay=0.5): the weight moves by g + 0.5 w, the bias by g alone."""
    seen = []

    def only_weights(name, parameter):
        seen.append((name, parameter.shape))
        return name.endswith("weight")

    parameters = two_parameters()
    set_grads(parameters, GRADS[0])
    SGD(lr=1.0, weight_decay=0.5, decay_filter=only_weights).step(parameters)
    assert seen == [("fc.weight", (3, 2)), ("fc.bias", (2,))]  # dotted names, every step
    assert_close(parameters["fc.weight"].data, WEIGHTS - (GRADS[0][0] + 0.5 * WEIGHTS),
                 backend=backend)
    assert_close(parameters["fc.bias"].data, BIAS - GRADS[0][1], backend=backend)


def test_adamw_with_the_ready_made_filter_leaves_biases_undecayed(backend):
    """Zero gradients: AdamW's step is its decay alone, w (1 - lr wd), for the weights only."""
    net = tinyml.Net([Conv2D("conv", (1, 4, 4), 2, 3, 3, 1, 1), Flatten("flat"),
                      Linear("fc", 32, 3)])
    before = {name: host(p.data) for name, p in net.named_parameters().items()}
    net.update(AdamW(lr=0.1, weight_decay=0.5, decay_filter=no_decay_for_bias_and_norm))
    for name, parameter in net.named_parameters().items():
        factor = 1.0 if name.endswith("bias") else 1.0 - 0.1 * 0.5
        assert_close(parameter.data, before[name] * factor, backend=backend, err_msg=name)


def test_a_decay_filter_must_answer_true_or_false(backend):
    parameters = two_parameters()
    set_grads(parameters, GRADS[0])
    optimizer = Adam(weight_decay=0.1, decay_filter=lambda name, parameter: len(name))
    with pytest.raises(TypeError, match=r"^Adam: decay_filter returned 9 for parameter "
                                        r"'fc.weight'; it must return True \(decay it\) or "
                                        r"False \(skip it\)"):
        optimizer.step(parameters)
    assert_close(parameters["fc.weight"].data, WEIGHTS, backend=backend)
    assert optimizer.step_count == 0 and optimizer.state["fc.weight"]["step"] == 0


class Plain(Optimizer):
    """An optimizer without weight decay: w <- w - lr g."""

    def update(self, data, grad, state, *, xp):
        data -= self.lr * grad


def test_a_decay_filter_needs_an_optimizer_with_weight_decay(backend):
    with pytest.raises(ValueError, match=r"^Plain: decay_filter chooses which parameters get "
                                         r"weight decay, but Plain has no weight_decay"):
        Plain(lr=0.1, decay_filter=no_decay_for_bias_and_norm)
    parameters = train(Plain(lr=0.5, clip_norm=1e6), two_parameters(), GRADS[:1])
    assert_close(parameters["fc.bias"].data, BIAS - 0.5 * GRADS[0][1], backend=backend)


# ---------------------------------------------------------------- scheduler
class Halving:
    """Halves the rate every `every` steps; records what it was asked."""

    def __init__(self, lr, every):
        self.lr, self.every, self.calls = lr, every, []

    def learning_rate(self, step, cur_loss=None):
        self.calls.append((step, cur_loss))
        return self.lr * 0.5 ** ((step - 1) // self.every)


def test_the_scheduler_sets_lr_before_each_step_with_1_based_steps(backend):
    schedule = Halving(0.4, every=2)
    optimizer = SGD(lr=1.0, momentum=0.9, scheduler=schedule)
    parameter = Parameter(tinyml.asarray(WEIGHTS), name="w")
    lrs = []
    for grad, _ in GRADS[:5]:
        parameter.zero_grad()
        parameter.grad += tinyml.asarray(grad)
        optimizer.step([parameter])
        lrs.append(optimizer.lr)
    assert [step for step, _ in schedule.calls] == [1, 2, 3, 4, 5]
    assert lrs == [0.4, 0.4, 0.2, 0.2, 0.1]
    w, buffer = WEIGHTS.copy(), None
    for rate, (grad, _) in zip(lrs, GRADS[:5], strict=True):  # SGD by hand with those rates
        buffer = grad.copy() if buffer is None else 0.9 * buffer + grad
        w = w - rate * buffer
    assert_close(parameter.data, w, backend=backend)


def test_a_resumed_optimizer_asks_the_schedule_for_the_next_step(backend):
    first = SGD(lr=1.0, scheduler=Halving(0.4, every=2))
    parameters = train(first, two_parameters(), GRADS[:3])
    schedule = Halving(0.4, every=2)
    resumed = SGD(lr=1.0, scheduler=schedule)
    resumed.load_state_dict(first.state_dict())
    train(resumed, parameters, GRADS[3:4])
    assert schedule.calls == [(4, None)]
    assert resumed.lr == 0.2


def test_a_hand_set_lr_gives_way_to_the_schedule_at_the_next_step():
    optimizer = Adam(scheduler=Halving(0.4, every=1))
    optimizer.lr = 0.01
    assert optimizer.lr == 0.01
    with tinyml.use_backend("numpy", dtype="float64"):
        train(optimizer, two_parameters(), GRADS[:1])
    assert optimizer.lr == 0.4


def test_report_loss_becomes_the_schedules_cur_loss(backend):
    schedule = Halving(0.1, every=10)
    optimizer = Adam(scheduler=schedule)
    parameters = train(optimizer, two_parameters(), GRADS[:1])
    optimizer.report_loss(np.float32(0.75))
    train(optimizer, parameters, GRADS[1:3])
    optimizer.report_loss(1)
    train(optimizer, parameters, GRADS[3:4])
    # each report reaches the schedule once, so a loss-watching schedule counts epochs
    assert schedule.calls == [(1, None), (2, 0.75), (3, None), (4, 1.0)]
    assert type(optimizer.reported_loss) is float


def test_a_schedule_may_reach_zero_and_then_nothing_moves(backend):
    class Ending:
        def learning_rate(self, step, cur_loss=None):
            return max(0.0, 0.1 * (2 - step))

    parameters = train(Adam(scheduler=Ending()), two_parameters(), GRADS[:1])
    optimizer = Adam(scheduler=Ending())
    after_one = {name: host(p.data) for name, p in train(optimizer, two_parameters(),
                                                         GRADS[:1]).items()}
    train(optimizer, parameters, GRADS[1:2])  # lr 0.0: the moments move, the weights do not
    assert optimizer.lr == 0.0 and optimizer.state["fc.bias"]["step"] == 2
    for name, parameter in parameters.items():
        assert_close(parameter.data, after_one[name], backend=backend)
    saved = optimizer.state_dict()
    assert saved["lr"] == 0.0
    resumed = Adam(scheduler=Ending())
    resumed.load_state_dict(saved)  # a scheduled lr of 0.0 loads where a scheduler is
    assert resumed.lr == 0.0 and resumed.step_count == 2
    with pytest.raises(ValueError, match=r"^Adam.load_state_dict: the saved lr is 0.0, a "
                                         r"schedule's value; build this Adam with scheduler="):
        Adam().load_state_dict(saved)


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (-0.1, ValueError, r"returned -0.1 for step 1; a learning rate must be a finite float"),
        (float("nan"), ValueError, r"returned nan for step 1"),
        (float("inf"), ValueError, r"returned inf for step 1"),
        ("0.1", TypeError, r"returned '0.1' for step 1; learning_rate\(step, cur_loss\) must "
                           r"return a Python float"),
        (None, TypeError, r"returned None for step 1"),
        (True, TypeError, r"returned True for step 1"),
        (np.asarray(0.1), TypeError, r"returned array\(0.1\) for step 1; .* \(a device array"),
    ],
)
def test_a_bad_scheduled_lr_is_refused_before_any_update(backend, value, error, match):
    class Bad:
        def learning_rate(self, step, cur_loss=None):
            return value

    parameters = two_parameters()
    set_grads(parameters, GRADS[0])
    optimizer = Adam(lr=0.01, scheduler=Bad())
    with pytest.raises(error, match=r"^Adam: the scheduler Bad " + match):
        optimizer.step(parameters)
    assert optimizer.lr == 0.01 and optimizer.step_count == 0
    assert_close(parameters["fc.weight"].data, WEIGHTS, backend=backend)


def test_a_scheduler_needs_a_learning_rate_method():
    class Wrong:
        def __call__(self, step):
            return 0.1

    with pytest.raises(TypeError, match=r"^SGD: scheduler must have a method learning_rate"):
        SGD(lr=0.1, scheduler=Wrong())
    optimizer = SGD(lr=0.1)
    with pytest.raises(TypeError, match=r"^SGD: scheduler must have a method learning_rate"):
        optimizer.scheduler = lambda step: 0.1
    assert optimizer.scheduler is None


@pytest.mark.parametrize("loss", ["0.5", None, True, np.asarray(0.5), [0.5]])
def test_report_loss_takes_a_python_number(loss):
    optimizer = Adam()
    with pytest.raises(TypeError, match=r"^Adam.report_loss takes the loss as a Python number; "
                                        r"got \w+. Pass float\(loss\) once per epoch"):
        optimizer.report_loss(loss)
    assert optimizer.reported_loss is None


# ---------------------------------------------------------------- the training loop
X = RNG.standard_normal((20, 4))
Y = RNG.integers(0, 3, 20)


def test_fit_reports_each_epochs_training_loss_to_the_optimizer(backend):
    schedule = Halving(0.05, every=1000)
    net = tinyml.Net([Linear("fc", 4, 3)])
    learner = tinyml.Learner(net, cross_entropy_with_logits, Adam(scheduler=schedule),
                             batch_size=8, seed=0)
    history = learner.fit(X, Y, epochs=3, verbose=0, validation_data=(X[:6], Y[:6]))
    steps = [step for step, _ in schedule.calls]
    assert steps == list(range(1, 10))  # 3 batches a epoch, counted from 1
    seen = [loss for _, loss in schedule.calls]
    assert seen == [None] * 3 + [history["loss"][0], None, None, history["loss"][1], None, None]
    assert learner.optimizer.reported_loss == history["loss"][2]
    assert history["loss"][0] != history["val_loss"][0]  # the training loss, not validation's


def test_reduce_on_plateau_counts_epochs_not_steps(backend):
    """A loss that never improves, three batches an epoch, patience 1: the rate drops after
    the second bad epoch (PyTorch's rule), not after the second bad step."""
    from tinyml.optim.schedules import ReduceOnPlateau

    optimizer = Adam(scheduler=ReduceOnPlateau(0.1, factor=0.5, patience=1))
    parameters = two_parameters()
    rates = []
    for _ in range(4):  # epochs
        for gradient in GRADS[:3]:
            train(optimizer, parameters, [gradient])
            rates.append(optimizer.lr)
        optimizer.report_loss(1.0)
    assert rates == [0.1] * 3 + [0.1] * 3 + [0.1] * 3 + [0.05] * 3


def test_fit_works_with_an_optimizer_without_report_loss(backend):
    class Bare:
        def __init__(self):
            self.steps = 0

        def step(self, parameters):
            self.steps += 1

    optimizer = Bare()
    learner = tinyml.Learner(tinyml.Net([Linear("fc", 4, 3)]), cross_entropy_with_logits,
                             optimizer, batch_size=10)
    learner.fit(X, Y, epochs=2, verbose=0)
    assert optimizer.steps == 4


def test_repr_names_the_options_that_are_set():
    assert repr(SGD(lr=0.1, clip_norm=1.0)) == ("SGD(lr=0.1, momentum=0.0, nesterov=False, "
                                                "weight_decay=0.0, clip_norm=1.0)")
    assert "decay_filter=<function no_decay_for_bias_and_norm" in repr(
        AdamW(decay_filter=no_decay_for_bias_and_norm))
