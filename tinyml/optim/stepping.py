"""One optimizer step: walk the parameters, settle the lr, the decays and the clipping factor,
then update each trainable parameter."""

from collections.abc import Mapping


class OptimizerStep:
    """The part of :class:`~tinyml.optim.Optimizer` that walks the parameters at each step."""

    # ---------------------------------------------------------------- stepping
    def step(self, parameters):
        """Update every trainable parameter from its ``grad``; frozen ones are skipped.

        Parameters
        ----------
        parameters : mapping or iterable
            ``{name: Parameter}`` as ``net.named_parameters()`` gives (the names key the
            state), or Parameters, keyed then by their ``name``.

        A parameter that moved (``net.to(...)``: another library, device or dtype) since its
        state was made takes its state along here. Nothing is updated unless every parameter
        can be: the scheduler's lr, the decay filter's answers and the clipping factor are all
        settled first.
        """
        named = self._named(parameters)
        if self._loaded:
            self._check_loaded(named)
        ready = []
        for name, parameter in named.items():
            trainable = getattr(parameter, "trainable", None)
            if trainable is None:
                raise TypeError(self._not_a_parameter(parameter, name))
            if trainable:
                ready.append((name, parameter, *self._place(name, parameter)))
        if self._scheduler is not None:
            self._lr = self._scheduled_lr(self.step_count + 1)
        decays = self._decays(ready)
        factor = self._clip_factor(ready) if self._clip_norm is not None and ready else None
        for _, _, state, _ in ready:
            state["step"] += 1
        for xp, group in _by_namespace(ready, decays):
            datas = [parameter.data for _, parameter, _, _ in group]
            grads = [parameter.grad if factor is None else parameter.grad * factor
                     for _, parameter, _, _ in group]
            states = [state for _, _, state, _ in group]
            self.update_all(datas, grads, states, xp=xp,
                            weight_decays=[decay for *_, decay in group])
        self.step_count += 1

    def update_all(self, datas, grads, states, *, xp, weight_decays):
        """Update several parameters of one library in place: :meth:`update` on each, unless a
        subclass does them together (SGD's multi-tensor step on the torch backend).

        `weight_decays` holds each parameter's decay, or None for an optimizer without that
        hyperparameter (``update`` is then called without ``weight_decay``).
        """
        for data, grad, state, weight_decay in zip(datas, grads, states, weight_decays,
                                                   strict=True):
            if weight_decay is None:
                self.update(data, grad, state, xp=xp)
            else:
                self.update(data, grad, state, xp=xp, weight_decay=weight_decay)

    def _named(self, parameters):
        if isinstance(parameters, Mapping):
            return parameters
        if hasattr(parameters, "trainable"):
            raise TypeError(f"{self._name}.step takes several parameters; got one "
                            f"({parameters!r}). Pass [parameter] or net.named_parameters().")
        named = {}
        for parameter in parameters:
            name = getattr(parameter, "name", None)
            if name is None:
                raise TypeError(self._not_a_parameter(parameter))
            if name in named:
                raise ValueError(
                    f"{self._name}.step: two parameters are both named {name!r}, and names key "
                    "the optimizer state. Pass net.named_parameters() (a dict of unique names) "
                    "instead of a list of parameters."
                )
            named[name] = parameter
        return named

    def _not_a_parameter(self, value, name=None):
        label = "" if name is None else f" for {name!r}"
        return (f"{self._name}.step expects Parameters (with data, grad, trainable, name); "
                f"got {type(value).__name__}{label}. Pass net.named_parameters().")

    def _check_loaded(self, named):
        unknown = sorted(name for name in self._loaded if name not in named)
        if unknown:
            raise ValueError(
                f"{self._name}.step: the state loaded with load_state_dict has entries for "
                f"parameters this step did not get: {unknown}; it got {sorted(named)}. Load the "
                "state saved from an optimizer of this net, and pass net.named_parameters()."
            )
        self._loaded = ()



def _by_namespace(ready, decays):
    """[(xp, [(name, parameter, state, weight_decay), ...])]: the ready parameters grouped by
    namespace, in order (one group unless a net spans libraries)."""
    groups = {}
    for (name, parameter, state, xp), decay in zip(ready, decays, strict=True):
        groups.setdefault(id(xp), (xp, []))[1].append((name, parameter, state, decay))
    return list(groups.values())
