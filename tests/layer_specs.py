"""The specification of every layer tinyml.layers exports: one LAYERS entry per class.

An entry says how to build the layer (named "layer") and the shape of a sample input, and,
where they exist, a plain NumPy reference of its forward (tests/reference.py and friends), the
same function in PyTorch (`torch`: forward, input gradient and every parameter gradient are
compared with autograd's), input shapes its forward refuses with the message it must give
(`bad_shapes`), other inputs it refuses (`bad_inputs`: lists, masks, states, index values),
more input dtypes it takes (`dtypes`), more configurations (`configs`: each a Case checked
as the entry is), and random ones (`drawn`: a hypothesis strategy of Cases,
tests/layer_strategies.py).
tests/test_layer_contract.py holds every layer to the Layer contract on these entries. Case is
in tests/layer_case.py; the builders of families of configurations (convolutions, pools,
normalization, recurrent layers, attention...) in tests/layer_families.py and
tests/sequence_families.py.

A layer that takes a list of inputs (the merges) gives a list of shapes; a layer of several
inputs (a recurrent cell's x and state, attention's q, k, v) gives an Inputs of shapes (a tuple
of shapes for a tuple state), and a layer of integer inputs (an embedding) its own `sample`.
"""

import math

import attention_reference
import numpy as np
import pointwise_reference as R
import recurrent_reference
import reference
from layer_case import Case, alike, functional, random_parameters
from layer_families import (
    MAX_POOLS,
    MERGES,
    POOLS,
    UNPOOLS,
    conv1d,
    conv2d,
    deconv2d,
    dense,
    fully_connected,
    linear,
    linear_ref,
    max_unpool2d,
    merge_refusals,
    nested_residual,
    normalization,
    normalizations,
    parallel_with_identity,
    pointwise,
    pool2d,
    rbm,
    shared_branches,
    sparse_evolution,
)
from layer_strategies import conv1ds, conv2ds, deconv2ds, pools
from sequence_families import (
    attention_refusals,
    attention_twin,
    attentions,
    bidirectional,
    bidirectional_from_given_states,
    bidirectional_twin,
    cell_from_zeros,
    embedding,
    multi_head_refusals,
    multi_head_twin,
    multi_heads,
    recurrent,
    transformer_block,
    transformer_twin,
)

import tinyml
from tinyml import layers
from tinyml.layers import (
    RBM,
    Add,
    AvgPool2D,
    BatchNorm1D,
    BatchNorm2D,
    Concatenate,
    Conv1D,
    Conv2D,
    Deconv2D,
    Dropout,
    Flatten,
    FullyConnected,
    GlobalAvgPool2D,
    LayerNorm1D,
    LayerNorm2D,
    Linear,
    LogSoftmax,
    MaxPool2D,
    MaxUnpool2D,
    Multiply,
    Parallel,
    Pool2D,
    ReLu,
    Residual,
    Sigmoid,
    Softmax,
    SparseEvolution,
)
from tinyml.testing import Inputs

LAYERS = {
    "Linear": Case(lambda: Linear("layer", 4, 3), (2, 4), linear_ref, setup=random_parameters,
                   torch=functional("linear", "weight", "bias"), bad_shapes={
                       (2, 3): r"Linear 'layer' expects input of shape \(batch, 4\); got "
                               r"\(2, 3\)\.$",
                       (2, 2, 2): r"got \(2, 2, 2\)\. Add a Flatten before it\.",
                       (4,): r"expects input of shape \(batch, 4\); got \(4,\)\.$"},
                   configs={"batch1-7-to-2": linear(7, 2, (1, 7)), "1-to-1": linear(1, 1, (3, 1)),
                            **{f"leading-axes-{shape}": linear(4, 3, shape)
                               for shape in [(2, 3, 4), (1, 1, 4), (2, 2, 3, 4)]}}),
    "Conv2D": Case(lambda: Conv2D("layer", (1, 4, 4), 2, 3, 2, 2, 1), (2, 1, 4, 4),
                   lambda x, p: reference.conv2d(x, p["weight"], p["bias"], 2, 1),
                   torch=functional("conv2d", "weight", "bias", stride=2, padding=1),
                   bad_shapes={
                       (2, 1, 4): r"Conv2D 'layer' expects input of shape \(batch, 1, 4, 4\); "
                                  r"got \(2, 1, 4\)\.$",
                       (2, 16): r"got \(2, 16\)\. Reshape flat samples to \(batch, C, H, W\) "
                                r"first\.",
                       (2, 2, 4, 4): r"\(batch, 1, 4, 4\); got \(2, 2, 4, 4\)",
                       (2, 1, 4, 5): r"\(batch, 1, 4, 4\); got \(2, 1, 4, 5\)",
                       (2, 1, 5, 4): r"\(batch, 1, 4, 4\); got \(2, 1, 5, 4\)"},
                   configs={  # (N, C, H, W, F, kh, kw, stride, padding, dilation)
                       "3x3": conv2d((2, 3, 5, 5, 4, 3, 3, 1, 0, 1)),
                       "batch1-nonsquare-stride2-pad1": conv2d((1, 2, 6, 7, 3, 3, 2, 2, 1, 1)),
                       "stride3-remainder-pad2": conv2d((2, 1, 7, 5, 2, 2, 3, 3, 2, 1)),
                       "1x1": conv2d((1, 2, 4, 3, 2, 1, 1, 1, 0, 1)),
                       "kernel-larger-than-input-padded": conv2d((1, 1, 3, 3, 2, 5, 4, 1, 1, 1)),
                       "3x3-pad1": conv2d((2, 2, 4, 4, 2, 3, 3, 1, 1, 1), ("full",)),
                       "nonsquare-stride2-remainder": conv2d((1, 2, 5, 4, 2, 2, 3, 2, 0, 1),
                                                             ("full",)),
                       "dilation2-pad2": conv2d((2, 2, 7, 6, 3, 3, 3, 1, 2, 2)),
                       "dilation3-nonsquare-stride2": conv2d((1, 2, 9, 8, 2, 2, 3, 2, 1, 3)),
                       "same-3x3": conv2d((2, 2, 5, 5, 3, 3, 3, 1, "same", 1)),
                       "same-even-nonsquare": conv2d((1, 2, 5, 6, 2, 2, 4, 1, "same", 1),
                                                     ("full",)),
                       "same-dilated": conv2d((1, 1, 7, 6, 2, 3, 2, 1, "same", 2)),
                       "same-stride2": conv2d((2, 2, 7, 6, 2, 3, 3, 2, "same", 1), ("full",)),
                       "same-stride3-dilated": conv2d((1, 2, 8, 7, 2, 2, 3, 3, "same", 2))},
                   drawn=conv2ds()),
    "Deconv2D": Case(lambda: Deconv2D("layer", (1, 4, 4), 2, 2, 2, 2, dilation=2, padding=1),
                     (2, 1, 4, 4), lambda x, p: reference.conv_transpose2d(
                         x, p["weight"], p["bias"], stride=2, padding=1, dilation=2),
                     torch=functional("conv_transpose2d", "weight", "bias", stride=2, padding=1,
                                      dilation=2),
                     bad_shapes={
                         (2, 1, 4): r"Deconv2D 'layer' expects input of shape "
                                    r"\(batch, 1, 4, 4\); got \(2, 1, 4\)\.$",
                         (2, 16): r"got \(2, 16\)\. Reshape flat samples to \(batch, C, H, W\) "
                                  r"first\.",
                         (2, 3, 4, 4): r"\(batch, 1, 4, 4\); got \(2, 3, 4, 4\)",
                         (2, 1, 4, 5): r"\(batch, 1, 4, 4\); got \(2, 1, 4, 5\)"},
                     configs={  # (N, C, H, W, F, kh, kw, stride, dilation, padding)
                         "3x3": deconv2d((2, 2, 3, 3, 3, 3, 3, 1, 1, 0)),
                         "batch1-nonsquare-stride2": deconv2d((1, 3, 3, 4, 2, 2, 3, 2, 1, 0)),
                         "dilation2-pad1": deconv2d((2, 1, 4, 3, 2, 3, 2, 2, 2, 1)),
                         "stride-beyond-kernel-leaves-gaps": deconv2d(
                             (1, 2, 2, 2, 1, 2, 2, 3, 1, 0)),
                         "dilation3-pad2": deconv2d((1, 1, 3, 3, 2, 2, 2, 1, 3, 2)),
                         "stride2-pad1": deconv2d((2, 2, 2, 3, 2, 3, 2, 2, 1, 1), ("full",)),
                         "dilation2": deconv2d((1, 2, 3, 2, 1, 2, 2, 1, 2, 0), ("full",))},
                     drawn=deconv2ds()),
    "MaxPool2D": Case(lambda: MaxPool2D("layer", (1, 4, 4), 2, 2), (2, 1, 4, 4),
                      lambda x, p: reference.max_pool2d(x, 2, 2, 2)[0],
                      torch=functional("max_pool2d", kernel_size=2, stride=2), bad_shapes={
                          (2, 4, 4): r"MaxPool2D 'layer' expects input of shape "
                                     r"\(batch, 1, 4, 4\); got \(2, 4, 4\)\.$",
                          (2, 16): r"\(batch, 1, 4, 4\); got \(2, 16\)",
                          (2, 3, 4, 4): r"\(batch, 1, 4, 4\); got \(2, 3, 4, 4\)",
                          (2, 1, 4, 5): r"\(batch, 1, 4, 4\); got \(2, 1, 4, 5\)"},
                      configs={name: pool2d(MaxPool2D, config)
                               for name, config in MAX_POOLS.items()}, drawn=pools(MaxPool2D)),
    "Dropout": Case(lambda: Dropout("layer", 0.5), (2, 4)),
    "Flatten": Case(lambda: Flatten("layer"), (2, 1, 4, 4), lambda x, p: reference.flatten(x),
                    torch=lambda torch, p, x: torch.flatten(x, 1), bad_shapes={
                        shape: r"Flatten 'layer' expects input of shape \(batch, \.\.\.\) with "
                               r"at least 2 dimensions; got \(" for shape in [(5,), ()]},
                    configs={f"{shape}": Case(lambda: Flatten("layer"), shape,
                                              lambda x, p: reference.flatten(x))
                             for shape in [(2, 3, 4, 5), (1, 2, 3, 3), (3, 4, 2), (2, 5)]}),
    "ReLu": Case(lambda: ReLu("layer"), (2, 4), lambda x, p: reference.relu(x),
                 torch=functional("relu"),
                 configs={f"{shape}": Case(lambda: ReLu("layer"), shape,
                                           lambda x, p: reference.relu(x), torch=functional("relu"))
                          for shape in [(1, 2, 3, 3), (2, 3, 2)]}),
    "Softmax": Case(lambda: Softmax("layer"), (2, 4), lambda x, p: reference.softmax(x),
                    torch=functional("softmax", dim=1), bad_shapes={
                        (2,): r"Softmax 'layer': axis 1 is out of range for an input of shape "
                              r"\(2,\)"}, configs={
                        f"{shape}-axis{axis}": Case(
                            lambda axis=axis: Softmax("layer", axis=axis), shape,
                            lambda x, p, axis=axis: reference.softmax(x, axis),
                            torch=functional("softmax", dim=axis))
                        for shape, axis in [((3, 5), 1), ((1, 4), -1), ((2, 3, 4), 0),
                                            ((2, 3, 4), 1), ((2, 3, 4), -1), ((2, 3, 2), 0),
                                            ((2, 2, 3), -1)]}),
    "LogSoftmax": Case(lambda: LogSoftmax("layer"), (2, 4),
                       lambda x, p: np.log(reference.softmax(x)),
                       torch=functional("log_softmax", dim=1), bad_shapes={
                           (2,): r"LogSoftmax 'layer': axis 1 is out of range for an input of "
                                 r"shape \(2,\)"}, configs={
                           f"{shape}-axis{axis}": Case(
                               lambda axis=axis: LogSoftmax("layer", axis=axis), shape,
                               lambda x, p, axis=axis: np.log(reference.softmax(x, axis)),
                               torch=functional("log_softmax", dim=axis))
                           for shape, axis in [((3, 5), 1), ((1, 4), -1), ((2, 3, 4), 0),
                                               ((2, 3, 4), 1), ((2, 2, 3), -1)]}),
    "Sigmoid": Case(lambda: Sigmoid("layer"), (2, 4), lambda x, p: 1.0 / (1.0 + np.exp(-x)),
                    torch=lambda torch, p, x: torch.sigmoid(x),
                    configs={"images": Case(lambda: Sigmoid("layer"), (2, 3, 2, 2),
                                            lambda x, p: 1.0 / (1.0 + np.exp(-x)))}),
    "Tanh": pointwise(lambda: layers.Tanh("layer"), R.tanh, lambda torch, p, x: torch.tanh(x)),
    "LeakyReLU": pointwise(lambda: layers.LeakyReLU("layer", alpha=0.1), R.leaky_relu(0.1),
                           functional("leaky_relu", 0.1), configs={
                               "default-alpha": pointwise(lambda: layers.LeakyReLU("layer"),
                                                          R.leaky_relu(0.3),
                                                          functional("leaky_relu", 0.3))}),
    "ELU": pointwise(lambda: layers.ELU("layer", alpha=0.7), R.elu(0.7),
                     functional("elu", alpha=0.7), configs={
                         "default-alpha": pointwise(lambda: layers.ELU("layer"), R.elu(1.0),
                                                    functional("elu"))}),
    "SELU": pointwise(lambda: layers.SELU("layer"), R.elu(R.SELU_ALPHA, R.SELU_SCALE),
                      functional("selu")),
    "GELU": pointwise(lambda: layers.GELU("layer"), R.gelu, functional("gelu"), configs={
        "tanh": pointwise(lambda: layers.GELU("layer", approximate=True), R.gelu_tanh,
                          functional("gelu", approximate="tanh"))}),
    "SoftPlus": pointwise(lambda: layers.SoftPlus("layer"), R.softplus, functional("softplus")),
    # PyTorch's hardsigmoid is clip(x/6 + 1/2, 0, 1): numpy-ml's is that of 1.2 x.
    "HardSigmoid": pointwise(lambda: layers.HardSigmoid("layer"), R.hard_sigmoid,
                             lambda torch, p, x: torch.nn.functional.hardsigmoid(1.2 * x)),
    "Exponential": pointwise(lambda: layers.Exponential("layer"), math.exp,
                             lambda torch, p, x: torch.exp(x)),
    "Identity": pointwise(lambda: layers.Identity("layer"), R.affine(1.0, 0.0),
                          lambda torch, p, x: x),
    "Affine": pointwise(lambda: layers.Affine("layer", slope=-2.0, intercept=0.5),
                        R.affine(-2.0, 0.5), lambda torch, p, x: -2.0 * x + 0.5, configs={
                            "default": pointwise(lambda: layers.Affine("layer"),
                                                 R.affine(1.0, 0.0), lambda torch, p, x: x)}),
    "FullyConnected": Case(alike(lambda: FullyConnected("layer", 4, 3, act_fn="sigmoid")), (2, 4),
                           lambda x, p: 1.0 / (1.0 + np.exp(-reference.linear(
                               x, p["weight"], p["bias"]))),
                           torch=lambda torch, p, x: torch.sigmoid(torch.nn.functional.linear(
                               x, p["weight"], p["bias"])), bad_shapes={
                                   (2, 5): r"FullyConnected 'layer' expects input of shape "
                                           r"\(batch, 4\); got \(2, 5\)",
                                   (2, 1, 4): r"\(batch, 4\); got \(2, 1, 4\)\. Add a Flatten"},
                           configs={f"{act_fn}-batch{batch}": fully_connected(act_fn, batch)
                                    for act_fn in (None, "relu", "sigmoid") for batch in (3, 1)}),
    "RBM": Case(alike(lambda: RBM("layer", 4, 3)), (2, 4), lambda x, p: 1.0 / (1.0 + np.exp(
        -reference.linear(x, p["weight"], p["bias_hidden"]))),
        torch=lambda torch, p, x: torch.sigmoid(torch.nn.functional.linear(
            x, p["weight"], p["bias_hidden"])), bad_shapes={
            (2, 5): r"RBM 'layer' expects input of shape \(batch, 4\); got \(2, 5\)",
            (2, 1, 4): r"got \(2, 1, 4\)\. Add a Flatten before it"}, configs={
            "binary": rbm(lambda rng, shape: (rng.random(shape) > 0.5).astype(np.float64)),
            "probabilities": rbm(lambda rng, shape: rng.random(shape))}),
    "SparseEvolution": Case(alike(lambda: SparseEvolution("layer", 4, 3, epsilon=0.5)), (2, 4),
                            lambda x, p: reference.linear(x, p["weight"] * p["mask"], p["bias"]),
                            bad_shapes={(2, 3): r"SparseEvolution 'layer' expects input of shape "
                                                r"\(batch, 4\); got \(2, 3\)"},
                            configs={f"dense-weights-{act_fn}": sparse_evolution(act_fn)
                                     for act_fn in (None, "relu", "sigmoid")}),
    "BatchNorm1D": normalization(BatchNorm1D, 4, (3, 4))._replace(
        bad_shapes={(2, 3): r"BatchNorm1D 'layer' expects input of shape \(batch, 4\); got "
                            r"\(2, 3\)\.$",
                    (2, 4, 3, 3): r"got \(2, 4, 3, 3\)\. Images take BatchNorm2D\."},
        configs=normalizations(BatchNorm1D, [(4, 3), (2, 5)])),
    "BatchNorm2D": normalization(BatchNorm2D, 2, (2, 2, 3, 3))._replace(
        bad_shapes={(2, 3, 5, 5): r"BatchNorm2D 'layer' expects input of shape "
                                  r"\(batch, 2, H, W\); got \(2, 3, 5, 5\)\.$",
                    (2, 2): r"\(batch, 2, H, W\); got \(2, 2\)\. Feature vectors take "
                            r"BatchNorm1D\."},
        configs=normalizations(BatchNorm2D, [(3, 2, 3, 3), (2, 3, 1, 1), (2, 1, 4, 2),
                                             (3, 4, 3, 2)])),
    "LayerNorm1D": normalization(LayerNorm1D, 4, (2, 3, 4))._replace(
        bad_shapes={(2, 5): r"LayerNorm1D 'layer' expects input of shape \(batch, 4\) or "
                            r"\(batch, T, 4\); got \(2, 5\)",
                    (2, 1, 3, 4): r"got \(2, 1, 3, 4\)\. Images take LayerNorm2D\.",
                    (4,): r"got \(4,\)\.$"},
        configs=normalizations(LayerNorm1D, [(3, 5), (2, 4, 5), (1, 5), (1, 1, 5), (4, 6)],
                               dims=lambda shape: shape[-1])),
    "LayerNorm2D": normalization(LayerNorm2D, (2, 3, 3), (2, 2, 3, 3))._replace(
        bad_shapes={(2, 2, 3, 4): r"LayerNorm2D 'layer' expects input of shape "
                                  r"\(batch, 2, 3, 3\); got \(2, 2, 3, 4\)\.$"},
        configs=normalizations(LayerNorm2D, [(2, 3, 2, 2), (1, 2, 3, 4), (3, 1, 2, 2),
                                             (2, 3, 4, 5)], dims=lambda shape: shape[1:])),
    "Conv1D": Case(lambda: Conv1D("layer", (2, 6), 3, 4, padding="same"), (2, 2, 6),
                   lambda x, p: reference.conv1d(x, p["weight"], p["bias"], pads=(1, 2)),
                   torch=lambda torch, p, x: torch.nn.functional.conv1d(
                       torch.nn.functional.pad(x, (1, 2)), p["weight"], p["bias"]),
                   bad_shapes={
                       (2, 12): r"Conv1D 'layer' expects input of shape \(batch, 2, 6\); got "
                                r"\(2, 12\)\. Reshape it to \(batch, channels, length\) first\.$",
                       (2, 2, 6, 1): r"\(batch, 2, 6\); got \(2, 2, 6, 1\)\.$",
                       (2, 3, 6): r"\(batch, 2, 6\); got \(2, 3, 6\)",
                       (2, 2, 5): r"\(batch, 2, 6\); got \(2, 2, 5\)"},
                   configs={  # (N, C, L, F, K, stride, padding, dilation)
                       "valid": conv1d((2, 3, 9, 4, 3, 1, 0, 1)),
                       "int-pad-stride2-remainder": conv1d((1, 2, 8, 3, 3, 2, 1, 1)),
                       "pair": conv1d((2, 2, 7, 2, 3, 1, (2, 0), 1), ("full",)),
                       "pair-asymmetric-stride3": conv1d((1, 1, 8, 2, 2, 3, (0, 3), 2)),
                       "same-odd-kernel": conv1d((2, 2, 7, 3, 3, 1, "same", 1)),
                       "same-even-kernel": conv1d((1, 2, 6, 2, 4, 1, "same", 1), ("full",)),
                       "same-dilated": conv1d((2, 1, 9, 2, 3, 1, "same", 3)),
                       "same-stride2": conv1d((2, 2, 9, 3, 3, 2, "same", 1), ("full",)),
                       "same-stride3-dilated": conv1d((1, 2, 10, 2, 2, 3, "same", 2)),
                       "causal": conv1d((2, 2, 6, 3, 3, 1, "causal", 1)),
                       "causal-dilated": conv1d((1, 3, 8, 2, 3, 1, "causal", 2), ("full",)),
                       "causal-stride2": conv1d((2, 1, 7, 2, 2, 2, "causal", 1)),
                       "kernel-1": conv1d((1, 3, 4, 2, 1, 1, 0, 1))}, drawn=conv1ds()),
    "AvgPool2D": Case(lambda: AvgPool2D("layer", (1, 4, 4), 2, 2), (2, 1, 4, 4),
                      lambda x, p: reference.avg_pool2d(x, 2, 2, 2),
                      torch=functional("avg_pool2d", kernel_size=2, stride=2), bad_shapes={
                          (2, 1, 4, 5): r"AvgPool2D 'layer' expects input of shape "
                                        r"\(batch, 1, 4, 4\); got \(2, 1, 4, 5\)"},
                      configs={name: pool2d(AvgPool2D, config) for name, config in POOLS.items()},
                      drawn=pools(AvgPool2D)),
    "Pool2D": Case(lambda: Pool2D("layer", (1, 5, 4), (3, 2), 1, mode="average"), (2, 1, 5, 4),
                   lambda x, p: reference.avg_pool2d(x, 3, 2, 1),
                   torch=functional("avg_pool2d", kernel_size=(3, 2), stride=1), bad_shapes={
                       (2, 1, 4, 5): r"Pool2D 'layer' expects input of shape \(batch, 1, 5, 4\); "
                                     r"got \(2, 1, 4, 5\)"},
                   configs={f"{mode}-{name}": pool2d(Pool2D, config, mode=mode)
                            for name, config in POOLS.items() for mode in ("max", "average")},
                   drawn=pools(Pool2D)),
    "GlobalAvgPool2D": Case(lambda: GlobalAvgPool2D("layer"), (2, 3, 2, 3),
                            lambda x, p: reference.global_avg_pool2d(x),
                            torch=lambda torch, p, x: x.mean(dim=(2, 3)), bad_shapes={
                                shape: r"GlobalAvgPool2D 'layer' expects input of shape "
                                       r"\(batch, C, H, W\); got .*It pools images; reshape "
                                       r"the input to NCHW first\."
                                for shape in [(2, 3), (2, 3, 4), (2, 3, 4, 4, 1)]},
                            configs={f"{shape}": Case(lambda: GlobalAvgPool2D("layer"), shape,
                                                      lambda x, p: reference.global_avg_pool2d(x))
                                     for shape in [(2, 3, 4, 5), (1, 1, 1, 1), (3, 2, 1, 6)]}),
    # its pool must have pooled a batch of x's size first: the setup runs it on pooled(batch)
    "MaxUnpool2D": Case(lambda: MaxUnpool2D("layer", MaxPool2D("pool", (1, 4, 4), 2, 2)),
                        (2, 1, 2, 2),
                        lambda x, p: reference.max_unpool2d(x, pooled(len(x)), 2, 2, 2),
                        setup=lambda layer, x: layer.pool.forward(tinyml.asarray(pooled(len(x)))),
                        torch=lambda torch, p, z: torch.nn.functional.max_unpool2d(
                            z, torch.nn.functional.max_pool2d(torch.tensor(pooled(len(z))), 2, 2,
                                                              return_indices=True)[1], 2, 2,
                            output_size=(4, 4)),
                        bad_shapes={shape: r"MaxUnpool2D 'layer' expects input of shape "
                                           r"\(batch, 1, 2, 2\); got .*It takes what MaxPool2D "
                                           r"'pool' puts out\."
                                    for shape in [(2, 1, 4, 4), (2, 2, 2, 2), (2, 4),
                                                  (2, 1, 2, 3)]},
                        configs={name: max_unpool2d(config) for name, config in UNPOOLS.items()}
                        | {"after-a-pool2d-in-max-mode": max_unpool2d((2, 1, 4, 4, 2, 2), Pool2D)}),
    "Add": Case(lambda: Add("layer", act_fn="relu"), [(2, 4), (2, 4), (2, 4)],
                lambda x, p: reference.relu(x[0] + x[1] + x[2]),
                torch=lambda torch, p, x: torch.relu(x[0] + x[1] + x[2]),
                bad_inputs=merge_refusals("Add"), configs={
                    "two": Case(lambda: Add("layer"), [(3, 4), (3, 4)], lambda x, p: x[0] + x[1],
                                torch=lambda torch, p, x: x[0] + x[1]),
                    "two-sigmoid": Case(lambda: Add("layer", act_fn="sigmoid"), [(3, 4), (3, 4)],
                                        lambda x, p: 1.0 / (1.0 + np.exp(-x[0] - x[1])),
                                        torch=lambda torch, p, x: torch.sigmoid(x[0] + x[1]))}),
    "Multiply": Case(lambda: Multiply("layer"), [(2, 4), (2, 4), (2, 4)],
                     lambda x, p: x[0] * x[1] * x[2],
                     torch=lambda torch, p, x: x[0] * x[1] * x[2],
                     bad_inputs=merge_refusals("Multiply"), configs={
                         "sigmoid": Case(lambda: Multiply("layer", act_fn="sigmoid"),
                                         [(2, 3, 4), (2, 3, 4)],
                                         lambda x, p: 1.0 / (1.0 + np.exp(-x[0] * x[1])),
                                         torch=lambda torch, p, x: torch.sigmoid(x[0] * x[1]),
                                         modes=("random",))}),
    "Concatenate": Case(lambda: Concatenate("layer"), [(2, 3, 2), (2, 1, 2)],
                        lambda x, p: np.concatenate(x, axis=1),
                        torch=lambda torch, p, x: torch.cat(x, dim=1),
                        bad_inputs=merge_refusals("Concatenate"), configs={
                            **{f"axis{axis}": Case(
                                lambda axis=axis: Concatenate("layer", axis=axis),
                                [tuple(extent if index == axis % 3 else size
                                       for index, size in enumerate((2, 3, 4)))
                                 for extent in (1, 3, 2)],
                                lambda x, p, axis=axis: np.concatenate(x, axis=axis),
                                torch=lambda torch, p, x, axis=axis: torch.cat(x, dim=axis))
                               for axis in (1, 2, -1)},
                            "images": Case(lambda: Concatenate("layer"),
                                           [(2, 1, 3, 3), (2, 2, 3, 3)],
                                           lambda x, p: np.concatenate(x, axis=1),
                                           torch=lambda torch, p, x: torch.cat(x, dim=1))}),
    "Residual": Case(lambda: Residual("layer", [Linear("fc", 4, 4), ReLu("relu")]), (2, 4),
                     lambda x, p: x + reference.relu(
                         reference.linear(x, p["fc.weight"], p["fc.bias"])),
                     torch=lambda torch, p, x: x + torch.relu(torch.nn.functional.linear(
                         x, p["fc.weight"], p["fc.bias"])),
                     bad_shapes={(2, 5): r"Linear 'fc' expects input of shape \(batch, 4\); got "
                                         r"\(2, 5\)"}, configs={
                         "two-layer-stack": Case(
                             lambda: Residual("layer", [Linear("fc1", 4, 5), ReLu("relu"),
                                                        Linear("fc2", 5, 4)]), (3, 4),
                             lambda x, p: x + dense(reference.relu(dense(x, p, "fc1")), p, "fc2"),
                             setup=random_parameters, torch=lambda torch, p, x: x + dense(
                                 torch.relu(dense(x, p, "fc1", torch)), p, "fc2", torch)),
                         "convolutions": Case(
                             lambda: Residual("layer", [Conv2D("conv", (2, 4, 4), 2, 3, 3, 1, 1),
                                                        ReLu("relu")]), (2, 2, 4, 4),
                             lambda x, p: x + reference.relu(reference.conv2d(
                                 x, p["conv.weight"], p["conv.bias"], 1, 1)),
                             setup=random_parameters, modes=("random",),
                             torch=lambda torch, p, x: x + torch.relu(torch.nn.functional.conv2d(
                                 x, p["conv.weight"], p["conv.bias"], padding=1))),
                         "residual-of-a-residual-holding-a-net": nested_residual()}),
    "Parallel": Case(lambda: Parallel("layer", [[Linear("fc", 4, 3)], [ReLu("relu")], []],
                                      "concat"), (2, 4),
                     lambda x, p: np.concatenate(
                         [reference.linear(x, p["fc.weight"], p["fc.bias"]),
                          reference.relu(x), x], axis=1),
                     bad_shapes={(2, 5): r"Linear 'fc' expects input of shape \(batch, 4\); got "
                                         r"\(2, 5\)"},
                     configs={**{f"identity-branch-{merge}": parallel_with_identity(merge)
                                 for merge in MERGES},
                              "a-layer-shared-by-two-branches": shared_branches()}),
    # 8 ids from a vocabulary of 5: repeated indices, whose gradients must accumulate
    "Embedding": Case(lambda: layers.Embedding("layer", 5, 3), (2, 4),
                      lambda x, p: p["weight"][x], takes_indices=True,
                      torch=lambda torch, p, x: torch.nn.functional.embedding(x, p["weight"]),
                      bad_shapes={shape: r"Embedding 'layer' expects input of shape \(batch, "
                                         r"time\) of integer indices, time >= 1; got"
                                  for shape in [(15,), (3, 5, 1), (3, 0)]},
                      configs={f"pool-{pool}": embedding(pool) for pool in (None, "sum", "mean")},
                      dtypes=("uint8", "int16", "int32"), bad_inputs={
                          "floats": (np.ones((2, 4)), TypeError, r"Embedding 'layer' expects "
                                     r"integer indices; got float64 input\. Pass token ids as "
                                     r"integers"),
                          "bools": (np.ones((2, 4), dtype=bool), TypeError, r"expects integer "
                                    r"indices; got bool input"),
                          **{f"index-{bad}": (np.array([[1, bad, 0, 2], [7, 1, 1, 1]]), ValueError,
                                              rf"Embedding 'layer': index {bad} at input\[0, 1\] "
                                              r"is outside \[0, 5\) \(vocab_size=5; 2 of 8 "
                                              r"indices are outside\)\. Map tokens to ids in")
                             for bad in (5, -1)}},
                      sample=lambda batch: np.random.default_rng(0).integers(0, 5, (batch or 2,
                                                                                    4))),
    "Permute": Case(lambda: layers.Permute("layer", (2, 1)), (2, 3, 4),
                    lambda x, p: np.transpose(x, (0, 2, 1)),
                    torch=lambda torch, p, x: x.permute(0, 2, 1), bad_shapes={
                        (2, 3, 4, 5): r"Permute 'layer' expects input of shape \(batch, \.\.\.\) "
                                      r"with 2 axes per sample"},
                    configs={f"{axes}": Case(lambda axes=axes: layers.Permute("layer", axes),
                                             (2, 3, 4, 5), lambda x, p, axes=axes: np.transpose(
                                                 x, (0, *axes)),
                                             torch=lambda torch, p, x, axes=axes: x.permute(
                                                 0, *axes))
                             for axes in [(1, 2, 3), (3, 1, 2), (2, 3, 1), (3, 2, 1)]}),
    "Reshape": Case(lambda: layers.Reshape("layer", (-1, 2)), (2, 3, 4),
                    lambda x, p: x.reshape(len(x), 6, 2),
                    torch=lambda torch, p, x: x.reshape(len(x), 6, 2), bad_shapes={
                        (2, 7): r"Reshape 'layer' reshapes each sample to \(-1, 2\), which needs "
                                r"a multiple of 2 values"},
                    configs={f"{shape}": Case(lambda shape=shape: layers.Reshape("layer", shape),
                                              (2, 3, 4, 5), lambda x, p, out=out: x.reshape(out),
                                              torch=lambda torch, p, x, out=out: x.reshape(out))
                             for shape, out in [((60,), (2, 60)), ((-1, 5), (2, 12, 5)),
                                                ((5, 4, 3), (2, 5, 4, 3)),
                                                ((2, -1, 3), (2, 2, 10, 3))]}),
    "RNN": recurrent("RNN", return_sequences=True, configs={
        f"{options.get('nonlinearity', 'tanh')}-{'sequences' if sequences else 'last'}"
        f"{'-given-state' if given else ''}": recurrent("RNN", return_sequences=sequences,
                                                        given_state=given, **options)
        for options in ({}, {"nonlinearity": "relu"}) for sequences in (True, False)
        for given in (False, True)}),
    "LSTM": recurrent("LSTM", return_sequences=False, configs={
        "sequences": recurrent("LSTM", return_sequences=True),
        **{f"given-state-{'sequences' if sequences else 'last'}": recurrent(
            "LSTM", return_sequences=sequences, given_state=True) for sequences in (True, False)}}),
    "GRU": recurrent("GRU", return_sequences=True, configs={
        "last": recurrent("GRU", return_sequences=False),
        **{f"given-state-{'sequences' if sequences else 'last'}": recurrent(
            "GRU", return_sequences=sequences, given_state=True) for sequences in (True, False)}}),
    "RNNCell": recurrent("RNN", cell=True, nonlinearity="relu", configs={
        "tanh": recurrent("RNN", cell=True), "tanh-from-zeros": cell_from_zeros("RNN"),
        "from-zeros": cell_from_zeros("RNN", nonlinearity="relu")}),
    "LSTMCell": recurrent("LSTM", cell=True, configs={"from-zeros": cell_from_zeros("LSTM")}),
    "GRUCell": recurrent("GRU", cell=True, configs={"from-zeros": cell_from_zeros("GRU")}),
    "Bidirectional": Case(alike(lambda: layers.Bidirectional("layer", layers.LSTM("lstm", 3, 2))),
                          (2, 3, 3), lambda x, p: recurrent_reference.bidirectional(
                              "LSTM", x, recurrent_reference.sub_params(p, "lstm"),
                              recurrent_reference.sub_params(p, "lstm_reverse")),
                          torch=bidirectional_twin("LSTM", "lstm", 3, 2),
                          bad_shapes={  # the direction refuses it, for both
                              (2, 3, 4): r"LSTM 'lstm' expects input of shape "
                                         r"\(batch, time, 3\); got \(2, 3, 4\)",
                              (2, 3): r"got \(2, 3\)\. Sequences are batch-first"},
                          bad_inputs={"one-state": (
                              Inputs(np.ones((2, 3, 3)), initial_state=np.ones((2, 2))),
                              TypeError, r"Bidirectional 'layer': initial_state must be None or "
                                         r"a pair \(the forward direction's state, the reverse "
                                         r"direction's\)")},
                          configs={**{f"{kind}-{merge}-{'sequences' if sequences else 'last'}":
                                      bidirectional(kind, merge, sequences)
                                      for kind in ("RNN", "LSTM", "GRU")
                                      for merge in ("concat", "sum")
                                      for sequences in (True, False)},
                                   "LSTM-given-states": bidirectional_from_given_states()}),
    "DotProductAttention": Case(lambda: layers.DotProductAttention("layer", causal=True),
                                Inputs((2, 3, 4), (2, 5, 4), (2, 5, 2)),
                                lambda x, p: attention_reference.dot_product_attention(
                                    *x, causal=True), torch=attention_twin(causal=True),
                                configs=attentions(), bad_inputs=attention_refusals()),
    "MultiHeadAttention": Case(alike(lambda: layers.MultiHeadAttention("layer", 4, 2)),
                               (2, 3, 4), lambda x, p: attention_reference.multi_head_attention(
                                   x, x, x, p, 2), torch=multi_head_twin(4, 2),
                               bad_shapes={shape: r"MultiHeadAttention 'layer' expects input of "
                                                  r"shape \(batch, T, 4\); got .*Sequences are "
                                                  r"batch first" for shape in [(2, 3, 5), (2, 4)]},
                               bad_inputs=multi_head_refusals(), configs=multi_heads()),
    "PositionalEncoding": Case(lambda: layers.PositionalEncoding("layer", 5, 3), (2, 4, 3),
                               lambda x, p: attention_reference.positional_encoding(x),
                               bad_shapes={
                                   (2, 6, 3): r"PositionalEncoding 'layer' encodes positions up "
                                              r"to max_len=5; got a sequence of 6 steps. Build "
                                              r"it with max_len >= 6",
                                   (2, 3): r"PositionalEncoding 'layer' expects input of shape "
                                           r"\(batch, T, 3\); got \(2, 3\)"},
                               configs={f"dim{dim}": Case(
                                   lambda dim=dim: layers.PositionalEncoding("layer", 8, dim),
                                   (2, 6, dim),
                                   lambda x, p: attention_reference.positional_encoding(x))
                                   for dim in (4, 5)}),
    "TransformerEncoderBlock": Case(
        alike(lambda: layers.TransformerEncoderBlock("layer", 4, 2, 6, causal=True)), (2, 3, 4),
        lambda x, p: attention_reference.transformer_block(x, p, 2, causal=True),
        torch=transformer_twin(4, 2, 6, causal=True),
        bad_shapes={shape: r"TransformerEncoderBlock 'layer' expects input of shape "
                           r"\(batch, T, 4\); got .*Sequences are batch first"
                    for shape in [(2, 3, 5), (2, 4)]}, configs={
            "6-3-10": transformer_block(), "6-3-10-causal": transformer_block(causal=True),
            "padding-mask": transformer_block(keep=np.array([[[True, True, False]],
                                                             [[True, False, False]]]))}),
}

# Parameters a layer's forward does not use, so its backward leaves their grad at zero: an
# RBM's visible bias enters only contrastive_divergence.
UNUSED_BY_FORWARD = {"RBM": {"bias_visible"}}

# Layers whose backward moves or sums the gradient alone, keeping no array of the forward's to
# meet it: a gradient from another backend or device passes through to the layer before them,
# which refuses it.
KEEP_NOTHING_FROM_FORWARD = {"Flatten", "AvgPool2D", "Pool2D", "GlobalAvgPool2D", "Concatenate",
                             "Permute", "Reshape", "PositionalEncoding"}


def pooled(batch):
    """The input MaxUnpool2D's pool pools before the unpool runs (the same for each batch)."""
    return np.random.default_rng(7).standard_normal((batch, 1, 4, 4))
