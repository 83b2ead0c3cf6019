"""DotProductAttention: a fully masked row, causality, masks in the weights, huge scores,
self-attention, dropout on the weights, and bad scales (every mask kind, causal, heads,
scales and cross lengths against a loop over queries and PyTorch's
scaled_dot_product_attention, refused inputs and masks and the rest of the contract:
tests/layer_specs.py, test_layer_contract.py)."""

import doctest

import attention_reference
import numpy as np
import pytest

import tinyml
from tinyml.layers import DotProductAttention
from tinyml.layers.attention import attention_weights, keep_mask
from tinyml.testing import Inputs, assert_close, check_layer

RNG = np.random.default_rng(0)


def qkv(lead=(2,), t=3, s=4, d=3, e=2, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((*lead, t, d)), rng.standard_normal((*lead, s, d)),
            rng.standard_normal((*lead, s, e)))


MASKS = {  # broadcastable keep masks for scores (2, [3,] 3, 4)
    "none": None,
    "per query and key": RNG.random((3, 4)) > 0.3,
    "padding": np.array([[[True, True, False, False]], [[True, True, True, False]]]),
    "full": RNG.random((2, 3, 4)) > 0.4,
}


def test_a_fully_masked_row_is_zero_output_and_zero_gradient_not_nan(backend):
    q, k, v = qkv()
    keep = np.ones((2, 3, 4), dtype=bool)
    keep[0, 1] = False  # the second query of the first sample may see no key
    layer = DotProductAttention("att")
    output = tinyml.to_numpy(layer.forward(*map(tinyml.asarray, (q, k, v)),
                                           mask=tinyml.asarray(keep)))
    assert np.all(np.isfinite(output)) and np.all(output[0, 1] == 0)
    g = np.zeros(output.shape)
    g[0, 1] = 1.0  # a loss that only that query's output feeds
    for gradient in layer.backward(tinyml.asarray(g)):
        assert np.all(tinyml.to_numpy(gradient) == 0)
    # and the whole layer still agrees with central differences around that row
    check_layer(DotProductAttention("att"), Inputs(q, k, v, mask=keep),
                reference=lambda x, p: attention_reference.dot_product_attention(*x, keep))


def test_causal_means_no_step_sees_the_future(backend):
    q, k, v = qkv(t=4, s=4)
    layer = DotProductAttention("att", causal=True)
    before = tinyml.to_numpy(layer.forward(*map(tinyml.asarray, (q, k, v))))
    k2, v2 = k.copy(), v.copy()
    k2[:, 2:] += 5.0
    v2[:, 2:] -= 3.0  # change steps 2 and 3 only
    after = tinyml.to_numpy(layer.forward(*map(tinyml.asarray, (q, k2, v2))))
    np.testing.assert_allclose(after[:, :2], before[:, :2], rtol=1e-12, atol=0)
    assert not np.allclose(after[:, 2:], before[:, 2:])
    lower = np.tril(np.ones((4, 4), dtype=bool))
    explicit = DotProductAttention("att").forward(*map(tinyml.asarray, (q, k, v)),
                                                  mask=tinyml.asarray(lower))
    assert_close(explicit, before, backend=backend, rtol=0, atol=0)


def test_causal_with_more_keys_than_queries_is_aligned_at_the_top_left(backend):
    """PyTorch's is_causal: query i sees keys 0..i, whatever S is."""
    keep = tinyml.to_numpy(keep_mask(None, True, 2, 4, device=tinyml.get_backend().device,
                                     xp=tinyml.get_backend().xp))
    np.testing.assert_array_equal(keep, [[True, False, False, False], [True, True, False, False]])


@pytest.mark.parametrize("mask", ["none", "per query and key", "full"])
def test_attention_weights_rows_sum_to_one_and_masked_weights_are_zero(backend, mask):
    xp = tinyml.get_backend().xp
    scores = np.random.default_rng(1).standard_normal((2, 3, 4)) * 10.0
    keep = MASKS[mask]
    weights = tinyml.to_numpy(attention_weights(tinyml.asarray(scores), None if keep is None
                                                else tinyml.asarray(keep), xp))
    full = np.broadcast_to(True if keep is None else keep, scores.shape)
    assert np.all(weights[~full] == 0)
    sums = weights.sum(axis=-1)
    np.testing.assert_allclose(sums[full.any(axis=-1)], 1.0, rtol=1e-12)
    assert np.all(sums[~full.any(axis=-1)] == 0)
    for index in np.ndindex(scores.shape[:-1]):
        np.testing.assert_allclose(weights[index], attention_reference.masked_softmax_row(
            scores[index], full[index]), rtol=1e-12, atol=1e-300)


def test_huge_scores_stay_finite(backend):
    q, k, v = qkv()
    output = DotProductAttention("att").forward(*map(tinyml.asarray, (q * 1e3, k * 1e3, v)))
    assert np.all(np.isfinite(tinyml.to_numpy(output)))


def test_one_input_is_self_attention_and_its_gradient_is_the_sum(backend):
    x = qkv()[0]
    check_layer(DotProductAttention("att", causal=True), x,
                reference=lambda x, p: attention_reference.dot_product_attention(
                    x, x, x, causal=True))
    net = tinyml.Net([DotProductAttention("att")])
    assert tuple(net.forward(tinyml.asarray(x)).shape) == x.shape


# ---------------------------------------------------------------------------- dropout
def test_dropout_drops_weights_at_its_rate_and_scales_the_rest(backend):
    """With v the identity, the output is the dropped weights P = A * m / (1 - p) itself."""
    t = s = 50
    q, k = (np.random.default_rng(2).standard_normal((4, t, 3)) for _ in range(2))
    v = np.broadcast_to(np.eye(s), (4, s, s)).copy()
    layer = DotProductAttention("att", dropout=0.3)
    inputs = list(map(tinyml.asarray, (q, k, v)))
    used = tinyml.to_numpy(layer.forward(*inputs))
    layer.eval()
    weights = tinyml.to_numpy(layer.forward(*inputs))
    assert abs(np.mean(used == 0) - 0.3) < 0.02  # 10 000 draws
    kept = used != 0
    np.testing.assert_allclose(used[kept], weights[kept] / 0.7, rtol=1e-12)
    np.testing.assert_allclose(weights, attention_reference.dot_product_attention(q, k, v),
                               rtol=1e-10, atol=1e-12)


def test_dropout_backward_agrees_with_central_differences(backend):
    """check_layer runs each forward in the same seeded streams, so the mask stays put."""
    q, k, v = qkv()
    result = check_layer(DotProductAttention("att", dropout=0.5), Inputs(q, k, v))
    assert not np.allclose(result.output, attention_reference.dot_product_attention(q, k, v))


# ---------------------------------------------------------------------------- refusals
# a mask that is not boolean or does not broadcast, inputs that do not fit, a key without a
# value: tests/layer_specs.py; bad scale, dropout and causal: tests/test_declared_arguments.py


# ---------------------------------------------------------------------------- docstrings
def test_the_docstring_examples_run():
    from tinyml.layers import attention, multi_head_attention, transformer

    for module in (attention, multi_head_attention, transformer):
        failures, tried = doctest.testmod(module)
        assert tried and not failures, module.__name__
