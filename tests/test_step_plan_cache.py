"""Learner.train_step keeps its walk of the net between steps: it must see every change to
what the net holds (a layer added, a parameter replaced, set_params, another loss)."""

import numpy as np

import tinyml
from tinyml.layers import Linear, ReLu, Residual
from tinyml.losses import cross_entropy_with_logits, mse
from tinyml.optim import SGD


def _learner():
    tinyml.seed(0)
    net = tinyml.Net([Linear("fc1", 4, 3), ReLu("relu"), Linear("fc2", 3, 2)])
    return tinyml.Learner(net, cross_entropy_with_logits, SGD(0.1), 5)


def _batch():
    rng = np.random.default_rng(0)
    return tinyml.asarray(rng.standard_normal((5, 4))), tinyml.asarray(rng.integers(0, 2, 5))


def test_a_step_reuses_its_walk_while_nothing_changes():
    learner = _learner()
    x, y = _batch()
    learner.train_step(x, y)
    first = learner._step_plan()
    learner.train_step(x, y)
    assert learner._step_plan() is first


def test_a_replaced_parameter_is_trained():
    learner = _learner()
    x, y = _batch()
    learner.train_step(x, y)
    fc2 = learner.net["fc2"]
    fc2.weight = tinyml.Parameter(tinyml.asarray(np.zeros((2, 3))))
    learner.train_step(x, y)
    assert np.any(tinyml.to_numpy(fc2.weight.data) != 0.0)


def test_an_added_layer_and_a_nested_one_are_trained():
    learner = _learner()
    x, y = _batch()
    learner.train_step(x, y)
    learner.net.layers.append(Linear("fc3", 2, 2))  # behind Net.add's back: seen as well
    learner.train_step(x, y)
    assert "fc3.weight" in learner.optimizer.state
    inner = tinyml.Net([Linear("a", 2, 2)], name="block")
    learner.net.add(inner)
    learner.train_step(x, y)
    inner.add(Linear("b", 2, 2))
    learner.train_step(x, y)
    assert "block.b.weight" in learner.optimizer.state


def test_set_params_and_another_loss_are_seen():
    learner = _learner()
    x, y = _batch()
    learner.train_step(x, y)
    before = learner._step_plan()
    learner.net["fc1"].set_params({"parameters": {"weight": np.ones((3, 4))}})
    assert learner._step_plan() is not before
    after = learner._step_plan()
    learner.loss = mse
    assert learner._step_plan() is not after


def test_a_layer_added_in_place_to_a_nested_container_is_trained():
    tinyml.seed(0)
    block = Residual("res", [Linear("inner", 4, 4)])
    net = tinyml.Net([block, Linear("fc", 4, 2)])
    learner = tinyml.Learner(net, cross_entropy_with_logits, SGD(0.1), 5)
    x, y = _batch()
    learner.train_step(x, y)
    block.layers.append(Linear("added", 4, 4))  # the list itself, behind Residual's back
    learner.train_step(x, y)
    assert "res.added.weight" in learner.optimizer.state
    del block.layers[-1]
    learner.train_step(x, y)
    assert learner._step_plan().parameters.keys() == net.named_parameters().keys()
