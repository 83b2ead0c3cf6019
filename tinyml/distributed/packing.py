"""Many arrays as a few flat buffers, one per dtype, so a collective is one call, not one per
array (a net's gradients are dozens of arrays; MPI and NCCL pay a latency per call)."""

import math


class Packed:
    """`arrays` copied into one flat buffer per dtype (in the order the dtypes first appear),
    on their own device, and the layout to cut buffers of that shape back into arrays.

    Parameters
    ----------
    arrays : list of arrays of one namespace and device
    xp : the arrays' namespace

    Attributes
    ----------
    buffers : list of 1-D arrays
        Fresh copies: a collective may write into them in place.
    """

    def __init__(self, arrays, xp):
        self.xp = xp
        self.count = len(arrays)
        groups = {}  # dtype -> [(index, array)], in first-seen order
        for index, array in enumerate(arrays):
            groups.setdefault(str(array.dtype), []).append((index, array))
        self.buffers, self.layouts = [], []
        for members in groups.values():
            layout, start = [], 0
            for index, array in members:
                stop = start + math.prod(array.shape)
                layout.append((index, tuple(array.shape), start, stop))
                start = stop
            # concat copies, even a single array: the input is never written into.
            self.buffers.append(xp.concat([xp.reshape(array, (-1,)) for _, array in members]))
            self.layouts.append(layout)

    def unpack(self, buffers):
        """The arrays again, in their original order and shapes, cut from `buffers` (one per
        buffer of :attr:`buffers`, same sizes): views of them where the library allows."""
        arrays = [None] * self.count
        for buffer, layout in zip(buffers, self.layouts, strict=True):
            for index, shape, start, stop in layout:
                arrays[index] = self.xp.reshape(buffer[start:stop], shape)
        return arrays

    def signature(self):
        """The shapes and dtypes packed, as plain values (to compare across processes)."""
        return [[(shape, str(self.buffers[group].dtype)) for _, shape, _, _ in layout]
                for group, layout in enumerate(self.layouts)]
