"""Learning-rate schedules: each formula at chosen steps (arithmetic done here, independently),
the loss-driven ones on loss sequences, state round trips, and every bad argument."""

import json
import math

import numpy as np
import pytest

import tinyml
from tinyml.optim import schedules
from tinyml.optim.schedules import (
    ConstantScheduler,
    CosineScheduler,
    ExponentialScheduler,
    KingScheduler,
    NoamScheduler,
    ReduceOnPlateau,
    StepScheduler,
)

EXAMPLES = [
    ConstantScheduler(0.1),
    ExponentialScheduler(0.01, stage_length=500, staircase=False, decay=0.1),
    ExponentialScheduler(0.01, stage_length=500, staircase=True, decay=0.1),
    KingScheduler(0.01, patience=1000, decay=0.99),
    NoamScheduler(512, scale_factor=1.0, warmup_steps=4000),
    StepScheduler(0.1, 10, gamma=0.1),
    CosineScheduler(0.1, 100, warmup_steps=10, min_lr=0.0),
    ReduceOnPlateau(0.1, factor=0.1, patience=10),
]


def approx(value):
    return pytest.approx(value, rel=1e-12, abs=0.0)


# ---------------------------------------------------------------- pure schedules
def test_constant_is_its_rate_at_every_step_and_loss():
    schedule = ConstantScheduler(0.25)
    assert [schedule.learning_rate(step) for step in (0, 1, 7, 10**6)] == [0.25] * 4
    assert schedule.learning_rate(3, cur_loss=12.0) == 0.25


def test_exponential_decays_smoothly_by_decay_per_stage():
    schedule = ExponentialScheduler(0.01, stage_length=500, decay=0.1)
    assert schedule.learning_rate(0) == 0.01
    assert schedule.learning_rate(500) == approx(0.001)
    assert schedule.learning_rate(1000) == approx(0.0001)
    assert schedule.learning_rate(250) == approx(0.01 * math.sqrt(0.1))
    assert schedule.learning_rate(1) == approx(0.01 * math.exp(math.log(0.1) / 500))


def test_exponential_staircase_drops_at_each_stage_length():
    schedule = ExponentialScheduler(0.01, stage_length=500, staircase=True, decay=0.1)
    assert {schedule.learning_rate(step) for step in range(0, 500)} == {0.01}
    assert schedule.learning_rate(500) == approx(0.001)
    assert schedule.learning_rate(999) == approx(0.001)
    assert schedule.learning_rate(1000) == approx(0.0001)


def test_step_multiplies_by_gamma_every_step_size():
    schedule = StepScheduler(0.1, 10, gamma=0.5)
    assert {schedule.learning_rate(step) for step in range(10)} == {0.1}
    assert schedule.learning_rate(10) == approx(0.05)
    assert schedule.learning_rate(19) == approx(0.05)
    assert schedule.learning_rate(25) == approx(0.025)


def test_noam_follows_its_formula_and_peaks_at_warmup_steps():
    schedule = NoamScheduler(512, scale_factor=2.0, warmup_steps=400)
    peak = 2.0 / math.sqrt(512 * 400)
    assert schedule.learning_rate(400) == approx(peak)
    assert schedule.learning_rate(1) == approx(2.0 / math.sqrt(512) / 400**1.5)
    assert schedule.learning_rate(100) == approx(peak / 4)  # linear warm-up: a quarter way
    assert schedule.learning_rate(1600) == approx(peak / 2)  # 1/sqrt(step) after
    assert schedule.learning_rate(0) == 0.0
    rates = [schedule.learning_rate(step) for step in range(1, 1201)]
    assert int(np.argmax(rates)) + 1 == 400
    assert all(a < b for a, b in zip(rates[:399], rates[1:400], strict=True))
    assert all(a > b for a, b in zip(rates[399:-1], rates[400:], strict=True))


def test_cosine_warms_up_then_reaches_min_lr_at_total_steps_and_stays():
    schedule = CosineScheduler(0.1, 100, warmup_steps=10, min_lr=0.01)
    assert schedule.learning_rate(0) == 0.0
    assert schedule.learning_rate(1) == approx(0.01)
    assert schedule.learning_rate(5) == approx(0.05)
    assert schedule.learning_rate(10) == approx(0.1)
    assert schedule.learning_rate(55) == approx(0.055)  # halfway down: the mean of the ends
    # 23 of the cosine's 90 steps done: min + (max - min) (1 + cos(pi 23 / 90)) / 2
    assert schedule.learning_rate(33) == approx(0.01 + 0.09 * (1 + math.cos(math.pi * 23 / 90)) / 2)
    assert schedule.learning_rate(100) == approx(0.01)
    assert schedule.learning_rate(101) == 0.01
    assert schedule.learning_rate(10**6) == 0.01


def test_cosine_without_warmup_starts_at_initial_lr():
    schedule = CosineScheduler(0.2, 40)
    assert schedule.learning_rate(0) == 0.2
    assert schedule.learning_rate(20) == approx(0.1)
    assert schedule.learning_rate(40) == 0.0


def test_schedules_return_python_floats_for_any_int_step():
    for schedule in EXAMPLES:
        for step in (0, 1, np.int64(10), 100):
            rate = schedule.learning_rate(step)
            assert type(rate) is float and rate >= 0.0, (schedule, step, rate)


def test_step_and_cosine_match_torch_after_as_many_scheduler_steps():
    torch = pytest.importorskip("torch")
    parameter = [torch.zeros(1, requires_grad=True)]
    cases = [
        (StepScheduler(0.1, 7, gamma=0.3), torch.optim.lr_scheduler.StepLR, dict(step_size=7,
                                                                                  gamma=0.3)),
        (CosineScheduler(0.1, 50, min_lr=0.001), torch.optim.lr_scheduler.CosineAnnealingLR,
         dict(T_max=50, eta_min=0.001)),
    ]
    for ours, torch_class, options in cases:
        theirs = torch_class(torch.optim.SGD(parameter, lr=0.1), **options)
        for step in range(51):
            assert ours.learning_rate(step) == pytest.approx(theirs.get_last_lr()[0], rel=1e-9)
            theirs.optimizer.step()
            theirs.step()


# ---------------------------------------------------------------- ReduceOnPlateau
def test_reduce_on_plateau_reduces_after_patience_bad_reports():
    schedule = ReduceOnPlateau(1.0, factor=0.5, patience=2, threshold=0.0)
    losses = [1.0, 0.9, 0.9, 0.95, 0.91, 0.8, 0.85, 0.85, 0.85, 0.85]
    rates = [schedule.learning_rate(step, loss) for step, loss in enumerate(losses, 1)]
    assert rates == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert (schedule.best, schedule.num_bad) == (0.8, 1)


def test_reduce_on_plateau_counts_only_relative_improvements_beyond_threshold():
    schedule = ReduceOnPlateau(1.0, factor=0.5, patience=0, threshold=0.1)
    assert schedule.learning_rate(1, 1.0) == 1.0
    assert schedule.learning_rate(2, 0.95) == 0.5  # 5 % better is not 10 %
    assert schedule.learning_rate(3, 0.85) == 0.5  # 15 % better than 1.0 is
    assert schedule.best == 0.85


def test_reduce_on_plateau_stops_at_min_lr():
    schedule = ReduceOnPlateau(1.0, factor=0.1, patience=0, min_lr=0.05)
    rates = [schedule.learning_rate(step, 1.0) for step in range(1, 5)]
    assert rates == [1.0, pytest.approx(0.1), 0.05, 0.05]


def test_reduce_on_plateau_without_a_loss_only_reads():
    schedule = ReduceOnPlateau(1.0, factor=0.5, patience=1)
    schedule.learning_rate(1, 1.0)
    schedule.learning_rate(2, 2.0)
    before = schedule.state_dict()
    assert [schedule.learning_rate(step) for step in range(3, 10)] == [1.0] * 7
    assert schedule.state_dict() == before
    assert schedule.learning_rate(10, 2.0) == 0.5


def test_reduce_on_plateau_matches_torch():
    torch = pytest.importorskip("torch")
    losses = np.cumsum(np.random.default_rng(3).normal(0.0, 1.0, 80)) + 100.0
    ours = ReduceOnPlateau(0.1, factor=0.5, patience=3, min_lr=0.001)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=3,
                                                        min_lr=0.001)
    reductions = 0
    for step, loss in enumerate(losses, 1):
        rate = ours.learning_rate(step, float(loss))
        theirs.step(float(loss))
        assert rate == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-12)
        reductions += rate < 0.1
    assert reductions > 0


# ---------------------------------------------------------------- KingScheduler
def p_decreasing(xs, ys):
    """P(slope < 0) of the least-squares line, from NumPy's lstsq and the slope's variance."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    design = np.stack([np.ones_like(xs), xs], axis=1)
    coefficients, residuals, *_ = np.linalg.lstsq(design, ys, rcond=None)
    residual_variance = float(np.sum((ys - design @ coefficients) ** 2)) / (len(xs) - 2)
    slope_variance = residual_variance / np.sum((xs - xs.mean()) ** 2)
    z = -coefficients[1] / math.sqrt(slope_variance + np.finfo(float).eps)
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def without_top_tenth(ys):
    keep = np.sort(np.argsort(ys, kind="stable")[: len(ys) - len(ys) // 10])
    return keep, np.asarray(ys)[keep]


def test_king_decays_a_rising_loss_every_patience_plus_one_reports():
    schedule = KingScheduler(0.8, patience=9, decay=0.5)
    rates = [schedule.learning_rate(step, 1.0 + 0.01 * step) for step in range(1, 31)]
    assert rates[:9] == [0.8] * 9
    assert rates[9:19] == [0.4] * 10  # the 10th report decays; the history starts again
    assert rates[19:29] == [0.2] * 10
    assert rates[29] == 0.1


def test_king_keeps_the_rate_while_the_loss_falls():
    noise = np.random.default_rng(0).normal(0.0, 0.01, 200)
    schedule = KingScheduler(0.8, patience=19, decay=0.5)
    rates = {schedule.learning_rate(step, 2.0 - 0.005 * step + noise[step - 1])
             for step in range(1, 201)}
    assert rates == {0.8}
    assert len(schedule.loss_history) == 20


def test_king_decays_a_flat_loss():
    schedule = KingScheduler(1.0, patience=4, decay=0.9)
    assert [schedule.learning_rate(step, 3.0) for step in range(1, 6)] == [1.0] * 4 + [0.9]


def test_king_robust_check_ignores_a_spike_at_the_end_of_a_descent():
    losses = [1.0 - 0.01 * k for k in range(9)] + [100.0]
    assert p_decreasing(range(10), losses) < 0.51  # the plain fit alone would decay
    schedule = KingScheduler(1.0, patience=9, decay=0.5)
    assert [schedule.learning_rate(step, loss) for step, loss in enumerate(losses, 1)] == [1.0] * 10


def test_king_needs_the_plain_check_too():
    losses = [100.0] + [1.0 + 0.01 * k for k in range(9)]
    keep, kept = without_top_tenth(losses)
    assert p_decreasing(keep, kept) < 0.51  # the robust fit alone would decay
    schedule = KingScheduler(1.0, patience=9, decay=0.5)
    assert [schedule.learning_rate(step, loss) for step, loss in enumerate(losses, 1)] == [1.0] * 10


def test_king_decides_as_both_least_squares_fits_say():
    rng = np.random.default_rng(5)
    outcomes = set()
    for trend in np.linspace(-0.02, 0.02, 21):
        losses = 1.0 + trend * np.arange(20) + rng.normal(0.0, 0.05, 20)
        losses[rng.integers(20)] += 1.0  # one bad minibatch
        keep, kept = without_top_tenth(losses)
        stalled = p_decreasing(range(20), losses) < 0.51 and p_decreasing(keep, kept) < 0.51
        schedule = KingScheduler(1.0, patience=19, decay=0.5)
        rates = [schedule.learning_rate(step, float(loss)) for step, loss in enumerate(losses, 1)]
        assert rates[:-1] == [1.0] * 19
        assert rates[-1] == (0.5 if stalled else 1.0), trend
        outcomes.add(stalled)
    assert outcomes == {True, False}


def test_king_without_a_loss_only_reads():
    schedule = KingScheduler(1.0, patience=2, decay=0.5)
    schedule.learning_rate(1, 1.0)
    assert [schedule.learning_rate(step) for step in range(2, 10)] == [1.0] * 8
    assert schedule.loss_history == [1.0]


def test_loss_driven_schedules_take_numpy_and_backend_scalars(backend):
    for schedule in (KingScheduler(1.0, patience=2), ReduceOnPlateau(1.0)):
        schedule.learning_rate(1, np.float32(1.5))
        schedule.learning_rate(2, tinyml.asarray(np.array(1.25)))
        history = schedule.loss_history if isinstance(schedule, KingScheduler) else [schedule.best]
        assert all(type(value) is float for value in history)


@pytest.mark.parametrize("schedule", [KingScheduler(1.0, patience=2), ReduceOnPlateau(1.0)],
                         ids=["king", "plateau"])
def test_loss_driven_schedules_refuse_bad_losses(schedule):
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match=f"cur_loss is {bad}; a schedule cannot follow a "
                                             "diverged loss"):
            schedule.learning_rate(1, bad)
    for bad in ("0.5", True, [1.0], np.ones(2)):
        with pytest.raises(TypeError, match="cur_loss must be a number .* or None"):
            schedule.learning_rate(1, bad)
    assert schedule.state_dict() == type(schedule)(1.0, patience=2).state_dict()


# ---------------------------------------------------------------- state
def test_king_state_round_trip_resumes_identically():
    losses = np.abs(np.random.default_rng(1).normal(1.0, 0.3, 60)).tolist()
    schedule = KingScheduler(1.0, patience=9, decay=0.5)
    for step, loss in enumerate(losses[:25], 1):
        schedule.learning_rate(step, loss)
    state = json.loads(json.dumps(schedule.state_dict()))  # plain numbers and lists
    twin = KingScheduler(1.0, patience=9, decay=0.5)
    twin.load_state_dict(state)
    assert twin.state_dict() == schedule.state_dict()
    at_load = schedule.current_lr
    for step, loss in enumerate(losses[25:], 26):
        assert twin.learning_rate(step, loss) == schedule.learning_rate(step, loss)
        assert twin.loss_history == schedule.loss_history
    assert 0.0 < schedule.current_lr < at_load < 1.0  # decays before and after the load


def test_reduce_on_plateau_state_round_trip_resumes_identically():
    losses = [1.0, 0.5, 0.6, 0.7, 0.4, 0.45, 0.5, 0.55, 0.6, 0.3]
    schedule = ReduceOnPlateau(1.0, factor=0.5, patience=2)
    fresh_state = schedule.state_dict()
    assert fresh_state == {"type": "ReduceOnPlateau", "current_lr": 1.0, "best": None,
                           "num_bad": 0}
    for step, loss in enumerate(losses[:7], 1):
        schedule.learning_rate(step, loss)
    twin = ReduceOnPlateau(1.0, factor=0.5, patience=2)
    twin.load_state_dict(json.loads(json.dumps(schedule.state_dict())))
    unloaded = ReduceOnPlateau(1.0, factor=0.5, patience=2)
    for step, loss in enumerate(losses[7:], 8):
        assert twin.learning_rate(step, loss) == schedule.learning_rate(step, loss)
        unloaded.learning_rate(step, loss)
    assert schedule.current_lr == 0.5  # the 3rd bad report in a row came after the load
    assert unloaded.current_lr == 1.0
    twin.load_state_dict(fresh_state)
    assert (twin.current_lr, twin.best, twin.num_bad) == (1.0, None, 0)


def test_state_dict_is_a_copy():
    schedule = KingScheduler(1.0, patience=3)
    schedule.learning_rate(1, 2.0)
    schedule.state_dict()["loss_history"].append(5.0)
    assert schedule.loss_history == [2.0]


def test_pure_schedules_have_a_state_of_their_type_only():
    schedule = NoamScheduler(64, warmup_steps=10)
    assert schedule.state_dict() == {"type": "NoamScheduler"}
    schedule.load_state_dict({"type": "NoamScheduler"})
    with pytest.raises(ValueError, match="this state is of 'StepScheduler', not 'NoamScheduler'"):
        schedule.load_state_dict({"type": "StepScheduler"})


KING_STATE = {"type": "KingScheduler", "current_lr": 0.5, "loss_history": [1.0, 2.0]}
PLATEAU_STATE = {"type": "ReduceOnPlateau", "current_lr": 0.5, "best": 1.0, "num_bad": 1}


@pytest.mark.parametrize(
    ("schedule", "state", "error", "match"),
    [
        (KingScheduler(1.0, patience=3), [1.0], TypeError, "expects the dict state_dict"),
        (KingScheduler(1.0, patience=3), PLATEAU_STATE, ValueError,
         "this state is of 'ReduceOnPlateau', not 'KingScheduler'"),
        (KingScheduler(1.0, patience=3), {**KING_STATE, "extra": 1}, ValueError,
         r"missing keys \[\], unexpected keys \['extra'\]"),
        (KingScheduler(1.0, patience=3), {"type": "KingScheduler", "current_lr": 0.5},
         ValueError, r"missing keys \['loss_history'\], unexpected keys \[\]"),
        (KingScheduler(1.0, patience=3), {**KING_STATE, "current_lr": -0.5}, ValueError,
         "invalid current_lr -0.5; it must be > 0.0"),
        (KingScheduler(1.0, patience=3), {**KING_STATE, "current_lr": "0.5"}, TypeError,
         "current_lr must be a Python number"),
        (KingScheduler(1.0, patience=3), {**KING_STATE, "loss_history": [1.0] * 5},
         ValueError, "holds 5 losses; this schedule keeps at most patience \\+ 1 = 4"),
        (KingScheduler(1.0, patience=3), {**KING_STATE, "loss_history": "1, 2"}, TypeError,
         "loss_history must be a list; got str"),
        (KingScheduler(1.0, patience=3), {**KING_STATE, "loss_history": [1.0, float("nan")]},
         ValueError, r"invalid loss_history\[1\] nan; it must be finite"),
        (ReduceOnPlateau(1.0, patience=3), {**PLATEAU_STATE, "num_bad": 4}, ValueError,
         "num_bad 4 exceeds this schedule's patience 3"),
        (ReduceOnPlateau(1.0, patience=3), {**PLATEAU_STATE, "num_bad": -1}, ValueError,
         "num_bad must be >= 0; got -1"),
        (ReduceOnPlateau(1.0, patience=3), {**PLATEAU_STATE, "best": float("inf")}, ValueError,
         "invalid best inf; it must be finite"),
    ],
)
def test_load_state_dict_refuses_bad_states_and_changes_nothing(schedule, state, error, match):
    schedule.learning_rate(1, 3.0)
    before = schedule.state_dict()
    with pytest.raises(error, match=match):
        schedule.load_state_dict(state)
    assert schedule.state_dict() == before


# ---------------------------------------------------------------- repr and arguments
def test_repr_names_every_hyperparameter():
    assert repr(CosineScheduler(0.1, 100, warmup_steps=10)) == (
        "CosineScheduler(initial_lr=0.1, total_steps=100, warmup_steps=10, min_lr=0.0)"
    )
    assert repr(KingScheduler(0.01)) == "KingScheduler(initial_lr=0.01, patience=1000, decay=0.99)"
    assert repr(ReduceOnPlateau(0.1)) == (
        "ReduceOnPlateau(initial_lr=0.1, factor=0.1, patience=10, threshold=0.0001, min_lr=0.0)"
    )
    assert [repr(schedule).split("(")[0] for schedule in EXAMPLES] == [
        type(schedule).__name__ for schedule in EXAMPLES
    ]


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: CosineScheduler(0.1, 10, warmup_steps=10), ValueError,
         r"warmup_steps \(10\) must be less than total_steps \(10\)"),
    ],
)
def test_arguments_that_do_not_go_together_are_refused(build, error, match):
    # each declared argument's bad values: tests/test_declared_arguments.py
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize("schedule", EXAMPLES, ids=lambda schedule: type(schedule).__name__)
def test_bad_steps_are_refused(schedule):
    with pytest.raises(ValueError, match=r"step must be >= 0 \(updates count from 1\); got -1"):
        schedule.learning_rate(-1)
    for bad in (1.5, True, "3", None):
        with pytest.raises(TypeError, match="step must be an int, the number of the update"):
            schedule.learning_rate(bad)


def test_the_base_class_asks_for_learning_rate():
    with pytest.raises(NotImplementedError, match="Scheduler must implement learning_rate"):
        schedules.Scheduler().learning_rate(1)
