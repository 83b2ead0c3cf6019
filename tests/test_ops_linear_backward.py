"""linear_backward, a Linear's gradients added into its parameters' grads: the default path
(the torch native's addmm_) and the portable one give the textbook numbers, batch of one
included, and leave the input gradient out when asked."""

import numpy as np
import pytest
from ops_paths import NATIVES

from tinyml.backend import ops, portable_ops
from tinyml.testing import assert_close

RNG = np.random.default_rng(4)


@pytest.mark.parametrize("rows", [1, 5])
@pytest.mark.parametrize("input_gradient", [True, False])
def test_both_paths_add_the_textbook_gradients(backend, rows, input_gradient):
    g, x, weight = (RNG.standard_normal(s) for s in ((rows, 3), (rows, 4), (3, 4)))
    start_w, start_b = RNG.standard_normal((3, 4)), RNG.standard_normal(3)
    native_name = backend.name if backend.name in NATIVES["linear_backward"] else "portable"
    for forced, name in ((False, native_name), (True, "portable")):
        weight_grad, bias_grad = backend.asarray(start_w), backend.asarray(start_b)
        args = (backend.asarray(g), backend.asarray(x), backend.asarray(weight), weight_grad,
                bias_grad)
        with portable_ops(forced):
            assert ops.linear_backward.implementation_for(args[0]) == name
            d_input = ops.linear_backward(*args, input_gradient=input_gradient)
        assert_close(weight_grad, start_w + g.T @ x, backend=backend, err_msg=name)
        assert_close(bias_grad, start_b + g.sum(axis=0), backend=backend, err_msg=name)
        if input_gradient:
            assert_close(d_input, g @ weight, backend=backend, err_msg=name)
        else:
            assert d_input is None


def test_refuses_shapes_that_do_not_fit(backend):
    g, x, w = (backend.asarray(np.zeros(s)) for s in ((5, 3), (5, 4), (3, 4)))
    with pytest.raises(ValueError, match="linear_backward expects g"):
        ops.linear_backward(g, x, w, w, backend.asarray(np.zeros(4)))
    with pytest.raises(ValueError, match="linear_backward expects g"):
        ops.linear_backward(g, backend.asarray(np.zeros((4, 4))), w, w,
                            backend.asarray(np.zeros(3)))
