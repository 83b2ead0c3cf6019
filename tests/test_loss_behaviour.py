"""What each new loss promises beyond its formula: PyTorch's clamps, stability, subgradient
conventions, identities between losses, and every error path."""

import warnings

import numpy as np
import pytest

import tinyml
from tinyml import losses
from tinyml.layers import LogSoftmax, Sigmoid, Softmax
from tinyml.testing import assert_close

RNG = np.random.default_rng(5)
LOGITS = RNG.standard_normal((5, 4)) * 2
LABELS = np.array([0, 3, 1, 1, 2])
ONE_HOT = np.eye(4)[LABELS]
PREDICTED = RNG.standard_normal((4, 3)) * 3
TARGETS = RNG.standard_normal((4, 3))


def on(host_arrays):
    return [tinyml.asarray(a) for a in host_arrays]


def host(pair):
    return [tinyml.to_numpy(a) for a in pair]


# ---------------------------------------------------------------- binary cross-entropies
SATURATED = np.array([[0.0, 1.0, 0.0, 1.0]])
SATURATED_TARGETS = np.array([[1.0, 0.0, 0.0, 1.0]])


def test_bce_clamps_each_log_at_minus_100_as_pytorch(backend):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # log(0) would warn "divide by zero" on NumPy
        loss, gradient = losses.binary_cross_entropy(*on((SATURATED, SATURATED_TARGETS)))
    assert_close(loss, np.array(50.0), backend=backend)  # (100 + 100 + 0 + 0) / 4
    assert_close(gradient, np.array([[-1.0, 1.0, 0.0, 0.0]]) / 1e-12 / 4, backend=backend)


def test_bce_saturated_matches_torch(backend):
    torch = pytest.importorskip("torch")
    p = torch.tensor(SATURATED, requires_grad=True)
    expected = torch.nn.functional.binary_cross_entropy(p, torch.tensor(SATURATED_TARGETS))
    expected.backward()
    loss, gradient = losses.binary_cross_entropy(*on((SATURATED, SATURATED_TARGETS)))
    assert_close(loss, expected.detach().numpy(), backend=backend)
    assert_close(gradient, p.grad.numpy(), backend=backend)


def test_bce_of_a_sigmoid_is_bce_with_logits_where_stable(backend):
    z, t = RNG.standard_normal((3, 4)) * 3, RNG.uniform(0, 1, (3, 4))
    sigmoid = Sigmoid("sigmoid")
    probabilities = sigmoid.forward(tinyml.asarray(z))
    loss_p, grad_p = losses.binary_cross_entropy(probabilities, tinyml.asarray(t))
    loss_z, grad_z = losses.binary_cross_entropy_with_logits(*on((z, t)))
    assert_close(loss_p, tinyml.to_numpy(loss_z), backend=backend)
    assert_close(sigmoid.backward(grad_p), tinyml.to_numpy(grad_z), backend=backend)


def test_bce_with_logits_stays_finite_for_huge_logits(backend):
    z = np.array([[1000.0, -1000.0, 800.0, -800.0]])
    t = np.array([[0.0, 1.0, 1.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # exp(1000) would overflow
        loss, gradient = losses.binary_cross_entropy_with_logits(*on((z, t)))
    assert_close(loss, np.array((1000.0 + 1000.0) / 4), backend=backend)
    assert_close(gradient, np.array([[1.0, -1.0, 0.0, 0.0]]) / 4, backend=backend)


def test_bce_with_logits_of_huge_logits_matches_torch(backend):
    torch = pytest.importorskip("torch")
    z = np.array([[1000.0, -1000.0, 30.0, -30.0], [0.5, -0.5, 50.0, -50.0]])
    t = np.array([[0.0, 1.0, 1.0, 0.0], [0.3, 0.7, 0.0, 1.0]])
    zt = torch.tensor(z, requires_grad=True)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(zt, torch.tensor(t))
    expected.backward()
    loss, gradient = losses.binary_cross_entropy_with_logits(*on((z, t)))
    assert_close(loss, expected.detach().numpy(), backend=backend)
    assert_close(gradient, zt.grad.numpy(), backend=backend)


def test_binary_targets_may_be_integers(backend):
    p, t = RNG.uniform(0.1, 0.9, (3, 2)), RNG.integers(0, 2, (3, 2))
    by_int = losses.binary_cross_entropy(*on((p, t)))
    by_float = losses.binary_cross_entropy(*on((p, t.astype(float))))
    for ours, theirs in zip(by_int, host(by_float), strict=True):
        assert_close(ours, theirs, backend=backend)


# ---------------------------------------------------------------- nll and kl_divergence
def test_log_softmax_then_nll_is_cross_entropy_with_logits(backend):
    layer = LogSoftmax("log_softmax")
    log_p = layer.forward(tinyml.asarray(LOGITS))
    loss, grad_log_p = losses.nll(log_p, tinyml.asarray(LABELS))
    expected_loss, expected_grad = host(losses.cross_entropy_with_logits(*on((LOGITS, LABELS))))
    assert_close(loss, expected_loss, backend=backend)
    assert_close(layer.backward(grad_log_p), expected_grad, backend=backend)


def test_kl_against_one_hot_targets_is_nll(backend):
    log_p = tinyml.asarray(np.log(np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True)))
    kl = losses.kl_divergence(log_p, tinyml.asarray(ONE_HOT))
    nll = host(losses.nll(log_p, tinyml.asarray(LABELS)))
    for ours, theirs in zip(kl, nll, strict=True):
        assert_close(ours, theirs, backend=backend)


def test_kl_of_a_distribution_from_itself_is_zero(backend):
    p = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    log_q = np.log(np.where(p > 0, p, 1e-3))
    loss, _ = losses.kl_divergence(*on((log_q, p)))
    assert_close(loss, np.array(0.0), backend=backend)


def test_kl_is_the_batch_mean_for_any_shape_as_torch(backend):
    torch = pytest.importorskip("torch")
    log_q = np.log(RNG.dirichlet(np.ones(4), (2, 3)))
    p = RNG.dirichlet(np.ones(4), (2, 3))
    qt = torch.tensor(log_q, requires_grad=True)
    expected = torch.nn.functional.kl_div(qt, torch.tensor(p), reduction="batchmean")
    expected.backward()
    loss, gradient = losses.kl_divergence(*on((log_q, p)))
    assert_close(loss, expected.detach().numpy(), backend=backend)
    assert_close(gradient, qt.grad.numpy(), backend=backend)


# ---------------------------------------------------------------- hinge
def test_hinge_at_the_kink_contributes_nothing(backend):
    scores = np.array([[1.0, 0.0, -3.0], [0.0, 0.5, 0.0]])  # margins exactly 0 and 1.5
    loss, gradient = losses.hinge(*on((scores, np.array([0, 2]))))
    assert_close(loss, np.array(1.5 / 2), backend=backend)
    assert_close(gradient, np.array([[0.0, 0.0, 0.0], [0.0, 0.5, -0.5]]), backend=backend)


def test_hinge_gives_tied_rivals_subgradient_to_the_first(backend):
    scores = np.array([[0.0, 2.0, 2.0, -1.0]])
    loss, gradient = losses.hinge(*on((scores, np.array([0]))))
    assert_close(loss, np.array(3.0), backend=backend)
    assert_close(gradient, np.array([[-1.0, 1.0, 0.0, 0.0]]), backend=backend)


def test_hinge_is_zero_when_every_margin_holds(backend):
    scores = np.eye(3) * 5.0
    loss, gradient = losses.hinge(*on((scores, np.arange(3))))
    assert_close(loss, np.array(0.0), backend=backend)
    assert_close(gradient, np.zeros((3, 3)), backend=backend)


def test_hinge_reads_the_class_of_a_one_hot_row_as_its_largest_entry(backend):
    scores = RNG.standard_normal((3, 4))
    soft = np.array([[0.1, 0.7, 0.1, 0.1], [0.0, 0.0, 0.0, 1.0], [0.6, 0.2, 0.2, 0.0]])
    by_rows = losses.hinge(*on((scores, soft)))
    by_index = host(losses.hinge(*on((scores, np.array([1, 3, 0])))))
    for ours, theirs in zip(by_rows, by_index, strict=True):
        assert_close(ours, theirs, backend=backend)


def test_hinge_needs_two_classes(backend):
    with pytest.raises(ValueError, match=r"hinge: needs at least 2 classes to have a rival; "
                                         r"predicted has shape \(3, 1\)"):
        losses.hinge(*on((np.ones((3, 1)), np.zeros(3, dtype=np.int64))))


# ---------------------------------------------------------------- label smoothing
@pytest.mark.parametrize("family", [losses.cross_entropy, losses.cross_entropy_with_logits])
def test_no_smoothing_is_the_plain_loss(backend, family):
    inputs = np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True) \
        if family is losses.cross_entropy else LOGITS
    configured = family(label_smoothing=0.0)
    for ours, theirs in zip(configured(*on((inputs, LABELS))),
                            host(family(*on((inputs, LABELS)))), strict=True):
        assert_close(ours, theirs, backend=backend)


def test_full_smoothing_trains_on_uniform_targets(backend):
    loss, gradient = losses.cross_entropy_with_logits(label_smoothing=1.0)(*on((LOGITS, LABELS)))
    log_p = LOGITS - np.log(np.exp(LOGITS).sum(1, keepdims=True))
    assert_close(loss, np.array(-log_p.mean(axis=1).mean()), backend=backend)
    assert_close(gradient, (np.exp(log_p) - 0.25) / 5, backend=backend)


def test_smoothed_softmax_chain_rule_equals_smoothed_logits_gradient(backend):
    """The fusion of Softmax with a smoothed cross_entropy is exact."""
    softmax = Softmax("softmax")
    probabilities = softmax.forward(tinyml.asarray(LOGITS))
    smoothed = losses.cross_entropy(label_smoothing=0.15)
    loss_p, grad_p = smoothed(probabilities, tinyml.asarray(LABELS))
    loss_z, grad_z = losses.cross_entropy_with_logits(label_smoothing=0.15)(*on((LOGITS, LABELS)))
    assert_close(loss_p, tinyml.to_numpy(loss_z), backend=backend)
    assert_close(softmax.backward(grad_p), tinyml.to_numpy(grad_z), backend=backend)


# ---------------------------------------------------------------- regression identities
def test_huber_is_delta_times_smooth_l1(backend):
    for delta in (0.5, 1.0, 2.0):
        huber = losses.huber(delta=delta)(*on((PREDICTED, TARGETS)))
        smooth = host(losses.smooth_l1(beta=delta)(*on((PREDICTED, TARGETS))))
        for ours, theirs in zip(huber, smooth, strict=True):
            assert_close(ours, delta * theirs, backend=backend)


def test_smooth_l1_with_beta_zero_is_mae_as_torch(backend):
    p, t = PREDICTED, PREDICTED - np.array([[0.0, 1.0, -2.0]] * 4)
    smooth = losses.smooth_l1(beta=0.0)(*on((p, t)))
    mae = host(losses.mae(*on((p, t))))
    for ours, theirs in zip(smooth, mae, strict=True):
        assert_close(ours, theirs, backend=backend)
    torch = pytest.importorskip("torch")
    pt = torch.tensor(p, requires_grad=True)
    torch.nn.functional.smooth_l1_loss(pt, torch.tensor(t), beta=0.0).backward()
    assert_close(smooth[1], pt.grad.numpy(), backend=backend)


def test_mae_and_huber_subgradients_at_the_kinks(backend):
    p = np.array([[0.0, 1.0, -1.0, 3.0]])
    t = np.array([[0.0, 0.0, 0.0, 0.0]])  # d = 0 (mae kink) and |d| = delta = 1 (huber's)
    _, mae_grad = losses.mae(*on((p, t)))
    assert_close(mae_grad, np.array([[0.0, 1.0, -1.0, 1.0]]) / 4, backend=backend)
    loss, huber_grad = losses.huber(*on((p, t)))
    assert_close(loss, np.array((0.0 + 0.5 + 0.5 + 2.5) / 4), backend=backend)
    assert_close(huber_grad, np.array([[0.0, 1.0, -1.0, 1.0]]) / 4, backend=backend)


# ---------------------------------------------------------------- errors
ELEMENTWISE = {
    "mse": losses.mse, "mae": losses.mae, "huber": losses.huber,
    "smooth_l1": losses.smooth_l1(beta=0.5),
    "binary_cross_entropy": losses.binary_cross_entropy,
    "binary_cross_entropy_with_logits": losses.binary_cross_entropy_with_logits,
    "kl_divergence": losses.kl_divergence,
}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_losses_refuse_a_shape_mismatch(backend, name):
    with pytest.raises(ValueError, match=rf"{name}: ground_truth has shape \(5,\) but predicted "
                                         r"has \(5, 1\); they must match exactly"):
        ELEMENTWISE[name](*on((np.full((5, 1), 0.5), np.full(5, 0.5))))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_losses_refuse_integer_predictions(backend, name):
    with pytest.raises(TypeError, match=rf"{name}: predicted must be floating point"):
        ELEMENTWISE[name](*on((np.ones((2, 2), dtype=np.int64), np.ones((2, 2)))))


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_losses_refuse_complex_targets(backend, name):
    complex_targets = backend.xp.asarray(np.full((2, 2), 0.5 + 0.5j), device=backend.device)
    with pytest.raises(TypeError, match=rf"{name}: ground_truth must hold real numbers; got "
                                        r"dtype .*complex"):
        ELEMENTWISE[name](tinyml.asarray(np.full((2, 2), 0.5)), complex_targets)


def test_kl_refuses_a_prediction_without_a_batch_axis(backend):
    with pytest.raises(ValueError, match=r"kl_divergence: predicted is 0-d; give "
                                         r"log-probabilities of shape \(N, \.\.\.\)"):
        losses.kl_divergence(*on((np.array(-1.0), np.array(1.0))))


@pytest.mark.parametrize("name", ["binary_cross_entropy", "mae", "kl_divergence"])
def test_new_losses_refuse_labels_from_another_backend(backend, name):
    if backend.name == "numpy":
        pytest.skip("needs a second library")
    with pytest.raises(TypeError, match=rf"{name}: ground_truth lives on numpy"):
        ELEMENTWISE[name](tinyml.asarray(np.full((2, 2), 0.5)), np.full((2, 2), 0.5))
