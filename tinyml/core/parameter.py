"""Parameter and Buffer: the arrays a layer owns.

A ``Parameter`` is trained: it has a gradient and the optimizer updates it. A ``Buffer`` is
state that is not trained (BatchNorm's running statistics, a mask): it is saved in
``state_dict``, moved by ``to()`` and loaded by ``load_state_dict`` like a parameter, but it
has no gradient, no optimizer touches it, ``freeze``/``unfreeze`` leave it alone, and it does
not count as a parameter.
"""

from ..backend import array_namespace, hold, resolve_backend


class _Owned:
    """What Parameter and Buffer share: an array, the attribute name it sits under, moving."""

    def __init__(self, data, name=""):
        array_namespace(data, names=[f"{type(self).__name__.lower()} data"])
        hold(data.shape)  # counted where a stored architecture is being built (load_net)
        self.data = data
        self.name = name

    @property
    def shape(self):
        """The array's shape, a tuple of ints."""
        return tuple(self.data.shape)

    @property
    def size(self):
        """How many numbers the array holds (the product of its shape)."""
        size = 1
        for extent in self.shape:
            size *= extent
        return size

    def to(self, backend, *, device=None, dtype=None):
        """Move to `backend` (a name or Backend); floating data takes its dtype. Returns self."""
        target = resolve_backend(backend, device=device, dtype=dtype)
        self.data = target.asarray(self.data)
        return self


class Parameter(_Owned):
    """A trainable array (`data`) and the gradient of the loss with respect to it (`grad`).

    Layers create them as plain attributes (``self.weight = Parameter(...)``), or in lists and
    dicts; the layer finds them in definition order and the net names them by path
    (``"block.fc.weight"``).

    Parameters
    ----------
    data : array
        The values, on the device where the layer computes.
    name : str
        The attribute name inside the layer (set by the layer when it is assigned).
    trainable : bool
        False freezes the parameter: the optimizer skips it.

    Notes
    -----
    ``grad`` starts at zero and layers ADD into it in ``backward``; zeroing it between steps is
    the training loop's job (``net.zero_grad()``).
    """

    def __init__(self, data, name="", trainable=True):
        super().__init__(data, name)
        self.trainable = bool(trainable)
        self.grad = None
        self.zero_grad()

    def zero_grad(self):
        """Set the gradient to zeros of the data's shape, dtype and device (in place)."""
        stale = self.grad is None or tuple(self.grad.shape) != self.shape or \
            self.grad.dtype != self.data.dtype
        if stale:  # new data was assigned: start a gradient that matches it
            self.grad = array_namespace(self.data).zeros_like(self.data)
        else:
            self.grad[...] = 0.0

    def to(self, backend, *, device=None, dtype=None):
        """Move data and gradient to `backend` (a name or Backend), casting to its dtype."""
        target = resolve_backend(backend, device=device, dtype=dtype)
        self.data = target.asarray(self.data)
        self.grad = target.asarray(self.grad)
        return self

    def __repr__(self):
        flag = "" if self.trainable else ", frozen"
        return f"Parameter({self.name or '?'}, shape={self.shape}{flag})"


class Buffer(_Owned):
    """An array a layer keeps but does not train: saved, loaded and moved, never optimized.

    Parameters
    ----------
    data : array
        The values, on the device where the layer computes. Floating buffers take the target's
        dtype when moved; integer and boolean ones (counts, masks) keep theirs.
    name : str
        The attribute name inside the layer (set by the layer when it is assigned).

    Examples
    --------
    >>> import numpy as np, tinyml
    >>> running_mean = tinyml.Buffer(tinyml.asarray(np.zeros(4)))
    >>> running_mean.shape
    (4,)
    """

    def __repr__(self):
        return f"Buffer({self.name or '?'}, shape={self.shape})"
