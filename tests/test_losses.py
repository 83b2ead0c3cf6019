"""Losses: values against NumPy references, gradients against finite differences, errors."""

import numpy as np
import pytest

import tinyml
from tinyml.layers import Softmax
from tinyml.losses import cross_entropy, cross_entropy_with_logits, hinge, mse, nll
from tinyml.testing import assert_close, check_loss_gradient

RNG = np.random.default_rng(0)
LOGITS = RNG.standard_normal((5, 4))
LABELS = np.array([0, 3, 1, 1, 2])
ONE_HOT = np.eye(4)[LABELS]


def softmax_reference(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_cross_entropy_value_and_gradient(backend):
    p = softmax_reference(LOGITS)
    loss, grad = cross_entropy(tinyml.asarray(p), tinyml.asarray(LABELS))
    assert_close(loss, np.array(-np.mean(np.log(p[np.arange(5), LABELS]))), backend=backend)
    assert_close(grad, -ONE_HOT / p / 5, backend=backend)
    check_loss_gradient(cross_entropy, p, tinyml.asarray(LABELS))


def test_cross_entropy_with_logits_value_and_gradient(backend):
    loss, grad = cross_entropy_with_logits(tinyml.asarray(LOGITS), tinyml.asarray(LABELS))
    p = softmax_reference(LOGITS)
    assert_close(loss, np.array(-np.mean(np.log(p[np.arange(5), LABELS]))), backend=backend)
    assert_close(grad, (p - ONE_HOT) / 5, backend=backend)
    check_loss_gradient(cross_entropy_with_logits, LOGITS, tinyml.asarray(LABELS))


def test_soft_targets_gradient(backend):
    soft = RNG.random((5, 4))
    check_loss_gradient(cross_entropy_with_logits, LOGITS, tinyml.asarray(soft))
    check_loss_gradient(cross_entropy, softmax_reference(LOGITS), tinyml.asarray(soft))


# Every class loss, plain and configured: they share the label checks.
CLASS_LOSSES = [cross_entropy, cross_entropy_with_logits, nll, hinge,
                cross_entropy(label_smoothing=0.1), cross_entropy_with_logits(label_smoothing=0.2)]
CLASS_IDS = ["cross_entropy", "cross_entropy_with_logits", "nll", "hinge",
             "cross_entropy_smoothed", "cross_entropy_with_logits_smoothed"]


@pytest.mark.parametrize("loss_fn", CLASS_LOSSES, ids=CLASS_IDS)
def test_indices_and_one_hot_agree(backend, loss_fn):
    on_probabilities = getattr(loss_fn, "family", None) is cross_entropy.family
    inputs = tinyml.asarray(softmax_reference(LOGITS) if on_probabilities else LOGITS)
    by_index = loss_fn(inputs, tinyml.asarray(LABELS))
    by_one_hot = loss_fn(inputs, tinyml.asarray(ONE_HOT))
    for a, b in zip(by_index, by_one_hot, strict=True):
        assert_close(a, tinyml.to_numpy(b), backend=backend)


def test_mse_value_and_gradient(backend):
    target = RNG.standard_normal((5, 4))
    loss, grad = mse(tinyml.asarray(LOGITS), tinyml.asarray(target))
    assert_close(loss, np.array(np.mean((LOGITS - target) ** 2)), backend=backend)
    assert_close(grad, 2 * (LOGITS - target) / LOGITS.size, backend=backend)
    check_loss_gradient(mse, LOGITS, tinyml.asarray(target))


def test_losses_keep_float32(backend32):
    """On NumPy 1.26 a float32 sum (a NumPy scalar) divided by a Python int became float64."""
    for loss_fn, prediction, target in ((cross_entropy, softmax_reference(LOGITS), LABELS),
                                        (cross_entropy_with_logits, LOGITS, LABELS),
                                        (mse, LOGITS, LOGITS + 1.0)):
        loss, grad = loss_fn(tinyml.asarray(prediction), tinyml.asarray(target))
        assert loss.dtype == backend32.dtype and grad.dtype == backend32.dtype
        assert tuple(loss.shape) == ()


def test_logits_path_stays_finite_for_huge_logits(backend):
    logits = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 999.0]])
    loss, grad = cross_entropy_with_logits(tinyml.asarray(logits), tinyml.asarray([0, 2]))
    assert np.isfinite(tinyml.to_numpy(loss)) and np.isfinite(tinyml.to_numpy(grad)).all()
    assert abs(float(tinyml.to_numpy(loss)) - (1.0 + np.log1p(np.exp(-1.0))) / 2) < 1e-9


def test_probability_path_survives_a_zero_probability(backend):
    probabilities = np.array([[1.0, 0.0], [0.5, 0.5]])
    loss, grad = cross_entropy(tinyml.asarray(probabilities), tinyml.asarray([1, 0]))
    assert np.isfinite(tinyml.to_numpy(loss)) and np.isfinite(tinyml.to_numpy(grad)).all()


def test_softmax_backward_of_cross_entropy_equals_logits_gradient(backend):
    """The fusion the Learner does is exact: chain rule through Softmax gives (p - y) / N."""
    softmax = Softmax("softmax")
    probabilities = softmax.forward(tinyml.asarray(LOGITS))
    _, grad_p = cross_entropy(probabilities, tinyml.asarray(LABELS))
    _, grad_z = cross_entropy_with_logits(tinyml.asarray(LOGITS), tinyml.asarray(LABELS))
    assert_close(softmax.backward(grad_p), tinyml.to_numpy(grad_z), backend=backend)


@pytest.mark.parametrize("loss_fn", CLASS_LOSSES, ids=CLASS_IDS)
@pytest.mark.parametrize(
    ("predicted", "labels", "error", "match"),
    [
        (np.ones((5,)), LABELS, ValueError, r"predicted must have shape \(N, C\)"),
        (np.ones((5, 4)), LABELS[:3], ValueError, "3 labels for 5 predictions"),
        (np.ones((5, 4)), LABELS.astype(float), TypeError, "class-index labels must be integers"),
        (np.ones((5, 4)), np.ones((5, 3)), ValueError, r"one-hot of shape \(5, 4\)"),
        (np.ones((5, 4)), np.ones((5, 4, 1)), ValueError, r"class indices of shape \(5,\)"),
        (np.ones((5, 4), dtype=np.int64), LABELS, TypeError, "predicted must be floating"),
    ],
)
def test_class_loss_label_errors(backend, loss_fn, predicted, labels, error, match):
    with pytest.raises(error, match=rf"{loss_fn.__name__}: .*{match}"):
        loss_fn(tinyml.asarray(predicted), tinyml.asarray(labels))


@pytest.mark.parametrize("loss_fn", CLASS_LOSSES, ids=CLASS_IDS)
def test_class_losses_refuse_complex_one_hot_labels(backend, loss_fn):
    labels = backend.xp.asarray(ONE_HOT.astype(complex), device=backend.device)
    with pytest.raises(TypeError, match=rf"{loss_fn.__name__}: one-hot labels must hold real "
                                        r"numbers; got dtype .*complex"):
        loss_fn(tinyml.asarray(LOGITS), labels)


def test_mse_refuses_shape_mismatch(backend):
    with pytest.raises(ValueError, match=r"mse: ground_truth has shape \(5,\).*\(5, 1\)"):
        mse(tinyml.asarray(np.ones((5, 1))), tinyml.asarray(np.ones(5)))


def test_losses_refuse_labels_from_another_backend(backend):
    if backend.name == "numpy":
        pytest.skip("needs a second library")
    with pytest.raises(TypeError, match="cross_entropy: ground_truth lives on numpy"):
        cross_entropy(tinyml.asarray(np.full((2, 2), 0.5)), np.array([0, 1]))
