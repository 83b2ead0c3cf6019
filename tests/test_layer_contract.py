"""What every layer promises, checked on every layer tinyml.layers exports.

tests/layer_specs.py's LAYERS says how to build each exported layer class and what it must
compute; a class that is exported without an entry fails the first test, so a new layer cannot
skip the contract. Checked for every entry: check_layer (finite differences, the reference,
eval mode, records) in each of its configurations, random configurations against the
reference (output shape, forward, a directional derivative), PyTorch's forward and gradients
where it has a twin, the shapes and inputs it refuses (with the fix, keeping no record), the
input dtypes it takes, integer input, backward before forward, a gradient of the wrong shape,
gradient accumulation, records unwinding last in first out, float32, input_gradient=False,
inputs and gradients from another backend or device (arrays of two backends in one call too),
and no device reads in forward or backward.
"""

import re

import numpy as np
import pytest
from device_reads import watch_torch_reads
from hypothesis import given, settings
from hypothesis import strategies as st
from layer_specs import KEEP_NOTHING_FROM_FORWARD, LAYERS, UNUSED_BY_FORWARD
from property_strategies import SHAPE_PROPERTIES

import tinyml
from tinyml import layers
from tinyml.core import skip_index_checks
from tinyml.layers import Layer, Linear, ReLu
from tinyml.testing import Inputs, assert_close, check_layer, numerical_directional_derivative
from tinyml.testing.structure import forward_args, leaves, map_leaves, replace_leaf

# (kind, configuration name or "", its Case): the entries and the configurations they list
CONFIGURATIONS = [(kind, "", case) for kind, case in LAYERS.items()] + [
    (kind, name, config) for kind, case in LAYERS.items()
    for name, config in (case.configs or {}).items()]


def config_id(kind, name):
    return f"{kind}-{name}" if name else kind


def build(kind, x, case=None):
    """A fresh layer of `kind` (of configuration `case`), its setup run for host input `x`."""
    case = case or LAYERS[kind]
    layer = case.make()
    if case.setup is not None:
        case.setup(layer, x)
    return layer


def exported_layer_classes():
    """{class name: class} of every Layer subclass in tinyml.layers.__all__ (aliases once)."""
    exported = (getattr(layers, name) for name in layers.__all__)
    return {cls.__name__: cls for cls in exported
            if isinstance(cls, type) and issubclass(cls, Layer) and cls is not Layer}


def test_every_exported_layer_has_an_entry():
    missing = sorted(set(exported_layer_classes()) - set(LAYERS))
    assert not missing, (f"tinyml.layers exports {missing} with no entry in LAYERS of "
                         "tests/layer_specs.py: add how to build one and a sample input "
                         "shape")
    stale = sorted(set(LAYERS) - set(exported_layer_classes()))
    assert not stale, f"LAYERS has entries for {stale}, which tinyml.layers does not export"
    for kind, case in LAYERS.items():
        assert type(case.make()) is exported_layer_classes()[kind], f"LAYERS[{kind!r}]"


def sample(shape, batch=None):
    """Standard-normal host input of `shape` (with `batch` rows instead, when given); a list
    of inputs for a list of shapes, an Inputs of arrays for an Inputs of shapes."""
    if isinstance(shape, Inputs):
        return Inputs(*(sample(each, batch) for each in shape.args))
    if isinstance(shape, tuple) and shape and isinstance(shape[0], tuple):  # a tuple state
        return tuple(sample(each, batch) * (index + 1) for index, each in enumerate(shape))
    if isinstance(shape, list):
        return [sample(each, batch) * (index + 1) for index, each in enumerate(shape)]
    shape = shape if batch is None else (batch, *shape[1:])
    return np.random.default_rng(0).standard_normal(shape)


def case_input(kind, batch=None, case=None):
    """The host input a test gives the layer of `kind` (of configuration `case`): its own
    sample, or standard normal values of its shape."""
    case = case or LAYERS[kind]
    return case.sample(batch) if case.sample is not None else sample(case.shape, batch)


def ones_int64(shape):
    if isinstance(shape, Inputs):
        return Inputs(*(ones_int64(each) for each in shape.args))
    if isinstance(shape, tuple) and shape and isinstance(shape[0], tuple):
        return tuple(ones_int64(each) for each in shape)
    return [ones_int64(each) for each in shape] if isinstance(shape, list) else np.ones(
        shape, dtype=np.int64)


def on_backend(x):
    """tinyml.asarray of a host input, of each input of a list, of each array of an Inputs."""
    if isinstance(x, Inputs):
        return x.map(tinyml.asarray)
    return [tinyml.asarray(each) for each in x] if isinstance(x, list) else tinyml.asarray(x)


def forward_on(layer, moved):
    """``layer.forward`` of an input on the backend (all the arguments of an Inputs)."""
    if isinstance(moved, Inputs):
        return layer.forward(*moved.args, **moved.kwargs)
    return layer.forward(moved)


def call(layer, x):
    """``layer.forward`` of host input `x` moved to the backend."""
    return forward_on(layer, on_backend(x))


def like_output(output, fill):
    """`fill(shape)` on the backend for each array of `output` (a tuple for a tuple output)."""
    if isinstance(output, tuple):
        return tuple(like_output(each, fill) for each in output)
    return tinyml.asarray(fill(tuple(output.shape)))


def gradient_leaves(gradient):
    """The arrays of what backward returned (None for an integer input: no arrays)."""
    return [each for _, each in leaves(gradient)]


@pytest.mark.parametrize(("kind", "case", "mode"), [
    pytest.param(kind, case, mode, id=f"{config_id(kind, name)}-{mode}")
    for kind, name, case in CONFIGURATIONS for mode in case.modes])
def test_check_layer(backend, kind, case, mode):
    x = case_input(kind, case=case)
    check_layer(build(kind, x, case), x, reference=case.reference, mode=mode)


@pytest.mark.parametrize("kind", [kind for kind in LAYERS if not LAYERS[kind].takes_indices])
def test_integer_input_is_refused_with_the_layer_named(backend, kind):
    case = LAYERS[kind]
    with pytest.raises(TypeError, match=rf"{kind} 'layer' expects floating-point input; got "):
        call(case.make(), ones_int64(case.shape))


@pytest.mark.parametrize("kind", [kind for kind in LAYERS if LAYERS[kind].takes_indices])
def test_floating_input_is_refused_where_indices_are_expected(backend, kind):
    with pytest.raises(TypeError, match=rf"{kind} 'layer' expects integer indices"):
        call(LAYERS[kind].make(), sample(LAYERS[kind].shape))


@pytest.mark.parametrize("kind", LAYERS)
def test_backward_before_forward(backend, kind):
    with pytest.raises(RuntimeError, match=rf"{kind} 'layer': backward\(\) called before"):
        LAYERS[kind].make().backward(tinyml.asarray(np.ones((2, 3))))


def forward_once(kind, batch=2):
    """(layer, host input, output) after one forward on the case's input."""
    x = case_input(kind, batch)
    layer = build(kind, x)
    return layer, x, call(layer, x)


@pytest.mark.parametrize("kind", LAYERS)
def test_a_gradient_of_the_wrong_shape_is_refused(backend, kind):
    layer, _, output = forward_once(kind)
    first, where = (output[0], r"in_gradient\[0\]") if isinstance(output, tuple) else (
        output, "in_gradient")
    wrong = (3, *first.shape[1:])
    gradient = like_output(output, np.ones)
    gradient = ((tinyml.asarray(np.ones(wrong)), *gradient[1:]) if isinstance(output, tuple)
                else tinyml.asarray(np.ones(wrong)))
    with pytest.raises(ValueError, match=rf"{kind} 'layer': {where} has shape "
                                         rf"{re.escape(str(wrong))} but the last forward "
                                         rf"produced {re.escape(str(tuple(first.shape)))}"):
        layer.backward(gradient)


def forward_twice(kind):
    """(layer, its output) after two forwards of the same input: two records for backward."""
    x = case_input(kind)
    layer = build(kind, x)
    for _ in range(2):
        tinyml.seed(1)  # the same dropout mask both times
        output = call(layer, x)
    return layer, output


@pytest.mark.parametrize("kind", [k for k in LAYERS if LAYERS[k].make().parameters()])
def test_backward_adds_into_grad(backend, kind):
    layer, output = forward_twice(kind)
    g = like_output(output, np.random.default_rng(2).standard_normal)
    layer.backward(g)
    # keyed by dotted name: two sub-layers (Bidirectional's directions) have a "weight_ih" each
    once = {key: tinyml.to_numpy(p.grad).copy() for key, p in layer.named_parameters().items()}
    unused = UNUSED_BY_FORWARD.get(kind, ())
    assert all(np.abs(value).max() > 0 for name, value in once.items() if name not in unused)
    assert all(np.all(once[name] == 0) for name in unused), "an unused parameter got a gradient"
    layer.backward(g)
    for key, parameter in layer.named_parameters().items():
        assert_close(parameter.grad, 2 * once[key], backend=backend, err_msg=key)


@pytest.mark.parametrize("kind", LAYERS)
def test_float32_stays_float32_through_backward(backend32, kind):
    layer, x, output = forward_once(kind)
    if LAYERS[kind].reference:  # to float32's tolerance
        params = {key: tinyml.to_numpy(value) for key, value in layer.state_dict().items()}
        expected = LAYERS[kind].reference(forward_args(x) if isinstance(x, Inputs) else x,
                                          params)
        for got, want in zip(gradient_leaves(output), expected if isinstance(output, tuple)
                             else [expected], strict=True):
            assert_close(got, want, backend=backend32)
    grad_in = layer.backward(like_output(output, np.ones))
    for each in [*gradient_leaves(grad_in), *gradient_leaves(output)]:
        assert each.dtype == backend32.dtype
    assert all(p.grad.dtype == p.data.dtype == backend32.dtype for p in layer.parameters())


@pytest.mark.parametrize("name", ["", None, 3])
def test_a_layer_needs_a_name(name):
    with pytest.raises(TypeError, match="a layer's name must be a non-empty string"):
        ReLu(name)


def test_a_dot_in_a_name_would_break_state_dict_keys():
    with pytest.raises(ValueError, match="must not contain '.'"):
        Linear("fc.1", 2, 2)


@pytest.mark.parametrize("kind", LAYERS)
@pytest.mark.parametrize("batch", [1, 2])
def test_input_gradient_false_adds_what_backward_adds(backend, kind, batch):
    if batch == 1 and not LAYERS[kind].trains_on_one:  # BatchNorm: no batch statistics
        with pytest.raises(ValueError, match=rf"{kind} 'layer': a training batch of one sample"):
            call(LAYERS[kind].make(), case_input(kind, batch))
        return
    tinyml.seed(0)
    x = case_input(kind, batch)
    full, only = build(kind, x), build(kind, x)
    only.load_state_dict(full.state_dict())  # the same weights: gradients may depend on them
    for layer in (full, only):
        tinyml.seed(1)  # the same dropout mask for both
        output = call(layer, x)
    g = like_output(output, np.random.default_rng(1).standard_normal)
    full.backward(g)
    assert only.backward(g, input_gradient=False) is None
    assert only.pending_records == 0, "backward without the input gradient consumes the record"
    for name, parameter in full.named_parameters().items():
        assert_close(only.named_parameters()[name].grad, tinyml.to_numpy(parameter.grad),
                     backend=backend)


# ---------------------------------------------------------------- drawn configurations
@pytest.mark.parametrize("kind", [kind for kind in LAYERS if LAYERS[kind].drawn is not None])
@settings(SHAPE_PROPERTIES)  # the suite's property settings: derandomized, so CI is repeatable
@given(data=st.data())
def test_drawn_configurations_match_the_reference(backend, kind, data):
    """Random configurations of the entry's `drawn` strategy: the declared output shape, the
    forward against the reference, and the input gradient along a random direction against
    central differences of the reference."""
    case = data.draw(LAYERS[kind].drawn, label="configuration")
    x = case_input(kind, case=case)
    layer = build(kind, x, case)
    params = {key: tinyml.to_numpy(value) for key, value in layer.state_dict().items()}
    want = case.reference(x, params)
    assert layer.output_shape((None, *x.shape[1:])) == (None, *want.shape[1:])
    assert_close(call(layer, x), want, backend=backend)
    rng = np.random.default_rng(5)
    g, direction = rng.standard_normal(want.shape), rng.standard_normal(x.shape)
    slope = numerical_directional_derivative(
        lambda values: float(np.sum(case.reference(values, params) * g)), x, direction)
    dx = tinyml.to_numpy(layer.backward(tinyml.asarray(g)))
    # check_layer_gradients' tolerances: central differences of a float64 reference are good
    # to about 1e-6 relative where terms cancel
    assert float(np.sum(dx * direction)) == pytest.approx(slope, rel=1e-5, abs=1e-7)


# ---------------------------------------------------------------- PyTorch's twin
def to_torch(torch, tree):
    """Host arrays of `tree` (a dict's values too) as torch tensors, the floating ones
    requiring grad."""
    def one(array):
        tensor = torch.tensor(np.asarray(array))
        return tensor.requires_grad_() if tensor.is_floating_point() else tensor
    if isinstance(tree, dict):
        return {key: map_leaves(one, value) for key, value in tree.items()}
    return map_leaves(one, tree)


@pytest.mark.parametrize(("kind", "case"), [
    pytest.param(kind, case, id=config_id(kind, name))
    for kind, name, case in CONFIGURATIONS if case.torch])
def test_forward_and_gradients_match_torch(backend, kind, case):
    torch = pytest.importorskip("torch")
    x = case_input(kind, case=case)
    layer = build(kind, x, case)
    output = call(layer, x)
    g = like_output(output, np.random.default_rng(1).standard_normal)
    input_gradient = layer.backward(g)
    inputs = to_torch(torch, x.args if isinstance(x, Inputs) else (x,))
    options = to_torch(torch, x.kwargs) if isinstance(x, Inputs) else {}  # masks
    params = {key: torch.tensor(tinyml.to_numpy(parameter.data), requires_grad=True)
              for key, parameter in layer.named_parameters().items()}
    theirs = [each for _, each in leaves(case.torch(torch, params, *inputs, **options))]
    torch.autograd.backward(theirs, [torch.tensor(tinyml.to_numpy(each))
                                     for each in gradient_leaves(g)])
    # rtol: torch's hardsigmoid backward multiplies by 1/6 rounded to float32 (3e-8 off)
    for ours, want in zip(gradient_leaves(output), theirs, strict=True):
        assert_close(ours, want.detach().numpy(), backend=backend, err_msg="output")
    wanted = [each.grad.numpy() for _, each in leaves(inputs) if each.requires_grad]
    for ours, want in zip(gradient_leaves(input_gradient), wanted, strict=True):
        assert_close(ours, want, backend=backend, rtol=1e-7, err_msg="input gradient")
    for key, parameter in layer.named_parameters().items():
        want = params[key].grad
        assert_close(parameter.grad, np.zeros(tuple(parameter.data.shape)) if want is None
                     else want.numpy(), backend=backend, err_msg=f"{key} gradient")


# ---------------------------------------------------------------- what forward refuses
@pytest.mark.parametrize(("kind", "shape"), [
    pytest.param(kind, shape, id=f"{kind}-{shape}")
    for kind, case in LAYERS.items() for shape in (case.bad_shapes or {})])
def test_an_input_of_the_wrong_shape_is_refused_with_the_fix(backend, kind, shape):
    case = LAYERS[kind]
    x = np.zeros(shape, dtype=np.int64 if case.takes_indices else np.float64)
    layer = build(kind, sample(case.shape))
    for mode in ("training", "eval"):
        with pytest.raises(ValueError, match=case.bad_shapes[shape]):
            layer.forward(tinyml.asarray(x))
        assert all(each.pending_records == 0 for each in (layer, *layer.named_layers().values())
                   ), f"a refused input left a record in {mode} mode"
        layer.eval()


def exactly(x):
    """A host input on the backend with each floating array's own dtype (a float32 state given
    to a float64 layer stays float32); lists of plain numbers stay as they are."""
    def move(array):
        return tinyml.asarray(array, dtype=array.dtype.name if array.dtype.kind == "f" else None)
    return x.map(move) if isinstance(x, Inputs) else map_leaves(move, x)


def refused_cleanly(kind, x, error, pattern):
    """The layer of `kind` refuses host input `x` with `error` matching `pattern`, in training
    and eval mode, and keeps no record of the call."""
    layer = build(kind, sample(LAYERS[kind].shape))
    for mode in ("training", "eval"):
        with pytest.raises(Exception) as caught:
            forward_on(layer, exactly(x))
        assert type(caught.value) is error, f"{type(caught.value).__name__}: {caught.value}"
        assert re.search(pattern, str(caught.value)), f"{pattern!r} not in {caught.value}"
        assert all(each.pending_records == 0 for each in (layer, *layer.named_layers().values())
                   ), f"a refused input left a record in {mode} mode"
        layer.eval()


@pytest.mark.parametrize(("kind", "name"), [
    pytest.param(kind, name, id=f"{kind}-{name}")
    for kind, case in LAYERS.items() for name in (case.bad_inputs or {})])
def test_an_input_it_cannot_take_is_refused_with_the_fix(backend, kind, name):
    refused_cleanly(kind, *LAYERS[kind].bad_inputs[name])


@pytest.mark.parametrize(("kind", "dtype"), [
    pytest.param(kind, dtype, id=f"{kind}-{dtype}")
    for kind, case in LAYERS.items() for dtype in case.dtypes])
def test_every_input_dtype_it_takes_gives_the_same_result(backend, kind, dtype):
    x = case_input(kind)
    layer = build(kind, x)
    results = []
    for typed in (x, map_leaves(lambda array: array.astype(dtype), x)):
        layer.zero_grad()
        output = call(layer, typed)
        layer.backward(like_output(output, np.ones))
        results.append([tinyml.to_numpy(output), *(tinyml.to_numpy(parameter.grad)
                                                   for parameter in layer.parameters())])
    for got, want in zip(*results, strict=True):
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------- records, last in first out
def another_input(x):
    """`x` with fresh standard-normal values in its floating arrays (indices, masks kept)."""
    rng = np.random.default_rng(1)

    def redraw(array):
        return rng.standard_normal(array.shape) if array.dtype.kind == "f" else array
    return x.map(redraw) if isinstance(x, Inputs) else map_leaves(redraw, x)


@pytest.mark.parametrize("input_gradient", [True, False])
@pytest.mark.parametrize("kind", LAYERS)
def test_two_records_unwind_last_in_first_out(backend, kind, input_gradient):
    """Two forwards of different inputs, then two backwards in reverse: each backward meets
    its own forward's record (a shared layer, an unrolled cell), and the parameter gradients
    add up to those of the two calls made alone."""
    first = case_input(kind)
    second = another_input(first)
    both, *alone = (build(kind, first) for _ in range(3))
    for layer in alone:
        layer.load_state_dict(both.state_dict())  # the same weights, running statistics
    calls = [(1, first), (2, second)]
    outputs = []
    for seed, x in calls:
        tinyml.seed(seed)  # the same dropout masks as the calls alone
        outputs.append(call(both, x))
    gradients = [like_output(output, np.random.default_rng(3 + index).standard_normal)
                 for index, output in enumerate(outputs)]
    returned = [both.backward(gradients[1], input_gradient=input_gradient)]
    returned.insert(0, both.backward(gradients[0], input_gradient=input_gradient))
    for (seed, x), layer, output, gradient, got in zip(calls, alone, outputs, gradients,
                                                       returned, strict=True):
        tinyml.seed(seed)
        for ours, want in zip(gradient_leaves(output), gradient_leaves(call(layer, x)),
                              strict=True):
            assert_close(ours, tinyml.to_numpy(want), backend=backend, err_msg="output")
        want = layer.backward(gradient, input_gradient=input_gradient)
        if not input_gradient:
            assert got is None
        for ours, theirs in zip(gradient_leaves(got), gradient_leaves(want), strict=True):
            assert_close(ours, tinyml.to_numpy(theirs), backend=backend, err_msg="input gradient")
    for key, parameter in both.named_parameters().items():
        first_alone, second_alone = (tinyml.to_numpy(layer.named_parameters()[key].grad)
                                     for layer in alone)
        assert_close(parameter.grad, first_alone + second_alone, backend=backend, err_msg=key)
    # without the input gradient, a container may leave the records of layers before its first
    # trainable one (tests/test_containers.py)
    inner = both.named_layers().values() if input_gradient else ()
    assert all(each.pending_records == 0 for each in (both, *inner))


# ---------------------------------------------------------------- one backend and device
def on_strict_device1(kind):
    """(layer, host input, output) of a forward on array_api_strict's device1."""
    pytest.importorskip("array_api_strict")
    with tinyml.use_backend("array_api_strict", device="device1", dtype="float64"):
        layer, x, output = forward_once(kind)
    return layer, x, output


@pytest.mark.parametrize("kind", [k for k in LAYERS if LAYERS[k].make().parameters()])
def test_an_input_from_another_backend_or_device_is_refused(kind):
    layer, x, _ = on_strict_device1(kind)
    with pytest.raises(TypeError, match=r"'\w+': .*lives on array_api_strict .* but \w+ "
                                        r"lives on numpy"):
        call(layer, x)
    with tinyml.use_backend("array_api_strict", dtype="float64"):  # the default CPU_DEVICE
        elsewhere = on_backend(x)
    with pytest.raises(ValueError, match=r"lives on array_api_strict .*device1.* net\.to"):
        forward_on(layer, elsewhere)


def host_variants(moved):
    """{where: the input on the backend with one array at `where` a NumPy array instead}: the
    last positional array, where there are several, and each keyword array (masks, states)."""
    def on_host(tree, path):
        return replace_leaf(tree, path, np.asarray(tinyml.to_numpy(dict(leaves(tree))[path])))
    if not isinstance(moved, Inputs):
        found = leaves(moved)
        return {"input": on_host(moved, found[-1][0])} if len(found) > 1 else {}
    variants = {}
    found = leaves(moved.args)
    if len(found) > 1:
        variants["input"] = Inputs(*on_host(moved.args, found[-1][0]), **moved.kwargs)
    for key, value in moved.kwargs.items():
        if leaves(value):
            variants[key] = Inputs(*moved.args, **{**moved.kwargs, key: on_host(
                value, leaves(value)[0][0]) if isinstance(value, (tuple, list)) else
                np.asarray(tinyml.to_numpy(value))})
    return variants


def mixed_calls():
    """(kind, configuration, where): the first configuration of each layer with a second array
    at `where` (input, or a keyword such as mask or initial_state)."""
    found = {}
    for kind, name, case in CONFIGURATIONS:
        for where in host_variants(case_input(kind, case=case)):
            found.setdefault((kind, where), pytest.param(
                kind, case, where, id=f"{config_id(kind, name)}-{where}"))
    return list(found.values())


MIXED = mixed_calls()


@pytest.mark.parametrize(("kind", "case", "where"), MIXED)
def test_arrays_of_two_backends_in_one_call_are_refused(kind, case, where):
    """A NumPy array among the array_api_strict inputs, masks or states of one call."""
    pytest.importorskip("array_api_strict")
    with tinyml.use_backend("array_api_strict", dtype="float64"):
        x = case_input(kind, case=case)
        layer = build(kind, x, case)
        with pytest.raises(TypeError, match=r"'\w+': .*lives on numpy \(cpu\) but .*lives on "
                                            r"array_api_strict"):
            forward_on(layer, host_variants(on_backend(x))[where])


@pytest.mark.parametrize("kind", [k for k in LAYERS if k not in KEEP_NOTHING_FROM_FORWARD])
def test_a_gradient_from_another_backend_or_device_is_refused(kind):
    """By the layer, or by the sub-layer (a container's, a merge's activation) that meets it."""
    layer, _, output = on_strict_device1(kind)
    with pytest.raises(TypeError, match=r"'\w+': .* lives on array_api_strict .* but "
                                        r"in_gradient.* lives on numpy"):
        layer.backward(map_leaves(lambda a: np.ones(tuple(a.shape)), output))
    layer, _, output = on_strict_device1(kind)  # a fresh record: a container consumed its own
    with tinyml.use_backend("array_api_strict", dtype="float64"):
        elsewhere = like_output(output, np.ones)
    with pytest.raises(ValueError, match=r"'\w+': .*device1.* but in_gradient"):
        layer.backward(elsewhere)


# ---------------------------------------------------------------- no device reads
@pytest.mark.parametrize("kind", LAYERS)
def test_forward_and_backward_read_nothing_from_the_device(monkeypatch, kind):
    """A float()/bool()/item() of a device array makes a GPU wait: count them on torch, in a
    training forward and backward and an eval forward (index range checks skipped: an
    embedding reads once per forward to check them, tests/test_embedding.py)."""
    reads = watch_torch_reads(monkeypatch)
    with tinyml.use_backend("torch", dtype="float64"), skip_index_checks():
        tinyml.seed(0)
        x = case_input(kind)
        layer = build(kind, x)
        moved = on_backend(x)
        reads.clear()
        output = forward_on(layer, moved)
        layer.backward(like_output(output, np.ones))
        layer.eval()
        forward_on(layer, moved)
    assert reads == []
