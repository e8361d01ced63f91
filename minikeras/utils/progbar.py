"""The progress bar `fit`, `evaluate` and `predict` print, character for character as Keras 3's.

verbose=1 redraws one line with a carriage return while the epoch runs, then ends it::

    32/32 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - accuracy: 0.0970 - loss: 2.4090

verbose=2 prints only that final line, in a terser form::

    32/32 - 1s - 16ms/step - accuracy: 0.1160 - loss: 2.3030

Keras decorates the verbose=1 line with ANSI bold and colours even when the output is a file;
minikeras adds them only on a terminal (or in Jupyter), and skips the backspaces Keras writes
before each `\\r` (they change nothing on screen). Apart from that the text is Keras's.
"""

import logging
import os
import sys
import time

import numpy as np

BAR_CHAR = "━"
BOLD, GREEN, GREY, RESET = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"


def print_msg(message: str, line_break: bool = True) -> None:
    """Write `message` to stdout at once (flushed), as Keras's `io_utils.print_msg` does.

    If stdout cannot encode the bar character (a non-UTF-8 console), `━` becomes `=`, as Keras does.
    """
    from minikeras import config

    if not config.is_interactive_logging_enabled():
        logging.getLogger("minikeras").info(message)
        return
    message = f"{message}\n" if line_break else str(message)
    try:
        sys.stdout.write(message)
    except UnicodeEncodeError:
        encoding = sys.stdout.encoding or "utf-8"
        message = message.replace(BAR_CHAR, "=").encode(encoding, errors="ignore").decode(encoding)
        sys.stdout.write(message)
    sys.stdout.flush()


def _colours_wanted() -> bool:
    """Colour the bar only where escape codes are understood: a terminal, or a Jupyter kernel."""
    return (
        (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
        or "ipykernel" in sys.modules
        or "PYCHARM_HOSTED" in os.environ
    )


def format_time_per_unit(seconds: float, unit_name: str = "step") -> str:
    """Keras's time per step: whole seconds from 1 s up (and for 0), else ms, else µs (as `us`).

    >>> format_time_per_unit(0.0123), format_time_per_unit(2.6), format_time_per_unit(4e-5)
    ('12ms/step', '3s/step', '40us/step')
    """
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit_name}"
    return f"{seconds * 1e6:.0f}us/{unit_name}"


def format_eta(seconds: float) -> str:
    """Time left, as Keras shows it: `42s`, `3:07` past a minute, `1:02:03` past an hour.

    >>> format_eta(42.9), format_eta(187), format_eta(3723)
    ('42s', '3:07', '1:02:03')
    """
    whole = int(seconds)  # truncated, as Keras's %d does
    if seconds > 3600:
        return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    if seconds > 60:
        return f"{whole // 60}:{whole % 60:02d}"
    return f"{whole}s"


def format_value(value, signed: bool = True) -> str:
    """A metric value: `.4f`, or `.4e` for tiny values, zero included (Keras's threshold is 1e-3).

    Keras's verbose=1 line tests `abs(value) > 1e-3`, but its verbose=2 line tests `value > 1e-3`,
    so there negative values come out in `.4e` too: `signed=False` reproduces that.

    >>> format_value(2.40901), format_value(0.0), format_value(-0.5)
    ('2.4090', '0.0000e+00', '-0.5000')
    >>> format_value(-0.5, signed=False)
    '-5.0000e-01'
    """
    large = abs(value) > 1e-3 if signed else value > 1e-3
    return f"{value:.4f}" if large else f"{value:.4e}"


class Progbar:
    """A progress bar for `target` steps, showing named values after the bar.

    Each value is shown as the running mean of what was passed to `update` (weighted by the steps
    each update covers), except those named in `stateful_metrics`, shown as given. Pass
    `stateless_metrics` instead to turn that around: only the names in it are averaged (Keras's
    `ProgbarLogger` passes an empty set, because `fit` already hands it running means).
    On the final update every value is shown as given.

    Args:
        target: total number of steps, or None if unknown.
        width: width of the bar, in characters.
        verbose: 0 silent, 1 the redrawn bar, 2 one line when finished.
        interval: minimum time in seconds between two redraws (verbose=1).
        stateful_metrics: names whose values are shown as given, not averaged.
        stateless_metrics: names that are averaged (all others are shown as given).
        unit_name: what a step is called (`"step"`, `"sample"`).

    >>> import io, contextlib
    >>> out = io.StringIO()
    >>> with contextlib.redirect_stdout(out):
    ...     bar = Progbar(target=2, verbose=2)
    ...     bar.update(1, [("loss", 3.0)])
    ...     bar.update(2, [("loss", 2.0)])
    >>> out.getvalue().startswith("2/2 - 0s - ")
    True
    >>> out.getvalue().endswith("/step - loss: 2.0000\\n")
    True
    """

    def __init__(
        self,
        target,
        width=20,
        verbose=1,
        interval=0.05,
        stateful_metrics=None,
        stateless_metrics=None,
        unit_name="step",
    ):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Pass only one of `stateful_metrics` (averaged unless listed) or "
                "`stateless_metrics` (shown as given unless listed), not both."
            )
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics or ())
        self.stateless_metrics = None if stateless_metrics is None else set(stateless_metrics)
        if self.stateless_metrics is not None:
            self.stateful_metrics = None
        # name -> [sum of value * steps, steps]; dict order = order of first appearance
        self._values = {}
        self._seen_so_far = 0
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step = None
        self._prev_total_width = 0

    def _known_target(self) -> bool:
        return self.target is not None and self.target > 0

    def _averaged(self, name) -> bool:
        if self.stateless_metrics is not None:
            return name in self.stateless_metrics
        return name not in self.stateful_metrics

    def update(self, current, values=None, finalize=None):
        """Record progress up to step `current` and redraw.

        Args:
            current: index of the current step (1-based: the number of steps done).
            values: list of `(name, value)` pairs for the latest step.
            finalize: whether this is the last update; defaults to `current >= target`.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target

        for name, value in values or []:
            if self._averaged(name) and not finalize:
                steps = max(current - self._seen_so_far, 1)  # steps this value stands for
                if name in self._values:
                    self._values[name][0] += value * steps
                    self._values[name][1] += steps
                else:
                    self._values[name] = [value * steps, steps]
            else:
                self._values[name] = [value, 1]
        self._seen_so_far = current

        now = time.time()
        time_per_unit = self._step_duration(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._draw_line(current, now, time_per_unit, finalize)
        elif self.verbose == 2 and finalize and self._known_target():
            self._print_summary(current, now, time_per_unit)
        self._last_update = now

    def redraw_due_in(self) -> float:
        """Seconds until an `update` would redraw the bar (verbose=1: `interval` after the last
        redraw; 0 when due now); infinity when only the final update prints (verbose 0 or 2)."""
        if self.verbose != 1:
            return float("inf")
        return max(self.interval - (time.time() - self._last_update), 0.0)

    def add(self, n, values=None):
        """Advance by `n` steps: `update(steps_so_far + n, values)`."""
        self.update(self._seen_so_far + n, values)

    def _mean(self, name) -> float:
        total, count = self._values[name]
        if not isinstance(total, float):
            total = np.mean(total)
        return total / max(1, count)

    def _metrics_text(self, signed=True) -> str:
        return "".join(
            f" - {name}: {format_value(self._mean(name), signed)}" for name in self._values
        )

    def _draw_line(self, current, now, time_per_unit, finalize):
        """verbose=1: rewrite the line in place; a newline after the final update."""
        colour = _colours_wanted()

        def style(text, code):
            return f"{code}{text}{RESET}" if colour else text

        if self._known_target():
            digits = len(str(int(self.target)))
            done = int(self.width * (current / self.target))  # Keras's rounding: fraction first
            count = f"{int(current):{digits}d}/{int(self.target)}"
            shown = [count + " ", BAR_CHAR * done, BAR_CHAR * (self.width - done)]
            line = style(count, BOLD) + " "
            if done > 0:
                line += style(BAR_CHAR * done, GREEN)
            line += style(BAR_CHAR * (self.width - done), GREY)
        else:
            line = f"{int(current):7d}/Unknown"
            shown = [line]

        if self._known_target() and not finalize:
            clock = format_eta(time_per_unit * (self.target - current))  # time left
        else:
            clock = f"{now - self._start:.0f}s"  # time taken
        info = " " + format_time_per_unit(time_per_unit, self.unit_name) + self._metrics_text()
        line += " " + style(clock, BOLD) + info

        # Pad with spaces to wipe out the tail of a longer previous line.
        total_width = len("".join(shown)) + 1 + len(clock) + len(info)
        line += " " * max(self._prev_total_width - total_width, 0)
        if finalize:
            line += "\n"
        print_msg("\r" + line, line_break=False)
        self._prev_total_width = total_width

    def _print_summary(self, current, now, time_per_unit):
        """verbose=2: one line, `32/32 - 1s - 16ms/step - loss: 2.3030`."""
        digits = len(str(int(self.target)))
        line = (
            f"{int(current):{digits}d}/{int(self.target)} - {now - self._start:.0f}s"
            f" - {format_time_per_unit(time_per_unit, self.unit_name)}"
            + self._metrics_text(signed=False)
        )
        print_msg(line)

    def _step_duration(self, current, now) -> float:
        """Seconds per step so far, leaving out the first step (slow: it warms things up).

        Before any step is done the estimate is 0. From step 2 on it is measured from the end of
        step 1, when `update(1)` was seen; otherwise it is the plain mean since the start.
        """
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            duration = (now - self._time_after_first_step) / (current - 1)
        else:
            duration = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return duration
