"""Host-side data: datasets, IDX files and a DataLoader. Never device code."""

from .digits import load_digits
from .idx import load_idx, save_idx

__all__ = ["load_digits", "load_idx", "save_idx"]
