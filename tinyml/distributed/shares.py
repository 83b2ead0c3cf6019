"""The sampler rule: which samples each process trains on, so that a run of P processes with
``batch_size`` b sees the batches of one process with ``batch_size`` b x P.

Epoch order
    Every process uses rank 0's order of the samples (drawn as one process draws it, then
    broadcast), so the global batches are those of the one-process run, in its order.
Shares
    Global batch g holds the samples ``order[g*B : (g+1)*B]`` (B = b x P). Process r takes
    the contiguous share ``[r*L//P ..]`` of it given by :func:`share_bounds`: exactly b
    samples for every full batch; the last, shorter batch of L samples is split as evenly
    as possible (the first ``L % P`` processes take one more), and the gradients are
    averaged with each process's share as its weight, so the step is the one-process step on
    those L samples.
A last batch with fewer samples than processes
    is dropped (every process skips it): some process would have no sample, and a step
    needs one on each. ``steps`` counts the batches kept.
"""

from ..backend import host_namespace, to_numpy


def share_bounds(length, rank, size):
    """(start, stop) of process `rank`'s share of `length` samples split over `size`
    processes: contiguous, in rank order, sizes differing by at most one."""
    base, extra = divmod(length, size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def global_batches(samples, global_batch, size):
    """(start, stop) of each global batch trained on, in order (see the module docstring)."""
    bounds = [(start, min(start + global_batch, samples))
              for start in range(0, samples, global_batch)]
    if bounds and bounds[-1][1] - bounds[-1][0] < size:
        bounds.pop()
    return bounds


def rank_order(order, batch_size, rank, size):
    """Process `rank`'s sample indices for an epoch whose global order is `order`, share
    after share: cut into runs of `batch_size`, they are its batches (every share of a full
    global batch has `batch_size` samples, the last share at most that)."""
    order = to_numpy(order)
    pieces = []
    for start, stop in global_batches(len(order), batch_size * size, size):
        low, high = share_bounds(stop - start, rank, size)
        pieces.append(order[start + low:start + high])
    return host_namespace().concat(pieces) if pieces else order[:0]
