"""PositionalEncoding and TransformerEncoderBlock: the sinusoid table as the paper gives it,
the block's named sub-layers, causality, dropout and refusals, and the README example (the
encoding and the pre-norm block against loop references and torch.nn.TransformerEncoderLayer,
refused shapes and the rest of the contract: tests/layer_specs.py, test_layer_contract.py)."""

import math
import pathlib
import re

import numpy as np
import pytest

import tinyml
from tinyml.layers import PositionalEncoding, TransformerEncoderBlock
from tinyml.testing import assert_close, check_layer

# ---------------------------------------------------------------------------- PositionalEncoding


def test_the_table_starts_with_sin_0_cos_0_and_follows_the_paper(backend):
    table = tinyml.to_numpy(PositionalEncoding("pos", 10, 6).forward(
        tinyml.asarray(np.zeros((1, 10, 6)))))[0]
    np.testing.assert_allclose(table[0], [0, 1, 0, 1, 0, 1], atol=1e-15)
    t = 7  # features 2 and 3 (pair i = 1) turn at the frequency 10000^(-2/6)
    np.testing.assert_allclose(table[t, 2:4], [math.sin(t / 10000 ** (2 / 6)),
                                               math.cos(t / 10000 ** (2 / 6))], rtol=1e-12)


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


def test_the_block_refuses_what_its_pieces_refuse():
    # its input shapes: layer_specs.py; each argument alone: test_declared_arguments.py
    with pytest.raises(ValueError, match=r"MultiHeadAttention 'self_attn': embed_dim 6 is not "
                                         r"divisible by n_heads 4"):
        TransformerEncoderBlock("block", 6, 4, 8)


def test_the_readme_example_runs():
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Attention and Transformers", 1)[1].split("\n## ", 1)[0]
    namespace = {}
    exec(compile(re.findall(r"```python\n(.*?)```", section, flags=re.S)[0], "README.md",
                 "exec"), namespace)
    assert tuple(namespace["out"].shape) == (32, 10, 16)
    assert tuple(namespace["d_key"].shape) == (32, 7, 16)
