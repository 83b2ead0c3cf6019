"""MultiHeadAttention: self-attention as cross-attention of x with itself, PyTorch's parameter
layout, dropout on the weights, and the refusals of its arguments (self- and cross-attention
under every mask kind against a loop reference and torch.nn.MultiheadAttention(batch_first=True)
with the same weights, refused inputs and masks and the rest of the contract:
tests/layer_specs.py, test_layer_contract.py)."""

import numpy as np
import pytest

import tinyml
from tinyml.layers import MultiHeadAttention
from tinyml.testing import assert_close, check_layer

E, HEADS = 6, 3


def layer_with_biases(causal=False, dropout=0.0):
    """A layer whose biases are not zero, so their gradients and the reference see them."""
    layer = MultiHeadAttention("mha", E, HEADS, causal=causal, dropout=dropout)
    rng = np.random.default_rng(9)
    layer.in_proj_bias.data = tinyml.asarray(rng.standard_normal(3 * E))
    layer.out_proj_bias.data = tinyml.asarray(rng.standard_normal(E))
    return layer


def sequences(n=2, t=3, s=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, t, E)), rng.standard_normal((n, s, E)), \
        rng.standard_normal((n, s, E))


def test_self_attention_is_cross_attention_of_x_with_itself(backend):
    x = tinyml.asarray(sequences()[0])
    layer = layer_with_biases()
    g = tinyml.asarray(np.random.default_rng(4).standard_normal((2, 3, E)))
    own = layer.forward(x)
    dx = layer.backward(g)
    own_grads = {key: tinyml.to_numpy(p.grad).copy() for key, p in
                 layer.named_parameters().items()}
    layer.zero_grad()
    assert_close(layer.forward(x, x, x), tinyml.to_numpy(own), backend=backend)
    dq, dk, dv = layer.backward(g)
    assert_close(dq + dk + dv, tinyml.to_numpy(dx), backend=backend)
    for key, parameter in layer.named_parameters().items():
        assert_close(parameter.grad, own_grads[key], backend=backend, err_msg=key)


def test_parameters_are_pytorchs(backend):
    layer = MultiHeadAttention("mha", 8, 2)
    shapes = {key: tuple(value.shape) for key, value in layer.state_dict().items()}
    assert shapes == {"in_proj_weight": (24, 8), "in_proj_bias": (24,),
                      "out_proj_weight": (8, 8), "out_proj_bias": (8,)}
    assert not np.any(tinyml.to_numpy(layer.in_proj_bias.data))
    bound = np.sqrt(6.0 / (8 + 24))  # Glorot-uniform, as torch's xavier_uniform_
    assert np.all(np.abs(tinyml.to_numpy(layer.in_proj_weight.data)) <= bound)


def test_dropout_on_the_weights_is_seeded_and_off_in_eval_mode(backend):
    x = sequences()[0]
    check_layer(layer_with_biases(dropout=0.5), x)  # the same mask in every seeded forward
    layer = layer_with_biases(dropout=0.5)
    plain = layer_with_biases()
    plain.load_state_dict(layer.state_dict())
    training = tinyml.to_numpy(layer.forward(tinyml.asarray(x)))
    assert not np.allclose(training, tinyml.to_numpy(plain.forward(tinyml.asarray(x))))
    layer.eval()
    assert_close(layer.forward(tinyml.asarray(x)), tinyml.to_numpy(plain.forward(
        tinyml.asarray(x))), backend=backend)


# ---------------------------------------------------------------------------- refusals
def test_heads_must_divide_the_embedding(backend):
    with pytest.raises(ValueError, match=r"MultiHeadAttention 'mha': embed_dim 6 is not "
                                         r"divisible by n_heads 4"):
        MultiHeadAttention("mha", 6, 4)


# a key without a value, a key and value that do not fit, a mask that does not broadcast or
# is not boolean: tests/layer_specs.py; a key, value or mask of another backend:
# test_layer_contract.py
