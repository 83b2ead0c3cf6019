"""Training checkpoints: everything a run needs to go on exactly where it stopped.

One ``.npz`` written by :func:`tinyml.io.save_state` (a temporary file, then an atomic rename:
a kill mid-write leaves the previous checkpoint whole) and read without pickle:

- ``net/KEY``: the net's parameters and buffers (``net.state_dict()`` keys);
- ``optimizer/NAME/KEY``: the optimizer's per-parameter arrays (momentum, Adam's moments);
- ``__checkpoint__``: UTF-8 JSON (a uint8 array) with the format version, the epochs and steps
  done, the optimizer's step count, lr, hyperparameters and pending loss report, the
  scheduler's state, the random streams' states and the history.

Resuming on NumPy (or any host backend) repeats an uninterrupted run bit for bit: the same
weights, optimizer state, shuffles and dropout masks. On CuPy the GPU generator's state cannot
be saved (curand exports none), so dropout masks differ after a resume; shuffles do not.
Callbacks keep no state in a checkpoint (an EarlyStopping's patience starts again).
"""

import json
import math

from ..backend import array_namespace, load_streams_state, streams_state
from ..io import MAX_BYTES, decode_config, encode_config, load_state, save_state, state_headers
from .checkpoint_fields import Checked

FORMAT = "tinyml-checkpoint"
VERSION = 1
META_KEY = "__checkpoint__"


def save_checkpoint(learner, path):
    """Write `learner`'s whole training state to `path` (see the module docstring)."""
    optimizer = learner.optimizer
    if not callable(getattr(optimizer, "state_dict", None)):
        raise TypeError(f"save_checkpoint: the optimizer {type(optimizer).__name__} has no "
                        "state_dict(), so its state cannot be saved; use a tinyml.optim "
                        "optimizer, or save the weights only with net.save(path)")
    arrays = {f"net/{key}": value for key, value in learner.net.state_dict().items()}
    state = optimizer.state_dict()
    steps = {}
    for name, entry in state["state"].items():
        steps[name] = entry["step"]
        arrays.update((f"optimizer/{name}/{key}", value)
                      for key, value in entry.items() if key != "step")
    scheduler = getattr(optimizer, "scheduler", None)
    meta = {
        "format": FORMAT, "version": VERSION,
        "epoch": learner.epoch, "step": learner.step,
        "optimizer": {"type": state["type"], "step": state["step"], "lr": state["lr"],
                      "hyperparameters": _plain(state["hyperparameters"]),
                      "parameter_steps": steps,
                      "reported_loss": getattr(optimizer, "reported_loss", None),
                      "unseen_loss": getattr(optimizer, "_unseen_loss", None)},
        "scheduler": _plain(scheduler.state_dict()) if callable(
            getattr(scheduler, "state_dict", None)) else None,
        "streams": streams_state(),
        "history": {"values": dict(learner.history), "epoch": learner.history.epoch},
    }
    arrays[META_KEY] = encode_config(meta)
    save_state(arrays, path)


def load_checkpoint(learner, path):
    """Put `learner` back where :func:`save_checkpoint` left it: all of it, or nothing.

    The file's names and shapes are checked against the net from the headers before any data
    is read (so what is read is bounded by the net, however long the run's history grows),
    then every field of its JSON member (:mod:`tinyml.train.checkpoint_fields`), then the
    optimizer's and the scheduler's states as they load; a refusal at any point puts back the
    weights, the optimizer and the scheduler as they were.

    Raises
    ------
    FileNotFoundError
        No file at `path`.
    ValueError
        Not a checkpoint (``net.save``'s weights file is not one), damaged, or for another
        net or optimizer: the message says which. Nothing has changed then.
    """
    net, optimizer = learner.net, learner.optimizer
    expected = _expected_shapes(state_headers(path), net, path)
    arrays = load_state(path, expected=expected, max_bytes=None)  # bounded by the checks
    meta = Checked(_meta(arrays, path), path)
    weights = {key[len("net/"):]: value for key, value in arrays.items()
               if key.startswith("net/")}
    optimizer_state = _optimizer_state(meta.optimizer, arrays, path)
    scheduler = getattr(optimizer, "scheduler", None)
    loads_scheduler = meta.scheduler is not None and callable(
        getattr(scheduler, "load_state_dict", None))
    before = {key: array_namespace(value).asarray(value, copy=True)  # on the device
              for key, value in net.state_dict().items()}
    optimizer_before = optimizer.state_dict()
    scheduler_before = scheduler.state_dict() if loads_scheduler else None
    try:
        net.load_state_dict(weights)
        optimizer.load_state_dict(optimizer_state)
        if loads_scheduler:
            scheduler.load_state_dict(meta.scheduler)
    except (TypeError, ValueError, KeyError) as error:
        net.load_state_dict(before)
        optimizer.load_state_dict(optimizer_before)
        if loads_scheduler:
            scheduler.load_state_dict(scheduler_before)
        raise ValueError(f"{path}: this checkpoint does not fit the learner: {error}") from None
    load_streams_state(meta.streams)
    optimizer.reported_loss = meta.optimizer["reported_loss"]
    optimizer._unseen_loss = meta.optimizer["unseen_loss"]
    learner.epoch, learner.step = meta.epoch, meta.step
    learner.history = meta.history


def _expected_shapes(headers, net, path):
    """{member: shape} to read, after checking the members' names and shapes against the net
    (from the headers, before any data is read): ``net/KEY`` as the net's own, each
    ``optimizer/NAME/KEY`` no larger than parameter NAME, and the description one byte
    string."""
    if META_KEY not in headers:
        raise ValueError(f"{path} is not a training checkpoint (it has no {META_KEY!r} member; "
                         "net.save writes weights only): load it with net.load(path), or "
                         "write checkpoints with learner.save_checkpoint(path)")
    description = headers[META_KEY]
    if str(description.dtype) != "uint8" or len(description.shape) != 1 or \
            description.shape[0] > MAX_BYTES:
        raise ValueError(f"{path}: the {META_KEY!r} member should be a 1-D uint8 array of "
                         f"UTF-8 JSON of at most {MAX_BYTES:,} bytes; it is "
                         f"{description.dtype} of shape {description.shape}. The file is "
                         "damaged: resume from another checkpoint.")
    owned = {key: tuple(value.shape) for key, value in net.state_dict().items()}
    sizes = {name: math.prod(parameter.shape)
             for name, parameter in net.named_parameters().items()}
    expected, problems = {META_KEY: description.shape}, []
    for name, header in headers.items():
        if name.startswith("net/") and name[len("net/"):] in owned:
            key = name[len("net/"):]
            if header.shape != owned[key]:
                problems.append(f"{key}: checkpoint {header.shape}, net {owned[key]}")
            expected[name] = owned[key]
        elif name.startswith("optimizer/"):
            parameter = name[len("optimizer/"):].rpartition("/")[0]
            if parameter not in sizes:
                problems.append(f"optimizer state for {parameter!r}, which the net has no "
                                "parameter of")
            elif math.prod(header.shape) > max(1, sizes[parameter]):
                problems.append(f"{name}: {header.shape}, larger than its parameter")
            expected[name] = header.shape
        elif name != META_KEY:
            problems.append(f"unexpected member {name!r}")
    missing = [key for key in owned if f"net/{key}" not in headers]
    if missing:
        problems.insert(0, f"missing keys: {', '.join(missing)}")
    if problems:
        raise ValueError(f"{path}: this checkpoint does not fit the learner, so nothing was "
                         f"read: {'; '.join(problems)}. Resume with the net and optimizer that "
                         "wrote it.")
    return expected


def _meta(arrays, path):
    meta = decode_config(arrays.pop(META_KEY), path)
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise ValueError(f"{path}: not a version-{VERSION} tinyml checkpoint (format "
                         f"{meta.get('format')!r}, version {meta.get('version')!r})")
    return meta


def _optimizer_state(saved, arrays, path):
    """The dict ``optimizer.load_state_dict`` takes, from the JSON part and the arrays."""
    try:
        state = {name: {"step": step} for name, step in saved["parameter_steps"].items()}
        for key, value in arrays.items():
            if key.startswith("optimizer/"):
                name, _, array_key = key[len("optimizer/"):].rpartition("/")
                state[name][array_key] = value
        return {"type": saved["type"], "step": saved["step"], "lr": saved["lr"],
                "hyperparameters": saved["hyperparameters"], "state": state}
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"{path}: the optimizer's part of the checkpoint is damaged "
                         f"({error!r})") from None


def _plain(value):
    """`value` through JSON and back (tuples become lists), so what is saved is what loads."""
    return json.loads(json.dumps(value))
