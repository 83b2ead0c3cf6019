"""What the layers hold, tracked: a counter that changes whenever some layer may now hold other
parameters, buffers or sub-layers, so that a walk of a net (the training step's) can be kept
while the counter stands still.
"""


_structure = [0]  # how many times any layer may have changed what it holds


def structure_changed():
    """Note that some layer may now hold other parameters, buffers or sub-layers.

    Assigning a public attribute that is not a plain value (or replaced one that was not),
    deleting an attribute, ``Net.add``, ``set_params`` and an edit of a container's
    :class:`LayerList` call it; code that changes what a layer holds behind the layer's back
    (``vars(layer)[...] = ...``, a plain list of its own) calls it too, so that cached walks
    (the training step's) see the change.
    """
    _structure[0] += 1


class LayerList(list):
    """The list a container holds its layers in: an in-place edit (``append``, ``del``,
    ``layers[i] = ...``, ...) counts as a change of what the container holds
    (:func:`structure_changed`), so that a cached walk of the net (the training step's) sees
    a layer added or removed behind the container's back."""


def _changing(method):
    def edit(self, *args, **kwargs):
        result = method(self, *args, **kwargs)
        structure_changed()
        return result
    edit.__name__, edit.__doc__ = method.__name__, method.__doc__
    return edit


for _edit in ("append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse",
              "__setitem__", "__delitem__", "__iadd__", "__imul__"):
    setattr(LayerList, _edit, _changing(getattr(list, _edit)))


def structure_version():
    """A number that changes whenever :func:`structure_changed` is called: equal numbers mean
    that every layer still holds what it held (the training step caches its walk of the net
    on it)."""
    return _structure[0]
