"""Plain-NumPy references for the normalization layers, one group of values at a time.

Nothing here imports tinyml: each function collects the values a statistic is taken over with
an explicit loop, computes the mean and variance by their definitions, and normalizes them, so
it shares no code (and no bugs) with tinyml/layers/normalization.py.
"""

import numpy as np


def standardize(values, epsilon):
    """(values - mean) / sqrt(biased var + epsilon) of a 1-D array, by the definitions."""
    m = len(values)
    mean = sum(values) / m
    var = sum((v - mean) ** 2 for v in values) / m
    return (values - mean) / np.sqrt(var + epsilon)


def batch_norm(x, weight, bias, epsilon=1e-5):
    """Training-mode batch norm: channel c (axis 1) normalized over every other axis."""
    y = np.zeros_like(x, dtype=np.float64)
    for c in range(x.shape[1]):
        values = x[:, c].ravel()
        y[:, c] = weight[c] * standardize(values, epsilon).reshape(x[:, c].shape) + bias[c]
    return y


def batch_statistics(x):
    """(mean, unbiased variance) per channel (axis 1): what running statistics move towards."""
    means, variances = [], []
    for c in range(x.shape[1]):
        values = x[:, c].ravel()
        mean = sum(values) / len(values)
        means.append(mean)
        variances.append(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return np.array(means), np.array(variances)


def batch_norm_eval(x, weight, bias, running_mean, running_var, epsilon=1e-5):
    """Eval-mode batch norm: every value of channel c through the same affine map."""
    y = np.zeros_like(x, dtype=np.float64)
    for c in range(x.shape[1]):
        y[:, c] = weight[c] * (x[:, c] - running_mean[c]) / np.sqrt(running_var[c] + epsilon) \
            + bias[c]
    return y


def layer_norm(x, weight, bias, epsilon=1e-5):
    """Each row of the last axis normalized alone, then weight and bias per feature."""
    y = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape[:-1]):
        y[index] = weight * standardize(x[index], epsilon) + bias
    return y


def group_norm_one_group(x, weight, bias, epsilon=1e-5):
    """Each (C, H, W) sample normalized as a whole, then weight and bias per channel."""
    y = np.zeros_like(x, dtype=np.float64)
    for n in range(x.shape[0]):
        y[n] = standardize(x[n].ravel(), epsilon).reshape(x[n].shape)
        for c in range(x.shape[1]):
            y[n, c] = weight[c] * y[n, c] + bias[c]
    return y
