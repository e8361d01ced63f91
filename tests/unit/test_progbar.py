"""The progress bar prints what Keras 3's prints: exact strings, then side by side with Keras.

Time is faked (`time.time` patched), so the times shown are known and both bars see the same ones.
"""

import io
import re
import sys
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from needs import missing

from minikeras.utils import progbar as progbar_module
from minikeras.utils.progbar import (
    Progbar,
    format_eta,
    format_time_per_unit,
    format_value,
    print_msg,
)

BAR = "━"


class FakeClock:
    """Stands in for `time.time`: returns `now`, which the test moves."""

    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def run(make_bar, steps, clock):
    """Build a bar at clock.now, then for each (seconds later, current, values, finalize) update."""
    with mock.patch("time.time", clock):
        bar = make_bar()
        for seconds, current, values, finalize in steps:
            clock.now += seconds
            bar.update(current, values, finalize=finalize)
    return bar


def last_line(out):
    """The last drawing of a verbose=1 bar, without the padding that wipes a longer one."""
    return out.split("\r")[-1].rstrip()


def plain(text):
    """Keras's output without backspaces and ANSI codes: what minikeras prints to a file."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text.replace("\b", ""))


# -- the formatting helpers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0s/step"), (1.0, "1s/step"), (2.5, "2s/step"), (0.999, "999ms/step"),
     (1e-3, "1ms/step"), (0.0123, "12ms/step"), (9.99e-4, "999us/step"), (4e-5, "40us/step")],
)  # fmt: skip
def test_time_per_step_units_as_keras(seconds, text):
    assert format_time_per_unit(seconds) == text


def test_time_per_unit_uses_the_unit_name():
    assert format_time_per_unit(0.25, "sample") == "250ms/sample"


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0s"), (59.9, "59s"), (60, "60s"), (61, "1:01"), (3600, "60:00"), (3601, "1:00:01"),
     (7322.7, "2:02:02")],
)  # fmt: skip
def test_eta_formats_as_keras(seconds, text):
    assert format_eta(seconds) == text


@pytest.mark.parametrize(
    "value, text, text_verbose2",
    [(2.40901, "2.4090", "2.4090"), (0.0, "0.0000e+00", "0.0000e+00"),
     (1e-3, "1.0000e-03", "1.0000e-03"), (0.00123, "0.0012", "0.0012"),
     (-0.5, "-0.5000", "-5.0000e-01"), (-2e-4, "-2.0000e-04", "-2.0000e-04"),
     (float("nan"), "nan", "nan"), (12345.6789, "12345.6789", "12345.6789")],
)  # fmt: skip
def test_value_format_switches_to_exponent_at_1e3_as_keras(value, text, text_verbose2):
    assert format_value(value) == text
    assert format_value(value, signed=False) == text_verbose2


# -- exact lines, verbose=1 ----------------------------------------------------------------------


def test_verbose1_partial_bars_eta_and_final_line(capsys):
    clock = FakeClock()
    steps = [
        (0.5, 1, [("loss", 2.0), ("acc", 0.5)], None),
        (0.25, 2, [("loss", 1.0), ("acc", 0.25)], None),
        (0.25, 3, [("loss", 0.5), ("acc", 0.75)], None),
    ]
    run(lambda: Progbar(3, interval=0), steps, clock)
    out = capsys.readouterr().out
    assert out == (
        # 1 step of 0.5 s: ETA 2 x 0.5 s; 20 x 1/3 -> 6 filled
        f"\r1/3 {BAR * 20} 1s 500ms/step - loss: 2.0000 - acc: 0.5000"
        # the first step is left out of the time per step: 0.25 s; values averaged over steps
        f"\r2/3 {BAR * 20} 0s 250ms/step - loss: 1.5000 - acc: 0.3750"
        # final: time taken (1 s), and the values given, not averaged
        f"\r3/3 {BAR * 20} 1s 250ms/step - loss: 0.5000 - acc: 0.7500\n"
    )


def test_averaging_weights_each_value_by_the_steps_it_covers(capsys):
    clock = FakeClock()
    steps = [(0.1, 1, [("loss", 4.0)], None), (0.1, 4, [("loss", 1.0)], None)]
    run(lambda: Progbar(10, interval=0), steps, clock)
    last = last_line(capsys.readouterr().out)
    assert last.endswith(" - loss: 1.7500")  # (4 x 1 + 1 x 3) / 4


@pytest.mark.parametrize(
    "kwargs, shown",
    [({}, "loss: 3.0000 - acc: 0.3750"),
     (dict(stateful_metrics=["acc"]), "loss: 3.0000 - acc: 0.2500"),
     (dict(stateless_metrics=set()), "loss: 2.0000 - acc: 0.2500"),
     (dict(stateless_metrics=["acc"]), "loss: 2.0000 - acc: 0.3750")],
)  # fmt: skip
def test_stateful_values_are_shown_as_given_the_others_averaged(capsys, kwargs, shown):
    clock = FakeClock()
    steps = [(0.1, 1, [("loss", 4.0), ("acc", 0.5)], None),
             (0.1, 2, [("loss", 2.0), ("acc", 0.25)], None)]  # fmt: skip
    run(lambda: Progbar(5, interval=0, **kwargs), steps, clock)
    assert last_line(capsys.readouterr().out).endswith(shown)


def test_stateful_and_stateless_together_is_an_error():
    with pytest.raises(ValueError, match="only one of"):
        Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])


def test_names_keep_the_order_they_first_appeared_in(capsys):
    clock = FakeClock()
    steps = [(0.1, 1, [("z", 1.0)], None), (0.1, 2, [("a", 1.0), ("z", 1.0)], None)]
    run(lambda: Progbar(3, interval=0), steps, clock)
    assert last_line(capsys.readouterr().out).endswith(" - z: 1.0000 - a: 1.0000")


def test_updates_closer_than_interval_are_not_drawn_but_still_counted(capsys):
    clock = FakeClock()
    steps = [
        (0.01, 1, [("loss", 1.0)], None),
        (0.01, 2, [("loss", 3.0)], None),  # 0.01 s after the last draw: skipped
        (0.01, 3, [("loss", 2.0)], False),  # 0.02 s: still skipped
        (0.04, 4, [("loss", 2.0)], None),  # 0.06 s: drawn
    ]
    run(lambda: Progbar(10), steps, clock)
    lines = capsys.readouterr().out.split("\r")[1:]
    assert [line[:5] for line in lines] == [" 1/10", " 4/10"]
    assert lines[-1].endswith(" - loss: 2.0000")  # (1 + 3 + 2 + 2) / 4


def test_final_update_is_always_drawn(capsys):
    clock = FakeClock()
    run(lambda: Progbar(2), [(0.01, 1, None, None), (0.001, 2, None, None)], clock)
    assert capsys.readouterr().out.count("\r") == 2


def test_count_is_right_aligned_to_the_targets_width(capsys):
    clock = FakeClock()
    run(lambda: Progbar(100, interval=0), [(10.0, 5, None, None)], clock)
    # 10 s for 5 steps: 2 s per step, 95 steps left: 190 s
    assert capsys.readouterr().out == f"\r  5/100 {BAR * 20} 3:10 2s/step"


def test_a_shorter_line_is_padded_to_wipe_the_longer_one(capsys):
    clock = FakeClock()
    steps = [(0.5, 1, [("loss", 12345.678)], None), (0.25, 2, [("loss", 0.5)], None)]
    run(lambda: Progbar(2, interval=0, stateful_metrics=["loss"]), steps, clock)
    first, second = capsys.readouterr().out.split("\r")[1:]
    assert len(second.rstrip("\n")) == len(first)
    assert second == f"2/2 {BAR * 20} 1s 250ms/step - loss: 0.5000" + " " * 4 + "\n"


def test_unknown_target(capsys):
    clock = FakeClock()
    run(lambda: Progbar(None, interval=0), [(0.002, 5, [("loss", 1.0)], None)], clock)
    assert capsys.readouterr().out == "\r      5/Unknown 0s 400us/step - loss: 1.0000"


def test_colours_on_a_terminal_are_keras_codes(capsys, monkeypatch):
    monkeypatch.setattr(progbar_module, "_colours_wanted", lambda: True)
    clock = FakeClock()
    run(lambda: Progbar(2, interval=0), [(1.0, 1, None, None), (1.0, 2, None, None)], clock)
    first, second = capsys.readouterr().out.split("\r")[1:]
    assert first == (
        f"\x1b[1m1/2\x1b[0m \x1b[32m{BAR * 10}\x1b[0m\x1b[37m{BAR * 10}\x1b[0m"
        " \x1b[1m1s\x1b[0m 1s/step"
    )
    # A full bar still carries an empty grey part, as Keras's does.
    assert second.startswith(f"\x1b[1m2/2\x1b[0m \x1b[32m{BAR * 20}\x1b[0m\x1b[37m\x1b[0m")


def test_add_advances_by_n(capsys):
    clock = FakeClock()
    with mock.patch("time.time", clock):
        bar = Progbar(4, interval=0, verbose=2)
        clock.now += 1
        bar.add(1, [("loss", 1.0)])
        clock.now += 1
        bar.add(3, [("loss", 3.0)])
    assert capsys.readouterr().out == "4/4 - 2s - 333ms/step - loss: 3.0000\n"


# -- verbose=2 and 0 -----------------------------------------------------------------------------


def test_verbose2_prints_one_line_when_finished(capsys):
    clock = FakeClock()
    steps = [(1.0, 1, [("loss", 2.0)], None), (0.016, 32, [("loss", -0.25)], None)]
    run(lambda: Progbar(32, verbose=2), steps, clock)
    # Keras tests `value > 1e-3` here (not abs): negative values come out as .4e.
    assert capsys.readouterr().out == "32/32 - 1s - 516us/step - loss: -2.5000e-01\n"


def test_verbose0_prints_nothing(capsys):
    clock = FakeClock()
    run(lambda: Progbar(2, verbose=0), [(1, 1, [("a", 1.0)], None), (1, 2, None, None)], clock)
    assert capsys.readouterr().out == ""


def test_a_console_that_cannot_print_the_bar_gets_equals_signs(monkeypatch):
    ascii_out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", ascii_out)
    print_msg(f"1/1 {BAR * 3} 0s")
    ascii_out.seek(0)
    assert ascii_out.read() == "1/1 === 0s\n"


# -- side by side with Keras's own Progbar --------------------------------------------------------


def keras_or_skip():
    """Keras's Progbar class; a failure, not a skip, when MINIKERAS_REQUIRE_KERAS is set."""
    try:
        from keras.utils import Progbar as KerasProgbar
    except ImportError as error:
        missing("Keras", str(error))
    return KerasProgbar


def both_outputs(capsys, kwargs, steps):
    """What Keras's bar and ours print for the same updates at the same (fake) times."""
    keras_progbar = keras_or_skip()
    capsys.readouterr()
    run(lambda: keras_progbar(**kwargs), steps, FakeClock())
    theirs = capsys.readouterr().out
    run(lambda: Progbar(**kwargs), steps, FakeClock())
    return theirs, capsys.readouterr().out


SCENARIOS = {
    "fit-like": (
        dict(target=25, stateless_metrics=set()),
        [(1.1, 1, [("accuracy", 0.0988), ("loss", 2.4134)], False)]
        + [(0.011, k, [("accuracy", 0.1 + k / 1e3), ("loss", 2.41 - k / 1e2)], False)
           for k in range(2, 26)]
        + [(0.0, 25, [("accuracy", 0.0988), ("loss", 2.4134), ("val_loss", 2.29)], True)],
    ),
    "averaged, small and negative values": (
        dict(target=7, interval=0),
        [(0.3, 1, [("loss", 2.0), ("tiny", 5e-4), ("neg", -0.5)], None),
         (0.3, 3, [("loss", 1.0), ("tiny", 0.0), ("neg", -1e-5)], None),
         (0.3, 7, [("loss", 0.0)], None)],
    ),
    "long ETAs": (
        dict(target=1000, interval=0),
        [(30.0, 1, None, None), (80.0, 2, None, None), (4000.0, 3, None, None),
         (0.0001, 999, [("x", 1.0)], None), (0.0, 1000, None, None)],
    ),
    "verbose=2": (
        dict(target=4, verbose=2, stateful_metrics=["acc"]),
        [(0.5, 1, [("loss", 1.0), ("acc", 0.25)], None),
         (0.5, 4, [("loss", -2.0), ("acc", 0.0)], None)],
    ),
    "unknown target": (
        dict(target=None, interval=0),
        [(0.5, 1, [("loss", 1.0)], None), (0.5, 2, [("loss", 3.0)], None),
         (0.5, 2, [("loss", 3.0)], True)],
    ),
    "sample units, narrow bar": (
        dict(target=64, width=8, interval=0, unit_name="sample"),
        [(0.2, 32, [("loss", 1.5)], None), (0.2, 64, [("loss", 1.0)], None)],
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", SCENARIOS)
def test_same_text_as_keras(capsys, name):
    kwargs, steps = SCENARIOS[name]
    theirs, ours = both_outputs(capsys, kwargs, steps)
    assert ours == plain(theirs)
    assert ours  # both printed something


def test_same_colours_as_keras_on_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(progbar_module, "_colours_wanted", lambda: True)
    kwargs, steps = SCENARIOS["averaged, small and negative values"]
    theirs, ours = both_outputs(capsys, kwargs, steps)
    assert ours == theirs.replace("\b", "")
    assert "\x1b[32m" in ours


values = st.lists(
    st.tuples(
        st.sampled_from(["loss", "accuracy", "mse"]),
        st.one_of(st.floats(-1e4, 1e4), st.floats(-2e-3, 2e-3), st.just(0.0)),
    ),
    max_size=3,
)
step = st.tuples(st.floats(0, 100), st.integers(0, 3), st.one_of(st.none(), values),
                 st.sampled_from([None, False, True]))  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    target=st.one_of(st.none(), st.integers(1, 2000)),
    verbose=st.sampled_from([1, 2]),
    interval=st.sampled_from([0.0, 0.05, 10.0]),
    stateful=st.sampled_from([None, ["loss"]]),
    steps=st.lists(step, min_size=1, max_size=8),
)
def test_random_updates_print_as_keras(target, verbose, interval, stateful, steps):
    keras_progbar = keras_or_skip()
    current, updates = 0, []
    for seconds, advance, vals, finalize in steps:
        current += advance
        updates.append((seconds, current, vals, finalize))
    kwargs = dict(target=target, verbose=verbose, interval=interval, stateful_metrics=stateful)
    outputs = []
    for make in (keras_progbar, Progbar):
        with mock.patch("sys.stdout", io.StringIO()) as out:
            run(lambda make=make: make(**kwargs), updates, FakeClock())
            outputs.append(out.getvalue())
    theirs, ours = outputs
    assert ours == plain(theirs)


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(progbar_module)
    assert result.attempted > 5 and result.failed == 0
