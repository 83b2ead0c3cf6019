"""Independent plain-NumPy references for the layer tests, written as obvious loops.

Nothing here imports tinyml: each function follows the textbook definition one output (or one
input pixel) at a time, so it shares no code, and no bugs, with the vectorized layers.
All arrays are host NumPy; images are NCHW; weights use PyTorch's layouts.
"""

import numpy as np


def linear(x, weight, bias):
    """y[n, o] = b[o] + sum_i x[n, i] W[o, i]."""
    n, _ = x.shape
    out_dim, in_dim = weight.shape
    y = np.zeros((n, out_dim))
    for row in range(n):
        for o in range(out_dim):
            y[row, o] = bias[o] + sum(x[row, i] * weight[o, i] for i in range(in_dim))
    return y


def pad(x, padding):
    """`x` (N, C, H, W) with `padding` zeros around H and W."""
    n, c, h, w = x.shape
    padded = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    padded[:, :, padding:padding + h, padding:padding + w] = x
    return padded


def output_size(size, kernel, stride, padding=0, dilation=1):
    """How many kernel placements fit: count them one by one."""
    span = dilation * (kernel - 1) + 1
    count, start = 0, 0
    while start + span <= size + 2 * padding:
        count += 1
        start += stride
    return count


def conv2d(x, weight, bias, stride=1, padding=0):
    """Cross-correlation by definition: y[n,f,p,q] = b[f] + sum W[f,c,i,j] x~[n,c,ps+i,qs+j]."""
    n, c, h, w = x.shape
    f, _, kh, kw = weight.shape
    xp = pad(x, padding)
    oh, ow = output_size(h, kh, stride, padding), output_size(w, kw, stride, padding)
    y = np.zeros((n, f, oh, ow))
    for b in range(n):
        for k in range(f):
            for p in range(oh):
                for q in range(ow):
                    total = bias[k]
                    for ch in range(c):
                        for i in range(kh):
                            for j in range(kw):
                                total += weight[k, ch, i, j] * xp[b, ch, p * stride + i,
                                                                  q * stride + j]
                    y[b, k, p, q] = total
    return y


def conv_transpose2d(x, weight, bias, stride=1, padding=0, dilation=1):
    """Transposed convolution as a scatter: each input pixel adds x * kernel into the output.

    weight is (C_in, F, kh, kw); the full result is cropped by `padding` on each side, as
    PyTorch's ConvTranspose2d with output_padding=0.
    """
    n, c, h, w = x.shape
    _, f, kh, kw = weight.shape
    full_h = (h - 1) * stride + dilation * (kh - 1) + 1
    full_w = (w - 1) * stride + dilation * (kw - 1) + 1
    full = np.zeros((n, f, full_h, full_w))
    for b in range(n):
        for ch in range(c):
            for p in range(h):
                for q in range(w):
                    for i in range(kh):
                        for j in range(kw):
                            row, col = p * stride + i * dilation, q * stride + j * dilation
                            full[b, :, row, col] += x[b, ch, p, q] * weight[ch, :, i, j]
    y = full[:, :, padding:full_h - padding, padding:full_w - padding]
    return y + bias.reshape(1, f, 1, 1)


def max_pool2d(x, kh, kw, stride):
    """(output, indices): the window maximum and the flat position h*W+w of its FIRST
    occurrence in row-major window order."""
    n, c, h, w = x.shape
    oh, ow = output_size(h, kh, stride), output_size(w, kw, stride)
    y = np.zeros((n, c, oh, ow))
    indices = np.zeros((n, c, oh, ow), dtype=np.int64)
    for b in range(n):
        for ch in range(c):
            for p in range(oh):
                for q in range(ow):
                    best, where = -np.inf, None
                    for i in range(kh):
                        for j in range(kw):
                            row, col = p * stride + i, q * stride + j
                            if where is None or x[b, ch, row, col] > best:
                                best, where = x[b, ch, row, col], row * w + col
                    y[b, ch, p, q], indices[b, ch, p, q] = best, where
    return y, indices


def max_pool2d_backward(x, g, kh, kw, stride):
    """Each output gradient goes to its window's first maximum; overlaps add up."""
    _, indices = max_pool2d(x, kh, kw, stride)
    n, c, h, w = x.shape
    dx = np.zeros((n, c, h * w))
    for b in range(n):
        for ch in range(c):
            for p in range(indices.shape[2]):
                for q in range(indices.shape[3]):
                    dx[b, ch, indices[b, ch, p, q]] += g[b, ch, p, q]
    return dx.reshape(x.shape)


def softmax(x, axis=1):
    """exp(x) / sum exp(x) along `axis`, one slice at a time, in exact high precision."""
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    y = np.zeros_like(x)
    for index in np.ndindex(x.shape[:-1]):
        row = x[index]
        shifted = [np.exp(v - max(row)) for v in row]
        total = sum(shifted)
        y[index] = [v / total for v in shifted]
    return np.moveaxis(y, -1, axis)


def relu(x):
    return np.array([v if v > 0 else 0.0 for v in np.ravel(x)]).reshape(np.shape(x))


def im2col(x, kh, kw, stride, dilation, out_h, out_w):
    """(N, C*kh*kw, OH*OW): row c*kh*kw + i*kw + j, column p*OW + q holds
    x[n, c, p*stride + i*dilation, q*stride + j*dilation]."""
    n, c, _, _ = x.shape
    cols = np.zeros((n, c * kh * kw, out_h * out_w))
    for b in range(n):
        for ch in range(c):
            for i in range(kh):
                for j in range(kw):
                    for p in range(out_h):
                        for q in range(out_w):
                            cols[b, ch * kh * kw + i * kw + j, p * out_w + q] = \
                                x[b, ch, p * stride + i * dilation, q * stride + j * dilation]
    return cols


def flatten(x):
    """(N, ...) -> (N, prod(...)), walking each sample's axes in row-major order."""
    n = x.shape[0]
    rows = []
    for b in range(n):
        rows.append([x[(b, *index)] for index in np.ndindex(x.shape[1:])])
    return np.array(rows, dtype=np.float64).reshape(n, -1)


def pad_sides(x, top, bottom, left, right):
    """`x` (N, C, H, W) with the given zeros on each side of H and W."""
    n, c, h, w = x.shape
    padded = np.zeros((n, c, h + top + bottom, w + left + right))
    padded[:, :, top:top + h, left:left + w] = x
    return padded


def same_pads(size, kernel, stride, dilation=1):
    """(before, after) for "same": the least total padding whose placements number
    ceil(size / stride), found by trying totals in turn; the odd zero goes after."""
    wanted = -(-size // stride)
    total = 0
    while output_size(size + total, kernel, stride, 0, dilation) < wanted:
        total += 1
    return total // 2, total - total // 2


def correlate2d(x, weight, bias, stride=1, pads=(0, 0, 0, 0), dilation=1):
    """Dilated cross-correlation by definition, padded (top, bottom, left, right):
    y[n,f,p,q] = b[f] + sum W[f,c,i,j] x~[n,c,ps+id,qs+jd]."""
    n, c, _, _ = x.shape
    f, _, kh, kw = weight.shape
    xp = pad_sides(x, *pads)
    oh = output_size(xp.shape[2], kh, stride, 0, dilation)
    ow = output_size(xp.shape[3], kw, stride, 0, dilation)
    y = np.zeros((n, f, oh, ow))
    for b in range(n):
        for k in range(f):
            for p in range(oh):
                for q in range(ow):
                    total = bias[k]
                    for ch in range(c):
                        for i in range(kh):
                            for j in range(kw):
                                total += weight[k, ch, i, j] * xp[b, ch, p * stride + i * dilation,
                                                                  q * stride + j * dilation]
                    y[b, k, p, q] = total
    return y


def conv1d(x, weight, bias, stride=1, pads=(0, 0), dilation=1):
    """y[n,f,t] = b[f] + sum_{c,k} W[f,c,k] x~[n,c,ts+kd], x~ padded by (left, right) zeros."""
    n, c, length = x.shape
    f, _, k = weight.shape
    padded = np.zeros((n, c, pads[0] + length + pads[1]))
    padded[:, :, pads[0]:pads[0] + length] = x
    out = output_size(padded.shape[2], k, stride, 0, dilation)
    y = np.zeros((n, f, out))
    for b in range(n):
        for o in range(f):
            for t in range(out):
                y[b, o, t] = bias[o] + sum(
                    weight[o, ch, tap] * padded[b, ch, t * stride + tap * dilation]
                    for ch in range(c) for tap in range(k))
    return y


def avg_pool2d(x, kh, kw, stride):
    """The mean of each window, one window at a time."""
    n, c, h, w = x.shape
    oh, ow = output_size(h, kh, stride), output_size(w, kw, stride)
    y = np.zeros((n, c, oh, ow))
    for b in range(n):
        for ch in range(c):
            for p in range(oh):
                for q in range(ow):
                    window = [x[b, ch, p * stride + i, q * stride + j]
                              for i in range(kh) for j in range(kw)]
                    y[b, ch, p, q] = sum(window) / len(window)
    return y


def avg_pool2d_backward(x_shape, g, kh, kw, stride):
    """Each output gradient spread evenly over its window; overlaps add up."""
    dx = np.zeros(x_shape)
    for b, ch, p, q in np.ndindex(g.shape):
        for i in range(kh):
            for j in range(kw):
                dx[b, ch, p * stride + i, q * stride + j] += g[b, ch, p, q] / (kh * kw)
    return dx


def global_avg_pool2d(x):
    """(N, C, H, W) -> (N, C): the mean of each plane."""
    n, c = x.shape[:2]
    return np.array([[np.sum(x[b, ch]) / x[b, ch].size for ch in range(c)] for b in range(n)])


def max_unpool2d(z, pooled_input, kh, kw, stride):
    """Zeros of the pool input's shape; each z[n, c, p, q] added at its window's first maximum
    (where max_pool2d's indices point)."""
    _, indices = max_pool2d(pooled_input, kh, kw, stride)
    n, c, h, w = pooled_input.shape
    out = np.zeros((n, c, h * w))
    for b, ch, p, q in np.ndindex(z.shape):
        out[b, ch, indices[b, ch, p, q]] += z[b, ch, p, q]
    return out.reshape(pooled_input.shape)


def max_unpool2d_backward(g, pooled_input, kh, kw, stride):
    """Each window reads g at its first maximum."""
    _, indices = max_pool2d(pooled_input, kh, kw, stride)
    n, c, h, w = pooled_input.shape
    flat = g.reshape(n, c, h * w)
    dz = np.zeros(indices.shape)
    for b, ch, p, q in np.ndindex(indices.shape):
        dz[b, ch, p, q] = flat[b, ch, indices[b, ch, p, q]]
    return dz


def correlate2d_backward(x, weight, g, stride=1, pads=(0, 0, 0, 0), dilation=1):
    """(dW, db, dx) of correlate2d by the chain rule, one output element at a time: each
    g[n, f, p, q] adds g * x~ into dW[f, c, i, j] and g * W[f, c, i, j] into dx~ at the pixel
    that tap read; dx is dx~ without the padding."""
    n, c, h, w = x.shape
    f, _, kh, kw = weight.shape
    top, _, left, _ = pads
    padded = pad_sides(x, *pads)
    d_weight, d_padded = np.zeros(weight.shape), np.zeros(padded.shape)
    for b, k, p, q in np.ndindex(g.shape):
        for ch in range(c):
            for i in range(kh):
                for j in range(kw):
                    row, col = p * stride + i * dilation, q * stride + j * dilation
                    d_weight[k, ch, i, j] += g[b, k, p, q] * padded[b, ch, row, col]
                    d_padded[b, ch, row, col] += g[b, k, p, q] * weight[k, ch, i, j]
    d_bias = np.array([np.sum(g[:, k]) for k in range(f)])
    return d_weight, d_bias, d_padded[:, :, top:top + h, left:left + w]


def conv_transpose2d_backward(x, weight, g, stride=1, padding=0, dilation=1):
    """(dW, db, dx) of conv_transpose2d: each x[n, c, p, q] reached the (uncropped) output at
    (ps + id, qs + jd) through W[c, :, i, j]; read g back there (zero in the cropped border)."""
    n, c, h, w = x.shape
    _, f, kh, kw = weight.shape
    full = pad(g, padding)
    d_weight, d_input = np.zeros(weight.shape), np.zeros(x.shape)
    for b, ch, p, q in np.ndindex(x.shape):
        for i in range(kh):
            for j in range(kw):
                row, col = p * stride + i * dilation, q * stride + j * dilation
                d_weight[ch, :, i, j] += x[b, ch, p, q] * full[b, :, row, col]
                d_input[b, ch, p, q] += sum(weight[ch, k, i, j] * full[b, k, row, col]
                                            for k in range(f))
    return d_weight, g.sum(axis=(0, 2, 3)), d_input
