"""PositionalEncoding and TransformerEncoderBlock: the sinusoid table, the pre-norm block
against a loop reference, central differences and torch.nn.TransformerEncoderLayer."""

import math
import pathlib
import re

import attention_reference
import numpy as np
import pytest

import tinyml
from tinyml.layers import PositionalEncoding, TransformerEncoderBlock
from tinyml.testing import Inputs, assert_close, check_layer


# ---------------------------------------------------------------------------- PositionalEncoding
@pytest.mark.parametrize("dim", [4, 5])
def test_positional_encoding_adds_the_sinusoids(backend, dim):
    x = np.random.default_rng(0).standard_normal((2, 6, dim))
    check_layer(PositionalEncoding("pos", 8, dim), x,
                reference=lambda x, p: attention_reference.positional_encoding(x))


def test_the_table_starts_with_sin_0_cos_0_and_follows_the_paper(backend):
    table = tinyml.to_numpy(PositionalEncoding("pos", 10, 6).forward(
        tinyml.asarray(np.zeros((1, 10, 6)))))[0]
    np.testing.assert_allclose(table[0], [0, 1, 0, 1, 0, 1], atol=1e-15)
    t = 7  # features 2 and 3 (pair i = 1) turn at the frequency 10000^(-2/6)
    np.testing.assert_allclose(table[t, 2:4], [math.sin(t / 10000 ** (2 / 6)),
                                               math.cos(t / 10000 ** (2 / 6))], rtol=1e-12)


def test_positional_encoding_keeps_float32(backend32):
    y = PositionalEncoding("pos", 4, 3).forward(tinyml.asarray(np.zeros((2, 4, 3))))
    assert y.dtype == backend32.dtype


def test_a_sequence_longer_than_max_len_is_refused(backend):
    with pytest.raises(ValueError, match=r"PositionalEncoding 'pos' encodes positions up to "
                                         r"max_len=4; got a sequence of 5 steps. Build it "
                                         r"with max_len >= 5"):
        PositionalEncoding("pos", 4, 3).forward(tinyml.asarray(np.zeros((2, 5, 3))))


def test_positional_encoding_wants_n_t_dim(backend):
    with pytest.raises(ValueError, match=r"PositionalEncoding 'pos' expects input of shape "
                                         r"\(batch, T, 3\); got \(2, 3\)"):
        PositionalEncoding("pos", 4, 3).forward(tinyml.asarray(np.zeros((2, 3))))


# ---------------------------------------------------------------------------- the block
def block(causal=False, dropout=0.0, dim=4, heads=2, hidden=6):
    """A block whose norms and biases are not the identity and zero, so the reference and the
    gradients see every parameter."""
    layer = TransformerEncoderBlock("block", dim, heads, hidden, causal=causal, dropout=dropout)
    rng = np.random.default_rng(11)
    for key, parameter in layer.named_parameters().items():
        if "bias" in key or "norm" in key:
            parameter.data = tinyml.asarray(rng.uniform(0.5, 1.5, parameter.data.shape))
    return layer


@pytest.mark.parametrize("causal", [False, True])
def test_the_block_against_the_reference_and_central_differences(backend, causal):
    x = np.random.default_rng(1).standard_normal((2, 3, 4))
    check_layer(block(causal), x, mode="random",
                reference=lambda x, p: attention_reference.transformer_block(x, p, 2,
                                                                             causal=causal))


def test_the_block_passes_a_mask_to_its_attention(backend):
    x = np.random.default_rng(2).standard_normal((2, 3, 4))
    keep = np.array([[[True, True, False]], [[True, False, False]]])  # padding, (N, 1, S)
    check_layer(block(), Inputs(x, mask=keep), mode="random",
                reference=lambda x, p: attention_reference.transformer_block(x, p, 2,
                                                                             mask=keep))


def test_the_block_holds_named_sub_layers(backend):
    assert list(block().state_dict()) == [
        "norm1.weight", "norm1.bias", "self_attn.in_proj_weight", "self_attn.in_proj_bias",
        "self_attn.out_proj_weight", "self_attn.out_proj_bias", "norm2.weight", "norm2.bias",
        "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias"]
    net = tinyml.Net([block()])
    assert "block.self_attn.in_proj_weight" in net.state_dict()


def test_summary_lists_the_sub_layers_with_their_shapes():
    lines = []
    tinyml.Net([block()]).summary(input_shape=(5, 4), print_fn=lines.append)
    table = lines[0]
    assert "block.self_attn (MultiHeadAttention)  (None, 5, 4)" in table
    assert "block.linear1 (Linear)" in table and "(None, 6)" in table  # on the (N T, 4) rows
    assert "Total params: 154" in table  # 8 + 80 + 8 + 30 + 28


def test_a_causal_block_lets_no_step_see_the_future(backend):
    x = np.random.default_rng(3).standard_normal((2, 5, 4))
    layer = block(causal=True)
    before = tinyml.to_numpy(layer.forward(tinyml.asarray(x)))
    x[:, 3:] += 2.0
    after = tinyml.to_numpy(layer.forward(tinyml.asarray(x)))
    np.testing.assert_allclose(after[:, :3], before[:, :3], rtol=1e-12, atol=1e-12)
    assert not np.allclose(after[:, 3:], before[:, 3:])


def test_dropout_in_the_block_is_seeded_and_off_in_eval_mode(backend):
    x = np.random.default_rng(4).standard_normal((2, 3, 4))
    check_layer(block(dropout=0.3), x, mode="random")
    dropping, plain = block(dropout=0.3), block()
    plain.load_state_dict(dropping.state_dict())
    assert not np.allclose(tinyml.to_numpy(dropping.forward(tinyml.asarray(x))),
                           tinyml.to_numpy(plain.forward(tinyml.asarray(x))))
    assert_close(dropping.eval().forward(tinyml.asarray(x)),
                 tinyml.to_numpy(plain.forward(tinyml.asarray(x))), backend=backend)


@pytest.mark.parametrize("causal", [False, True])
def test_matches_torch_transformer_encoder_layer(backend, causal):
    """torch.nn.TransformerEncoderLayer(norm_first=True, batch_first=True, relu) with the same
    weights: forward, the input gradient and every parameter gradient."""
    torch = pytest.importorskip("torch")
    layer = block(causal, dim=6, heads=3, hidden=10)
    twin = torch.nn.TransformerEncoderLayer(6, 3, 10, dropout=0.0, batch_first=True,
                                            norm_first=True, dtype=torch.float64)
    state = {key: torch.tensor(tinyml.to_numpy(value))
             for key, value in layer.state_dict().items()}
    for name in ("weight", "bias"):
        state[f"self_attn.out_proj.{name}"] = state.pop(f"self_attn.out_proj_{name}")
    twin.load_state_dict(state)
    x = np.random.default_rng(5).standard_normal((3, 5, 6))
    g = np.random.default_rng(6).standard_normal((3, 5, 6))
    output = layer.forward(tinyml.asarray(x))
    dx = layer.backward(tinyml.asarray(g))
    xt = torch.tensor(x, requires_grad=True)
    future = torch.ones(5, 5, dtype=torch.bool).triu(1) if causal else None
    expected = twin(xt, src_mask=future, is_causal=causal)
    expected.backward(torch.tensor(g))
    assert_close(output, expected.detach().numpy(), backend=backend, err_msg="output")
    assert_close(dx, xt.grad.numpy(), backend=backend, err_msg="input gradient")
    theirs = dict(twin.named_parameters())
    for key, parameter in layer.named_parameters().items():
        torch_key = key.replace("out_proj_", "out_proj.")
        assert_close(parameter.grad, theirs[torch_key].grad.numpy(), backend=backend,
                     err_msg=key)


def test_the_block_refuses_what_its_pieces_refuse(backend):
    with pytest.raises(ValueError, match=r"MultiHeadAttention 'self_attn': embed_dim 6 is not "
                                         r"divisible by n_heads 4"):
        TransformerEncoderBlock("block", 6, 4, 8)
    with pytest.raises(ValueError, match=r"TransformerEncoderBlock 'block' expects input of "
                                         r"shape \(batch, T, 4\); got \(2, 4\)"):
        block().forward(tinyml.asarray(np.zeros((2, 4))))
    with pytest.raises(ValueError, match=r"TransformerEncoderBlock 'block': invalid dropout \(of "
                                         r"dropping\) 1.5; it must be .* in \[0, 1\)"):
        TransformerEncoderBlock("block", 4, 2, 8, dropout=1.5)


def test_the_readme_example_runs():
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Attention and Transformers", 1)[1].split("\n## ", 1)[0]
    namespace = {}
    exec(compile(re.findall(r"```python\n(.*?)```", section, flags=re.S)[0], "README.md",
                 "exec"), namespace)
    assert tuple(namespace["out"].shape) == (32, 10, 16)
    assert tuple(namespace["d_key"].shape) == (32, 7, 16)
