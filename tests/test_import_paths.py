"""The callbacks moved from tinyml/train/ into tinyml/callbacks/ (one file each), and the
loss-to-last-layer table into tinyml/losses/last_layer.py: every public path that worked
before still names the same object."""

import importlib

import pytest

import tinyml

CALLBACKS = ["CSVLogger", "Callback", "CallbackList", "EarlyStopping", "EpochPrinter",
             "History", "LayerHooks", "LearningRateScheduler", "ModelCheckpoint", "ProgressBar",
             "TensorBoard", "TerminateOnNaN"]
# (old module, name): the public paths of the training package before the move.
OLD_PATHS = [
    *(("tinyml.callbacks", name) for name in CALLBACKS),
    *(("tinyml.train", name) for name in ["CSVLogger", "EarlyStopping", "LearningRateScheduler",
                                          "ModelCheckpoint", "TensorBoard"]),
    *(("tinyml.train.callbacks", name) for name in ["Callback", "CallbackList",
                                                    "EpochPrinter", "LayerHooks"]),
]


@pytest.mark.parametrize(("module", "name"), OLD_PATHS, ids=[".".join(p) for p in OLD_PATHS])
def test_an_old_import_path_names_the_callback(module, name):
    value = getattr(importlib.import_module(module), name)
    assert value is getattr(tinyml.callbacks, name)


def test_the_old_paths_of_the_loop_and_the_rbm_trainer():
    from tinyml.train import Learner, train_rbm
    from tinyml.train.callbacks import format_logs

    assert Learner is tinyml.Learner and train_rbm.__module__ == "tinyml.train.rbm"
    assert format_logs({"loss": 0.5, "lr": 0.1}) == "loss 0.5000  lr 0.1"


def test_the_last_layer_table_lives_beside_the_fusions():
    """tinyml.losses.last_layer checks a net's end on its own, without a Learner."""
    from tinyml.layers import Linear, Softmax
    from tinyml.losses import cross_entropy, cross_entropy_with_logits
    from tinyml.losses.last_layer import check_loss_fits_net

    scores = tinyml.Net([Linear("fc", 3, 2)])
    probabilities = tinyml.Net([Linear("fc", 3, 2), Softmax("softmax")])
    check_loss_fits_net(probabilities, cross_entropy, "here")
    check_loss_fits_net(scores, cross_entropy_with_logits, "here")
    with pytest.raises(ValueError, match="here: cross_entropy expects probabilities"):
        check_loss_fits_net(scores, cross_entropy, "here")
    with pytest.raises(ValueError, match="softmax twice"):
        check_loss_fits_net(probabilities, cross_entropy_with_logits, "here")
