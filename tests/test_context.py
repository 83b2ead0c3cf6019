"""The current backend and random streams are per thread and per asyncio task, over a process
default; snapshot and restore put them back."""

import asyncio
import threading

import numpy as np
import pytest

import tinyml
from tinyml.backend import current_streams, make_backend, restore, snapshot, to_numpy

STRICT1 = make_backend("array_api_strict", device="device1", dtype="float64")
STRICT2 = make_backend("array_api_strict", device="device2", dtype="float64")


def run_in_threads(*targets):
    """Run each target in its own thread, all started together; re-raise the first failure."""
    errors = []

    def guarded(target):
        try:
            target()
        except BaseException as error:  # handed to the main thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def test_threads_with_different_backends_do_not_interfere():
    main = tinyml.set_backend("numpy")
    both_inside = threading.Barrier(2)
    seen = {}

    def worker(name, backend):
        def target():
            with tinyml.use_backend(backend):
                both_inside.wait(timeout=30)  # each is inside its block while the other looks
                seen[name] = tinyml.get_backend()
                both_inside.wait(timeout=30)
        return target

    run_in_threads(worker("one", STRICT1), worker("two", STRICT2))
    assert seen == {"one": STRICT1, "two": STRICT2}
    assert tinyml.get_backend() is main


def test_a_new_thread_sees_the_process_default_not_the_callers_block():
    default = tinyml.set_backend("array_api_strict", device="device1", dtype="float64")
    seen = []
    with tinyml.use_backend("numpy"):
        run_in_threads(lambda: seen.append(tinyml.get_backend()))
    assert seen == [default]


def test_set_backend_in_a_thread_moves_the_default_but_not_a_context_that_chose():
    mine = tinyml.set_backend("numpy")
    run_in_threads(lambda: tinyml.set_backend(STRICT2))
    seen = []
    run_in_threads(lambda: seen.append(tinyml.get_backend()))
    assert tinyml.get_backend() is mine and seen == [STRICT2]


class Rendezvous:
    """An asyncio barrier for `parties` tasks (asyncio.Barrier is new in Python 3.11)."""

    def __init__(self, parties):
        self.parties, self.arrived, self.everyone = parties, 0, asyncio.Event()

    async def meet(self):
        self.arrived += 1
        if self.arrived == self.parties:
            self.everyone.set()
        await self.everyone.wait()


def test_asyncio_tasks_keep_their_own_backends():
    async def task(backend, inside, looked):
        with tinyml.use_backend(backend):
            await inside.meet()  # both tasks are inside their blocks
            seen = tinyml.get_backend()
            await looked.meet()  # neither leaves before both looked
            return seen

    async def both():
        inside, looked = Rendezvous(2), Rendezvous(2)
        return await asyncio.gather(task(STRICT1, inside, looked), task(STRICT2, inside, looked))

    before = tinyml.set_backend("numpy")
    assert asyncio.run(both()) == [STRICT1, STRICT2]
    assert tinyml.get_backend() is before


def test_use_seed_in_a_thread_leaves_the_callers_stream():
    backend = tinyml.set_backend("numpy", dtype="float64")
    tinyml.seed(3)
    first = to_numpy(backend.uniform((4,)))
    run_in_threads(lambda: _draw_under_seed(backend, 99))
    tinyml.seed(3)
    np.testing.assert_array_equal(first, to_numpy(backend.uniform((4,))))
    assert current_streams().seed == 3


def _draw_under_seed(backend, n):
    with tinyml.use_seed(n):
        backend.uniform((4,))


def test_snapshot_and_restore_round_trip_backend_and_generator_state():
    chosen = tinyml.set_backend("array_api_strict", device="device1", dtype="float64")
    tinyml.seed(5, rank=1)
    chosen.uniform((3,))
    saved = snapshot()
    expected = to_numpy(chosen.uniform((3,)))
    tinyml.set_backend("numpy")
    tinyml.seed(9)
    for _ in range(2):  # a snapshot can be restored more than once
        restore(saved)
        assert tinyml.get_backend() is chosen
        assert (current_streams().seed, current_streams().rank) == (5, 1)
        np.testing.assert_array_equal(to_numpy(chosen.uniform((3,))), expected)


def test_restore_refuses_anything_but_a_snapshot():
    with pytest.raises(TypeError, match=r"restore expects what tinyml.backend.snapshot\(\) "
                                        r"returned; got dict"):
        restore({"backend": None})


def test_reset_forgets_every_choice(monkeypatch):
    monkeypatch.delenv("TINYML_BACKEND", raising=False)
    tinyml.set_backend(STRICT1)
    tinyml.seed(4, rank=2)
    tinyml.backend.reset()
    assert tinyml.get_backend() == make_backend("numpy")
    assert (current_streams().seed, current_streams().rank) == (None, 0)
