"""MultiHeadAttention: self- and cross-attention against a loop reference, central differences
and torch.nn.MultiheadAttention(batch_first=True) with the same weights; masks, causal, heads."""

import attention_reference
import numpy as np
import pytest

import tinyml
from tinyml.layers import MultiHeadAttention
from tinyml.testing import Inputs, assert_close, check_layer

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


MASKS = {  # keep masks for self-attention on (2, 3, 3) scores
    "none": None,
    "(T, S)": np.array([[True, False, True], [True, True, False], [False, True, True]]),
    "(N, 1, S) padding": np.array([[[True, True, False]], [[True, True, True]]]),
    "(N, T, S)": np.random.default_rng(1).random((2, 3, 3)) > 0.3,
    "(N, heads, T, S)": np.random.default_rng(2).random((2, HEADS, 3, 3)) > 0.3,
}


@pytest.mark.parametrize("mask", MASKS)
@pytest.mark.parametrize("causal", [False, True])
def test_self_attention_against_the_reference_and_central_differences(backend, mask, causal):
    x = sequences()[0]
    keep = MASKS[mask]
    call = Inputs(x) if keep is None else Inputs(x, mask=keep)
    result = check_layer(layer_with_biases(causal), call,
                         reference=lambda x, p: attention_reference.multi_head_attention(
                             x, x, x, p, HEADS, keep, causal=causal))
    assert result.gradients["input"].shape == x.shape  # one input: one gradient


@pytest.mark.parametrize("causal", [False, True])
def test_cross_attention_with_another_length(backend, causal):
    query, key, value = sequences(t=3, s=5)
    keep = np.random.default_rng(3).random((2, 1, 5)) > 0.3
    result = check_layer(layer_with_biases(causal), Inputs(query, key, value, mask=keep),
                         reference=lambda x, p: attention_reference.multi_head_attention(
                             *x, p, HEADS, keep, causal=causal))
    assert [g.shape for g in result.gradients["input"]] == [(2, 3, E), (2, 5, E), (2, 5, E)]


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


# ---------------------------------------------------------------------------- PyTorch
def torch_twin(layer, torch):
    """torch.nn.MultiheadAttention(batch_first=True) holding `layer`'s weights."""
    twin = torch.nn.MultiheadAttention(E, HEADS, batch_first=True, dtype=torch.float64)
    state = {key: torch.tensor(tinyml.to_numpy(value)) for key, value in
             layer.state_dict().items()}
    state["out_proj.weight"] = state.pop("out_proj_weight")
    state["out_proj.bias"] = state.pop("out_proj_bias")
    twin.load_state_dict(state)
    return twin


def torch_attn_mask(keep, causal, t, s, torch):
    """tinyml's keep mask as torch's attn_mask: True = NOT allowed, (T, S) or (N * heads, T, S)."""
    ignore = None
    if keep is not None:
        keep = np.asarray(keep)
        if keep.ndim == 4:
            ignore = ~keep.reshape(-1, t, s)
        else:
            full = np.broadcast_to(keep.reshape((1,) * (3 - keep.ndim) + keep.shape), (2, t, s))
            ignore = np.repeat(~full, HEADS, axis=0)
    if causal:
        future = np.triu(np.ones((t, s), dtype=bool), 1)
        ignore = future if ignore is None else ignore | future
    return None if ignore is None else torch.tensor(ignore)


@pytest.mark.parametrize("case", ["self", "self causal", "self per-head mask", "cross mask",
                                  "cross causal with a fully masked row"])
def test_matches_torch_multihead_attention(backend, case):
    torch = pytest.importorskip("torch")
    causal = "causal" in case
    query, key, value = sequences(t=4, s=4 if case.startswith("self") else 5, seed=5)
    s = key.shape[1]
    keep = None
    if case == "self per-head mask":
        keep = np.random.default_rng(6).random((2, HEADS, 4, 4)) > 0.3
    elif case.startswith("cross"):
        keep = np.random.default_rng(7).random((2, 4, s)) > 0.3
    if "fully masked" in case:
        keep[1, 2] = False
    layer = layer_with_biases(causal)
    inputs = [query] if case.startswith("self") else [query, key, value]
    options = {} if keep is None else {"mask": tinyml.asarray(keep)}
    output = layer.forward(*map(tinyml.asarray, inputs), **options)
    g = np.random.default_rng(8).standard_normal((2, 4, E))
    gradients = layer.backward(tinyml.asarray(g))
    gradients = gradients if isinstance(gradients, tuple) else (gradients,)

    twin = torch_twin(layer, torch)
    tensors = [torch.tensor(a, requires_grad=True) for a in inputs]
    q_t, k_t, v_t = tensors * 3 if len(tensors) == 1 else tensors
    expected, _ = twin(q_t, k_t, v_t, attn_mask=torch_attn_mask(keep, causal, 4, s, torch),
                       need_weights=False)
    expected.backward(torch.tensor(g))
    expected = expected.detach().numpy()
    if "fully masked" in case:
        np.testing.assert_allclose(tinyml.to_numpy(output)[1, 2],
                                   tinyml.to_numpy(layer.out_proj_bias.data))
        assert not np.isnan(expected[1, 2]).any()  # need_weights=True would give NaN
    assert_close(output, expected, backend=backend, err_msg="output")
    for index, (gradient, tensor) in enumerate(zip(gradients, tensors, strict=True)):
        assert_close(gradient, tensor.grad.numpy(), backend=backend, err_msg=f"input {index}")
    theirs = {"in_proj_weight": twin.in_proj_weight, "in_proj_bias": twin.in_proj_bias,
              "out_proj_weight": twin.out_proj.weight, "out_proj_bias": twin.out_proj.bias}
    for name, parameter in layer.named_parameters().items():
        assert_close(parameter.grad, theirs[name].grad.numpy(), backend=backend, err_msg=name)


# ---------------------------------------------------------------------------- refusals
def test_heads_must_divide_the_embedding(backend):
    with pytest.raises(ValueError, match=r"MultiHeadAttention 'mha': embed_dim 6 is not "
                                         r"divisible by n_heads 4"):
        MultiHeadAttention("mha", 6, 4)


def test_a_key_without_a_value_is_refused(backend):
    query, key, _ = sequences()
    with pytest.raises(TypeError, match=r"forward takes a key and a value together"):
        layer_with_biases().forward(tinyml.asarray(query), tinyml.asarray(key))


@pytest.mark.parametrize("shapes", [[(2, 3, 5)], [(2, 3)], [(2, 3, E), (2, 4, E), (2, 5, E)],
                                    [(2, 3, E), (3, 4, E), (3, 4, E)]])
def test_inputs_of_the_wrong_shape_are_refused(backend, shapes):
    arrays = [tinyml.asarray(np.ones(shape)) for shape in shapes]
    with pytest.raises(ValueError, match=r"MultiHeadAttention 'mha'"):
        layer_with_biases().forward(*arrays)


def test_a_mask_that_does_not_broadcast_is_refused(backend):
    x = tinyml.asarray(sequences()[0])
    with pytest.raises(ValueError, match=r"mask of shape \(2, 2, 3\) does not broadcast"):
        layer_with_biases().forward(x, mask=tinyml.asarray(np.ones((2, 2, 3), dtype=bool)))


def test_a_key_or_mask_of_another_backend_is_named(backend):
    if backend.name == "numpy":
        pytest.skip("needs a backend other than NumPy to mix with NumPy arrays")
    x, host = tinyml.asarray(sequences()[0]), np.ones((2, 3, E))
    with pytest.raises(TypeError, match=r"MultiHeadAttention 'mha': key lives on numpy"):
        layer_with_biases().forward(x, host, host)
    with pytest.raises(TypeError, match=r"mask lives on numpy"):
        layer_with_biases().forward(x, mask=np.ones((3, 3), dtype=bool))
