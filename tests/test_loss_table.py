"""Every loss through one recipe: value and gradient against an independent loop reference
(tests/loss_reference.py), against float64 central differences, against torch.nn.functional
where PyTorch has the same loss, and float32 in, float32 out; on every backend."""

import loss_reference as ref
import numpy as np
import pytest
from device_reads import watch_torch_reads

import tinyml
from tinyml import losses
from tinyml.testing import assert_close, check_loss_gradient

RNG = np.random.default_rng(7)

# Regression: differences on both sides of every threshold tested (0.5, 1, 2), none near one.
OFFSETS = np.array([[0.3, -1.7, 2.6], [-0.35, 1.3, -2.4], [0.8, -0.2, 3.1], [-1.2, 0.65, -2.9]])
PREDICTED = RNG.standard_normal((4, 3))
TARGETS = PREDICTED - OFFSETS

PROBABILITIES = RNG.uniform(0.05, 0.95, (4, 3))
BINARY = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.3], [0.0, 0.0, 1.0], [0.8, 1.0, 0.0]])
BINARY_LOGITS = RNG.standard_normal((4, 3)) * 3

LOGITS = RNG.standard_normal((5, 4)) * 2
LABELS = np.array([0, 3, 1, 1, 2])
SOFT = RNG.dirichlet(np.ones(4), 5)


def log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


LOG_P = log_softmax(LOGITS)
TARGET_P = np.exp(log_softmax(RNG.standard_normal((5, 4))))
TARGET_P[1] = [0.5, 0.0, 0.25, 0.25]  # a zero target: 0 log 0 = 0

HINGE_SCORES = np.array([[2.0, 0.3, -1.0, 0.1], [0.2, 0.9, 0.4, 1.4], [-0.3, 2.5, 0.1, 0.0],
                         [1.1, 0.5, 0.7, -2.0], [0.0, -0.6, 0.25, 1.6]])
HINGE_LABELS = np.array([0, 3, 0, 2, 3])  # margins 0.3 (active) ... -0.7 (inactive)
TWO_CLASS_SCORES = RNG.standard_normal((6, 2))
TWO_CLASS_LABELS = np.array([0, 1, 1, 0, 1, 0])


def torch_function(name, **options):
    """torch.nn.functional.<name>(prediction, target, **options), imported when called."""
    def call(predicted, target):
        import torch.nn.functional as F  # noqa: N812

        return getattr(F, name)(predicted, target, **options)
    return call


def torch_cross_entropy_of_probabilities(label_smoothing):
    """PyTorch's label-smoothed cross-entropy, with log p in place of its log_softmax.

    ``cross_entropy(log p, y, label_smoothing=eps)`` has the same value when rows sum to one,
    but its gradient also runs through the softmax's normalization, which a loss on
    probabilities does not have; PyTorch composes it as (1 - eps) nll + eps * (mean over
    classes of -log p), and so does this, on log p.
    """
    def call(p, labels):
        import torch

        log_p = torch.log(p)
        classes = p.shape[1]
        smooth = -log_p.sum(dim=1).mean() / classes
        loss = ((1.0 - label_smoothing) * torch.nn.functional.nll_loss(log_p, labels)
                + label_smoothing * smooth)
        same = torch.nn.functional.cross_entropy(log_p, labels, label_smoothing=label_smoothing)
        torch.testing.assert_close(loss, same, rtol=1e-12, atol=1e-12)
        return loss
    return call


def torch_crammer_singer(scores, labels):
    """Crammer-Singer composed in torch (autograd is the second opinion on the gradient)."""
    import torch

    true = scores.gather(1, labels[:, None])[:, 0]
    mask = torch.nn.functional.one_hot(labels, scores.shape[1]).bool()
    rival = scores.masked_fill(mask, float("-inf")).max(dim=1).values
    return (1.0 + rival - true).clamp(min=0.0).mean()


def torch_two_class_hinge(scores, labels):
    """Weston-Watkins (multi_margin_loss) averages C - 1 = 1 rival over C = 2: half of ours."""
    import torch

    return 2.0 * torch.nn.functional.multi_margin_loss(scores, labels)


# id: (loss, predicted, ground truth, reference(predicted, truth), torch(predicted, truth))
CASES = {
    "mse": (losses.mse, PREDICTED, TARGETS, ref.mse, torch_function("mse_loss")),
    "mae": (losses.mae, PREDICTED, TARGETS, ref.mae, torch_function("l1_loss")),
    "huber": (losses.huber, PREDICTED, TARGETS, ref.huber, torch_function("huber_loss")),
    "huber_delta_2": (losses.huber(delta=2.0), PREDICTED, TARGETS,
                      lambda p, t: ref.huber(p, t, 2.0), torch_function("huber_loss", delta=2.0)),
    "huber_delta_0.5": (losses.huber(delta=0.5), PREDICTED, TARGETS,
                        lambda p, t: ref.huber(p, t, 0.5),
                        torch_function("huber_loss", delta=0.5)),
    "smooth_l1": (losses.smooth_l1, PREDICTED, TARGETS, ref.smooth_l1,
                  torch_function("smooth_l1_loss")),
    "smooth_l1_beta_2": (losses.smooth_l1(beta=2.0), PREDICTED, TARGETS,
                         lambda p, t: ref.smooth_l1(p, t, 2.0),
                         torch_function("smooth_l1_loss", beta=2.0)),
    "smooth_l1_beta_0.5": (losses.smooth_l1(beta=0.5), PREDICTED, TARGETS,
                           lambda p, t: ref.smooth_l1(p, t, 0.5),
                           torch_function("smooth_l1_loss", beta=0.5)),
    "binary_cross_entropy": (losses.binary_cross_entropy, PROBABILITIES, BINARY,
                             ref.binary_cross_entropy, torch_function("binary_cross_entropy")),
    "binary_cross_entropy_with_logits": (
        losses.binary_cross_entropy_with_logits, BINARY_LOGITS, BINARY,
        ref.binary_cross_entropy_with_logits,
        torch_function("binary_cross_entropy_with_logits")),
    "nll": (losses.nll, LOG_P, LABELS, ref.nll, torch_function("nll_loss")),
    "hinge": (losses.hinge, HINGE_SCORES, HINGE_LABELS, ref.hinge, torch_crammer_singer),
    "hinge_two_classes": (losses.hinge, TWO_CLASS_SCORES, TWO_CLASS_LABELS, ref.hinge,
                          torch_two_class_hinge),
    "kl_divergence": (losses.kl_divergence, LOG_P, TARGET_P, ref.kl_divergence,
                      torch_function("kl_div", reduction="batchmean")),
    "cross_entropy_with_logits": (losses.cross_entropy_with_logits, LOGITS, LABELS,
                                  ref.cross_entropy_with_logits, torch_function("cross_entropy")),
    "cross_entropy_with_logits_smoothed": (
        losses.cross_entropy_with_logits(label_smoothing=0.1), LOGITS, LABELS,
        lambda z, y: ref.cross_entropy_with_logits(z, y, 0.1),
        torch_function("cross_entropy", label_smoothing=0.1)),
    "cross_entropy_with_logits_smoothed_soft": (
        losses.cross_entropy_with_logits(label_smoothing=0.3), LOGITS, SOFT,
        lambda z, y: ref.cross_entropy_with_logits(z, y, 0.3),
        torch_function("cross_entropy", label_smoothing=0.3)),
    "cross_entropy_smoothed": (
        losses.cross_entropy(label_smoothing=0.2), np.exp(LOG_P), LABELS,
        lambda p, y: ref.cross_entropy(p, y, 0.2), torch_cross_entropy_of_probabilities(0.2)),
}


def inputs(case):
    loss_fn, predicted, truth, _, _ = CASES[case]
    return loss_fn, predicted, truth, tinyml.asarray(predicted), tinyml.asarray(truth)


@pytest.mark.parametrize("case", CASES)
def test_value_and_gradient_match_the_loop_reference(backend, case):
    loss_fn, predicted, truth, on_device, truth_on_device = inputs(case)
    expected_loss, expected_gradient = CASES[case][3](predicted, truth)
    loss, gradient = loss_fn(on_device, truth_on_device)
    assert_close(loss, np.array(expected_loss), backend=backend, err_msg=f"{case} loss")
    assert_close(gradient, expected_gradient, backend=backend, err_msg=f"{case} gradient")


@pytest.mark.parametrize("case", CASES)
def test_gradient_matches_finite_differences(backend, case):
    loss_fn, predicted, _, _, truth_on_device = inputs(case)
    check_loss_gradient(loss_fn, predicted, truth_on_device)


@pytest.mark.parametrize("case", CASES)
def test_value_and_gradient_match_torch(backend, case):
    torch = pytest.importorskip("torch")
    loss_fn, predicted, truth, on_device, truth_on_device = inputs(case)
    predicted_t = torch.tensor(predicted, requires_grad=True)
    truth_t = torch.tensor(truth)
    expected = CASES[case][4](predicted_t, truth_t)
    expected.backward()
    loss, gradient = loss_fn(on_device, truth_on_device)
    assert_close(loss, expected.detach().numpy(), backend=backend, err_msg=f"{case} loss")
    assert_close(gradient, predicted_t.grad.numpy(), backend=backend,
                 err_msg=f"{case} gradient")


@pytest.mark.parametrize("case", CASES)
def test_float32_stays_float32(backend32, case):
    loss_fn, predicted, truth, on_device, truth_on_device = inputs(case)
    expected_loss, expected_gradient = CASES[case][3](predicted, truth)
    loss, gradient = loss_fn(on_device, truth_on_device)
    assert tuple(loss.shape) == ()
    assert_close(loss, np.array(expected_loss), backend=backend32, err_msg=f"{case} loss")
    assert_close(gradient, expected_gradient, backend=backend32, err_msg=f"{case} gradient")


def test_the_cases_cross_every_branch():
    """The inputs reach both sides of each kink, so no branch goes untested."""
    margins = 1.0 + np.array([max(s[j] for j in range(4) if j != y) - s[y]
                              for s, y in zip(HINGE_SCORES, HINGE_LABELS, strict=True)])
    assert (margins > 0.1).any() and (margins < -0.1).any()
    for threshold in (0.5, 1.0, 2.0):
        assert (abs(OFFSETS) < threshold - 0.1).any() and (abs(OFFSETS) > threshold + 0.1).any()
    assert (TARGET_P == 0).any()


@pytest.mark.parametrize("case", CASES)
def test_no_loss_reads_the_device(monkeypatch, case):
    """A float()/bool()/item() of a device array makes a GPU wait: count them on torch, whose
    tensors let us watch. A loss must make none (its labels are checked by shape and dtype)."""
    reads = watch_torch_reads(monkeypatch)
    with tinyml.use_backend("torch", dtype="float64"):
        loss_fn, _, _, on_device, truth_on_device = inputs(case)
        reads.clear()
        loss_fn(on_device, truth_on_device)
    assert reads == []
