"""The random streams a check runs in: every forward of a check inside ``seeded(random_seed)``.

So a random layer (Dropout) draws the same mask in every forward of one check, and the
caller's own streams come back untouched afterwards (``tinyml.use_seed``).
"""

from ..backend import use_seed


def seeded(n):
    """Fresh streams from seed `n` (rank 0) for a block; the caller's are put back after."""
    return use_seed(n, rank=0)
