"""Ready-made ``decay_filter`` functions: which parameters get weight decay."""


def no_decay_for_bias_and_norm(name, parameter):
    """True (decay it) unless `name` ends in "bias" or the parameter has at most one axis.

    The usual exemption (BERT, the GPT recipes, timm): biases, and the 1-D scales and shifts
    of normalization layers, are not decayed; weight matrices and convolution kernels are.
    Pass it as ``Adam(..., weight_decay=0.01, decay_filter=no_decay_for_bias_and_norm)``.

    Parameters
    ----------
    name : str
        The parameter's dotted name as the optimizer keys it (``"fc1.bias"``).
    parameter : Parameter

    Returns
    -------
    bool
    """
    return not (name.endswith("bias") or len(parameter.shape) <= 1)
