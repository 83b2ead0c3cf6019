"""Host-side data: datasets and the batching the Learner uses. Never device code."""

from .digits import load_digits

__all__ = ["load_digits"]
