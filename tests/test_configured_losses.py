"""Losses with options: a keyword-only call configures, a (predicted, ground_truth) call
computes; configured losses compare by function and options; options are checked once."""

import numpy as np
import pytest

import tinyml
from tinyml import losses
from tinyml.losses import (
    CLASSIFICATION_LOSSES,
    Loss,
    cross_entropy,
    cross_entropy_with_logits,
    huber,
    smooth_l1,
)
from tinyml.testing import assert_close

RNG = np.random.default_rng(11)
PREDICTED = RNG.standard_normal((4, 3)) * 3
TARGETS = RNG.standard_normal((4, 3))
LOGITS = RNG.standard_normal((5, 4))
LABELS = np.array([0, 3, 1, 1, 2])


def computed(loss_fn, predicted=PREDICTED, truth=TARGETS):
    loss, gradient = loss_fn(tinyml.asarray(predicted), tinyml.asarray(truth))
    return tinyml.to_numpy(loss), tinyml.to_numpy(gradient)


def test_a_keyword_call_configures_and_a_plain_call_computes(backend):
    configured = huber(delta=2.0)
    assert isinstance(configured, Loss) and configured is not huber
    assert configured.options == {"delta": 2.0} and huber.options == {"delta": 1.0}
    wide, narrow = computed(configured), computed(huber)
    assert not np.allclose(wide[0], narrow[0])  # the option changes the numbers
    assert_close(huber(tinyml.asarray(PREDICTED), tinyml.asarray(TARGETS))[0],
                 narrow[0], backend=backend)


def test_options_beside_the_arrays_compute_with_them(backend):
    direct = huber(tinyml.asarray(PREDICTED), tinyml.asarray(TARGETS), delta=2.0)
    for ours, theirs in zip(direct, computed(huber(delta=2.0)), strict=True):
        assert_close(ours, theirs, backend=backend)


def test_keywords_for_the_arrays_work_too(backend):
    loss, _ = huber(predicted=tinyml.asarray(PREDICTED), ground_truth=tinyml.asarray(TARGETS))
    assert_close(loss, computed(huber)[0], backend=backend)


def test_configuring_again_replaces_options():
    assert huber(delta=2.0)(delta=3.0) == huber(delta=3.0)
    assert cross_entropy(label_smoothing=0.1)(label_smoothing=0.0) == cross_entropy


def test_equality_is_function_and_options():
    assert huber(delta=2.0) == huber(delta=2.0)
    assert huber(delta=2) == huber(delta=2.0)  # normalized to a Python float
    assert huber(delta=1.0) == huber
    assert huber(delta=2.0) != huber(delta=3.0)
    assert huber != smooth_l1  # same options, another function
    assert cross_entropy(label_smoothing=0.1) != cross_entropy_with_logits(label_smoothing=0.1)
    assert huber != losses.mse and huber(delta=2.0) != "huber"
    assert len({huber(delta=2.0), huber(delta=2.0), huber, huber(delta=1.0)}) == 2


def test_options_are_stored_as_python_floats():
    configured = huber(delta=np.float32(2.5))
    assert type(configured.options["delta"]) is float
    assert type(cross_entropy(label_smoothing=np.float64(0.1)).options["label_smoothing"]) \
        is float


def test_configured_losses_keep_float32(backend32):
    for loss_fn, predicted, truth in ((huber(delta=np.float64(2.0)), PREDICTED, TARGETS),
                                      (smooth_l1(beta=0.5), PREDICTED, TARGETS),
                                      (cross_entropy_with_logits(label_smoothing=0.1), LOGITS,
                                       LABELS)):
        loss, gradient = loss_fn(tinyml.asarray(predicted), tinyml.asarray(truth))
        assert loss.dtype == backend32.dtype and gradient.dtype == backend32.dtype


def test_repr_names_the_changed_options():
    assert repr(huber) == "huber" and repr(huber(delta=1.0)) == "huber"
    assert repr(huber(delta=2.0)) == "huber(delta=2.0)"
    assert repr(cross_entropy_with_logits(label_smoothing=0.1)) == \
        "cross_entropy_with_logits(label_smoothing=0.1)"


def test_a_configured_loss_keeps_the_name_and_docstring():
    configured = huber(delta=2.0)
    assert configured.__name__ == "huber" and "Huber" in configured.__doc__
    assert configured.family is huber.family


def test_configured_cross_entropies_count_as_classification_losses():
    for loss in (cross_entropy(label_smoothing=0.1), cross_entropy_with_logits(label_smoothing=0.2),
                 losses.nll, losses.hinge, cross_entropy):
        assert loss in CLASSIFICATION_LOSSES
    for loss in (huber(delta=2.0), losses.mse, losses.binary_cross_entropy, losses.kl_divergence):
        assert loss not in CLASSIFICATION_LOSSES


def test_the_learner_scores_one_hot_labels_of_a_configured_cross_entropy(backend):
    """The Learner asks CLASSIFICATION_LOSSES whether (N, C) float labels are classes."""
    net = tinyml.Net([tinyml.layers.Linear("fc", 4, 4)])
    learner = tinyml.Learner(net, cross_entropy_with_logits(label_smoothing=0.1),
                             tinyml.optim.SGD(lr=0.1), batch_size=5)
    history = learner.fit(LOGITS, np.eye(4)[LABELS], epochs=1, verbose=0)
    assert "accuracy" in history


@pytest.mark.parametrize(  # each option's bad values: tests/test_declared_arguments.py
    ("call", "error", "match"),
    [
        (lambda: huber(), TypeError,
         r"huber: call it with \(predicted, ground_truth\) to compute the loss, or with keyword "
         r"options \(delta=1\.0\) to configure it"),
        (lambda: huber(2.0), TypeError,
         r"huber: got predicted alone; .* pass options by keyword to configure it: "
         r"huber\(delta=1\.0\)"),
        (lambda: huber(ground_truth=np.ones(2)), TypeError, r"huber: got ground_truth alone"),
        (lambda: huber(beta=1.0), TypeError,
         r"huber: unknown option 'beta'; its options are delta"),
        (lambda: huber(np.ones(2), np.ones(2), delta=-1.0), ValueError,
         r"huber: invalid delta -1\.0"),
    ],
)
def test_bad_calls_and_options(call, error, match):
    with pytest.raises(error, match=match):
        call()
