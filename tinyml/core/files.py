"""Nets from files: :func:`load_net` rebuilds a net from a file of ``net.save`` (or a training
checkpoint) alone, and :func:`build_from_saved` builds a net that has not learnt its input
shape for the one a file records."""

import contextlib
import math

from .. import io
from ..backend import AllocationRefused, allocation_budget, use_backend, use_seed
from .net import Net


def build_from_saved(net, path):
    """Build `net` for the input shape that the config stored in `path` records (a file of
    ``net.save`` or a training checkpoint); a RuntimeError when it records none."""
    config = io.load_json(path, io.CONFIG_KEY) or {}
    shape = config.get("hyperparameters", {}).get("input_shape")
    if not shape:
        raise RuntimeError(f"{net.describe()} is not built yet (some layers left out their "
                           f"input size), and {path} does not record the input shape. Build "
                           "it first: net.build(input_shape), one sample's shape.")
    net.build(tuple(shape))


def load_net(path, *, backend=None):
    """The net saved at `path` by ``net.save``, rebuilt from the file alone, trained weights in.

    The architecture comes from the config stored in the file (see :meth:`Net.save`); the
    layers' classes must be tinyml's or registered (:func:`tinyml.register_layer`). Building
    draws no random numbers from the caller's streams. The net comes back in training mode,
    as a newly built one; call ``eval()`` to predict. `path` may also be a training
    checkpoint (``learner.save_checkpoint``): the net is read out of it. ``net.metadata`` is
    what the file stored (``{}`` if nothing).

    Parameters
    ----------
    path : str or os.PathLike
    backend : str or Backend, optional
        Where the net lives, as ``tinyml.use_backend(backend)`` would make it current (a name
        such as ``"cupy"``, or a Backend); the current backend by default.

    Raises
    ------
    FileNotFoundError
        If there is no file at `path`.
    ValueError
        If the file holds weights only (build the net in code and call ``net.load(path)``),
        its config is damaged, names an unknown class or does not describe the weights stored
        beside it, or it is not a weights file; the message names the file.

    Notes
    -----
    The stored config is not trusted further than the weights beside it: the file's headers
    are read first (no data), and the net is built within what they hold, so no array larger
    than what is left of the stored values is allocated, and no more parameters and buffers
    are made than are stored (:func:`tinyml.backend.allocation_budget`); layers may nest at
    most ``tinyml.core.config.MAX_DEPTH`` deep. Then the weights' names and shapes are
    checked against the net built, and only then is their data read.
    """
    headers = io.state_headers(path)
    prefix = io.weights_prefix(list(headers))
    config = io.load_json(path, io.CONFIG_KEY)
    if config is None:
        what = ("is a training checkpoint written without the net's architecture (its net "
                "could not describe itself, or an older tinyml wrote it)" if prefix else
                "holds weights only, no architecture (saved with config=False, by an older "
                "tinyml or by another program)")
        raise ValueError(f"{path} {what}, so load_net cannot rebuild the net. Build the net in "
                         f"code and call net.load({str(path)!r}).")
    # The stored config is trusted no further than the weights beside it: the net is built
    # within what the headers say is stored (no data read yet).
    weights = {name: header for name, header in headers.items()
               if name.startswith(prefix) and name not in io.RESERVED_KEYS}
    stored = sum(math.prod(header.shape) * header.dtype.itemsize for header in weights.values())
    if stored > io.MAX_BYTES:
        raise ValueError(f"{path} holds {stored:,} bytes of weights, more than the "
                         f"{io.MAX_BYTES:,} load_net reads; build the net in code and call "
                         f"net.load({str(path)!r}), which checks the shapes against it.")
    place = contextlib.nullcontext() if backend is None else use_backend(backend)
    budget = allocation_budget(sum(math.prod(header.shape) for header in weights.values()),
                               len(weights))
    try:
        with place, use_seed(0), budget:
            net = Net.from_config(config)
    except (TypeError, ValueError, AllocationRefused) as error:
        raise ValueError(f"{path}: the architecture stored in it cannot be built: {error}. "
                         "The file is damaged or was not written by net.save; build the net in "
                         f"code and call net.load({str(path)!r}).") from None
    if not net.built:
        raise ValueError(f"{path} records a net whose input shape is unknown (it was saved "
                         "before it was built); build the net in code and call "
                         f"net.load({str(path)!r}) after net.build(input_shape).")
    state = io.load_state(path, expected={key: tuple(value.shape) for key, value in
                                          net.state_dict().items()},
                          max_bytes=None, prefix=prefix)
    net.load_state_dict(state, strict=True)
    net.metadata = io.load_json(path, io.METADATA_KEY) or {}
    return net
