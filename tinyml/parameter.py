"""Parameter: an array the optimizer updates, and the gradient of the loss with respect to it."""

from .backend import array_namespace, resolve_backend


class Parameter:
    """A trainable array (`data`) and the gradient of the loss with respect to it (`grad`).

    Layers create them as plain attributes (``self.weight = Parameter(...)``); the layer finds
    them in definition order and the net names them ``"{layer.name}.{attribute}"``.

    Parameters
    ----------
    data : array
        The values, on the device where the layer computes.
    name : str
        The attribute name inside the layer (set by the layer when it collects parameters).
    trainable : bool
        False freezes the parameter: the optimizer skips it.

    Notes
    -----
    ``grad`` starts at zero and layers ADD into it in ``backward``; zeroing it between steps is
    the training loop's job (``net.zero_grad()``).
    """

    def __init__(self, data, name="", trainable=True):
        array_namespace(data, names=["parameter data"])
        self.data = data
        self.name = name
        self.trainable = bool(trainable)
        self.grad = None
        self.zero_grad()

    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def size(self):
        size = 1
        for extent in self.shape:
            size *= extent
        return size

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

