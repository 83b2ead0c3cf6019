"""Backend operations: one portable implementation, native ones per array library.

An :class:`Operation` is called like a function. It asks its first argument for its library
(the cached lookup of ``_host``), then runs the native implementation registered for that
library, or the portable one when there is none or when the portable path is forced.
"""

import contextlib
import contextvars
import os

from .._host import lookup

PORTABLE_ENV_VAR = "TINYML_PORTABLE_OPS"

_forced = contextvars.ContextVar("tinyml_portable_ops", default=None)
_env = {}  # "portable": the parsed value of $TINYML_PORTABLE_OPS, read on first use


@contextlib.contextmanager
def portable_ops(enabled=True):
    """``with tinyml.backend.portable_ops():`` runs every backend operation on its portable path.

    The setting lives in a ``contextvars.ContextVar``: it holds for this thread (or asyncio
    task) inside the block, never for another one. ``portable_ops(False)`` turns natives back
    on inside the block, even where ``TINYML_PORTABLE_OPS=1`` forces the portable path.
    """
    token = _forced.set(bool(enabled))
    try:
        yield
    finally:
        _forced.reset(token)


def portable_forced():
    """True when operations run their portable path here: inside ``portable_ops()``, or,
    outside any such block, when the environment variable ``TINYML_PORTABLE_OPS`` is 1."""
    forced = _forced.get()
    if forced is None:
        forced = _env.get("portable")
        if forced is None:
            forced = _env["portable"] = _read_env()
    return forced


def _read_env():
    raw = os.environ.get(PORTABLE_ENV_VAR, "").strip()
    if raw in ("", "0"):
        return False
    if raw == "1":
        return True
    raise ValueError(
        f"{PORTABLE_ENV_VAR}={raw!r}: expected 1 (run every backend operation on its portable "
        "path) or 0. Set it to 1 or 0, or unset it."
    )


class Operation:
    """A named operation with one portable implementation and native ones per library.

    Parameters
    ----------
    name : str
    portable : callable
        The implementation in standard Array API calls only. Every implementation takes the
        operation's arguments plus a keyword ``xp``, the namespace of the first argument.
    check : callable, optional
        Called with the operation's arguments before any implementation; raises on bad input.

    Natives are added with :meth:`register` under a library name as
    :func:`tinyml.backend.namespace_name` spells it (``"numpy"``, ``"torch"``, ``"cupy"``).
    A native may import its library inside its body, and may hand inputs it does not cover
    (an integer dtype, say) to ``operation.portable``.
    """

    def __init__(self, name, portable, *, check=None):
        self.name = self.__name__ = name
        self.portable = portable
        self.natives = {}
        self._check = check
        self.__doc__ = portable.__doc__

    def __repr__(self):
        natives = ", ".join(sorted(self.natives)) or "none"
        return f"<backend operation {self.name!r}; natives: {natives}>"

    def register(self, library):
        """Decorator: register the decorated function as the native for `library`."""
        def decorator(function):
            self.natives[library] = function
            return function
        return decorator

    def implementation_for(self, x):
        """Which implementation a call on array `x` (or a library name) runs right now:
        ``"portable"``, or the library name of the native."""
        library = x if isinstance(x, str) else self._library_of(x)[0]
        if portable_forced() or library not in self.natives:
            return "portable"
        return library

    def __call__(self, *args, **kwargs):
        try:  # the lookup inline: this runs in every conv forward and backward
            library, xp = lookup(args[0])
        except (IndexError, TypeError):
            raise self._not_an_array(args[0] if args else None) from None
        if self._check is not None:
            self._check(*args, **kwargs)
        if kwargs.get("xp") is None:
            kwargs["xp"] = xp
        native = self.natives.get(library)
        if native is None or portable_forced():
            return self.portable(*args, **kwargs)
        return native(*args, **kwargs)

    def _library_of(self, x):
        try:
            return lookup(x)
        except TypeError:
            raise self._not_an_array(x) from None

    def _not_an_array(self, x):
        return TypeError(
            f"{self.name} expects an array as its first argument; got {type(x).__name__}. "
            "Put data on the backend with tinyml.asarray(...)."
        )
