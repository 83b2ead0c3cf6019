"""The random streams a check runs in: every forward of a check inside ``seeded(random_seed)``.

So a random layer (Dropout) draws the same mask in every forward of one check, and, with
``tinyml.backend.seeded``, the caller's own streams come back untouched afterwards.
"""

import contextlib

from .. import backend as _backend


def seeded(n):
    """``tinyml.backend.seeded(n)`` when the backend has it, else the fallback below.

    Looked up on every call, not at import, so the real one is used as soon as it exists.
    """
    real = getattr(_backend, "seeded", None)
    return real(n) if real is not None else _reseed_only(n)


# ------------------------------------------------------------------------------------ FALLBACK
# Until tinyml.backend.seeded lands (another branch is adding it), this stands in for it.
# Delete it then. The public API can set a seed (tinyml.seed) but cannot read the caller's seed
# or the positions of its streams, so the fallback cannot put them back: it gives the block
# fresh streams from `n`, and after a check the streams are those of seed `n` run on.
@contextlib.contextmanager
def _reseed_only(n):
    _backend.seed(n)
    yield
