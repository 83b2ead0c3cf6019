"""Moving state: each parameter's state arrays live beside the parameter, and follow it when
it moves to another library, device or dtype."""

from ..backend import (
    array_namespace,
    backend_of,
    device_of,
    is_floating,
    namespace_name,
    resolve_backend,
)


class OptimizerPlacement:
    """The part of :class:`~tinyml.optim.Optimizer` that keeps each state beside its
    parameter."""

    def _place(self, name, parameter):
        """(state, xp) of `parameter`, its state beside its data; cheap when nothing changed."""
        data, grad = parameter.data, parameter.grad
        seen = self._placed.get(name)
        if seen is not None and seen[0] is data and seen[1] is grad:
            return self.state[name], seen[2]
        xp = array_namespace(data, grad, names=["data", "grad"],
                             where=f"{self._name} on parameter '{name}'")
        state = self.state.get(name)
        if state is None:
            state = {"step": 0, **self.init_state(data, xp=xp)}
        else:
            state = {key: value if key == "step" else self._beside(value, data, name, key)
                     for key, value in state.items()}
        self.state[name] = state
        self._placed[name] = (data, grad, xp)
        return state, xp

    def _beside(self, value, data, name, key):
        """State array `value` on `data`'s library, device and (floating) dtype."""
        if tuple(value.shape) != tuple(data.shape):
            raise ValueError(
                f"{self._name}: state {key!r} of parameter {name!r} has shape "
                f"{tuple(value.shape)} but the parameter has {tuple(data.shape)}. The loaded "
                "state comes from another net: load the optimizer state saved with these weights."
            )
        same = namespace_name(value) == namespace_name(data) and \
            device_of(value) == device_of(data) and \
            (value.dtype == data.dtype or not is_floating(value))
        return value if same else backend_of(data).asarray(value)

    # ---------------------------------------------------------------- moving
    def to(self, backend, *, device=None, dtype=None):
        """Move every state array to `backend` (a name or Backend); returns self.

        Optional: at the next step the state follows its parameter wherever it is.
        """
        target = resolve_backend(backend, device=device, dtype=dtype)
        self.state = {
            name: {key: value if key == "step" else target.asarray(value)
                   for key, value in state.items()}
            for name, state in self.state.items()
        }
        self._placed = {}
        return self

