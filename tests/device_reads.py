"""Counting reads of device values, for tests that a computation never makes a GPU wait.

Every float()/bool()/int()/item()/numpy()/tolist() of a device array is such a wait. torch
tensors let a test watch them: :func:`watch_torch_reads` patches those methods to record each
call (the monkeypatch undoes it after the test).
"""

import pytest

READ_METHODS = ("__float__", "__bool__", "__int__", "__index__", "item", "numpy", "tolist")


def watch_torch_reads(monkeypatch):
    """The list that each read of a torch tensor's value appends its method's name to from now
    on; skips the test where torch is not installed."""
    torch = pytest.importorskip("torch")
    reads = []
    for method in READ_METHODS:
        original = getattr(torch.Tensor, method)

        def counting(self, *args, _original=original, _method=method, **kwargs):
            reads.append(_method)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, method, counting)
    return reads
