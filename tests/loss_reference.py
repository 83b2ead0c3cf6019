"""Independent plain-NumPy references for the losses, written as obvious loops.

Nothing here imports tinyml. Each function returns (loss, gradient w.r.t. predicted) for host
arrays, following the textbook definition one element (or one sample) at a time, with the
reduction PyTorch uses by default: the mean over every element for element-wise losses, the
mean over the batch of per-sample sums for class losses and KL.
"""

import math

import numpy as np


def _elementwise(predicted, target, pointwise):
    """Mean over every element of pointwise(p, t) -> (value, derivative)."""
    count = predicted.size
    total, grad = 0.0, np.zeros(predicted.shape)
    for index in np.ndindex(predicted.shape):
        value, slope = pointwise(float(predicted[index]), float(target[index]))
        total += value
        grad[index] = slope / count
    return total / count, grad


def _sign(x):
    return (x > 0) - (x < 0)


def mse(p, t):
    return _elementwise(p, t, lambda a, b: ((a - b) ** 2, 2 * (a - b)))


def mae(p, t):
    return _elementwise(p, t, lambda a, b: (abs(a - b), _sign(a - b)))


def huber(p, t, delta=1.0):
    def pointwise(a, b):
        d = a - b
        if abs(d) < delta:
            return 0.5 * d * d, d
        return delta * (abs(d) - 0.5 * delta), delta * _sign(d)
    return _elementwise(p, t, pointwise)


def smooth_l1(p, t, beta=1.0):
    def pointwise(a, b):
        d = a - b
        if abs(d) < beta:
            return 0.5 * d * d / beta, d / beta
        return abs(d) - 0.5 * beta, _sign(d)
    return _elementwise(p, t, pointwise)


def binary_cross_entropy(p, t):
    def pointwise(a, b):
        log_a = max(math.log(a), -100.0) if a > 0 else -100.0
        log_not_a = max(math.log(1 - a), -100.0) if a < 1 else -100.0
        return -(b * log_a + (1 - b) * log_not_a), (a - b) / max(a * (1 - a), 1e-12)
    return _elementwise(p, t, pointwise)


def binary_cross_entropy_with_logits(z, t):
    def pointwise(a, b):
        s = 1.0 / (1.0 + math.exp(-a))
        return -(b * math.log(s) + (1 - b) * math.log(1 - s)), s - b
    return _elementwise(z, t, pointwise)


def _one_hot(labels, classes):
    if labels.ndim == 2:
        return labels.astype(float)
    rows = np.zeros((labels.shape[0], classes))
    for n, label in enumerate(labels):
        rows[n, label] = 1.0
    return rows


def _log_softmax_row(row):
    top = max(row)
    log_total = math.log(sum(math.exp(v - top) for v in row))
    return [v - top - log_total for v in row]


def cross_entropy_with_logits(z, labels, label_smoothing=0.0):
    n, c = z.shape
    targets = _one_hot(labels, c) * (1 - label_smoothing) + label_smoothing / c
    total, grad = 0.0, np.zeros(z.shape)
    for i in range(n):
        log_p = _log_softmax_row(z[i])
        mass = sum(targets[i])
        for k in range(c):
            total -= targets[i, k] * log_p[k]
            grad[i, k] = (math.exp(log_p[k]) * mass - targets[i, k]) / n
    return total / n, grad


def cross_entropy(p, labels, label_smoothing=0.0):
    n, c = p.shape
    targets = _one_hot(labels, c) * (1 - label_smoothing) + label_smoothing / c
    total, grad = 0.0, np.zeros(p.shape)
    for i in range(n):
        for k in range(c):
            total -= targets[i, k] * math.log(p[i, k])
            grad[i, k] = -targets[i, k] / (n * p[i, k])
    return total / n, grad


def nll(log_p, labels):
    n, c = log_p.shape
    targets = _one_hot(labels, c)
    total, grad = 0.0, np.zeros(log_p.shape)
    for i in range(n):
        for k in range(c):
            total -= targets[i, k] * log_p[i, k]
            grad[i, k] = -targets[i, k] / n
    return total / n, grad


def hinge(scores, labels):
    """Crammer-Singer: max(0, 1 + best rival - true score), the mean over the batch."""
    n, c = scores.shape
    classes = labels if labels.ndim == 1 else labels.argmax(axis=1)
    total, grad = 0.0, np.zeros(scores.shape)
    for i in range(n):
        y = int(classes[i])
        rival = max((j for j in range(c) if j != y), key=lambda j: (scores[i, j], -j))
        margin = 1.0 + scores[i, rival] - scores[i, y]
        if margin > 0:
            total += margin
            grad[i, rival] += 1.0 / n
            grad[i, y] -= 1.0 / n
    return total / n, grad


def kl_divergence(log_q, p):
    n = log_q.shape[0]
    total, grad = 0.0, np.zeros(log_q.shape)
    for index in np.ndindex(log_q.shape):
        t = float(p[index])
        if t > 0:
            total += t * (math.log(t) - log_q[index])
        grad[index] = -t / n
    return total / n, grad
