"""`python -m minikeras parity`: minikeras beside the installed Keras, case by case.

    python -m minikeras parity                  the named cases, float32
    python -m minikeras parity --float64        the same in float64 (agreement to 1e-10)
    python -m minikeras parity --random 20      and 20 random cases (seed 0; --seed to change)
    python -m minikeras parity --only adam      the named cases whose name contains 'adam'
    python -m minikeras parity --json out.json  every comparison, machine-readable
    python -m minikeras parity --all-rows       every comparison in the table, not one per component

Exits 0 when every comparison is within its tolerance, 1 when one is not, 2 when Keras is missing.
"""

import argparse
import json
import sys
import time

import numpy as np

from minikeras.parity import keras_env

COLUMNS = ("case", "component", "max abs diff", "max rel diff", "tolerance", "ok")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="minikeras parity",
        description="Compare minikeras with the installed Keras (TensorFlow backend): forward "
        "pass, losses, gradients, optimizer steps and whole fit runs, on the same weights.",
    )
    parser.add_argument("--float64", action="store_true", help="run in float64 (default float32)")
    parser.add_argument("--random", type=int, default=0, metavar="N", help="add N random cases")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random cases")
    parser.add_argument(
        "--only", default=None, metavar="TEXT", help="named cases whose name contains TEXT"
    )
    parser.add_argument("--no-named", action="store_true", help="skip the named cases")
    parser.add_argument("--json", metavar="FILE", help="write every comparison to FILE as JSON")
    parser.add_argument(
        "--all-rows", action="store_true", help="print every comparison, not the worst per part"
    )
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        keras = keras_env.import_keras()
    except keras_env.KerasUnavailable as error:
        print(error)
        return 2
    import tensorflow as tf

    import minikeras
    from minikeras.parity import cases as cases_module
    from minikeras.parity import checks

    dtype = "float64" if args.float64 else "float32"
    selected = [] if args.no_named else cases_module.named_cases(dtype)
    if args.only:
        selected = [case for case in selected if args.only.lower() in case.name.lower()]
    rng = np.random.default_rng(args.seed)
    for i in range(args.random):
        name = f"random {i + 1} (seed {args.seed})"
        selected.append(cases_module.random_case(rng, dtype, name=name))
    if not selected:
        print("No case selected.")
        return 1

    print(
        f"minikeras {minikeras.__version__} ({minikeras.config.kernels()} kernels) beside "
        f"Keras {keras.__version__} (TensorFlow {tf.__version__}), {dtype}: "
        f"{len(selected)} cases"
    )
    width = min(max(len(case.name) for case in selected), 60)
    print(header(width))
    print("-" * len(header(width)))
    started = time.perf_counter()
    rows = []
    for case in selected:
        case_rows = checks.run_case(case)
        rows.extend(case_rows)
        shown = case_rows if args.all_rows else _worst_per_component(case_rows)
        for row in shown:
            print(_format_row(row, width), flush=True)
    elapsed = time.perf_counter() - started
    failures = [row for row in rows if not row.ok]
    print(_summary(rows, failures, len(selected), elapsed))
    for row in failures:
        print(f"  FAILED  {row.case} | {row.component} | {row.note}")
    if failures:
        print(
            "Reproduce a case with `minikeras.parity.checks.run_case(Case.from_json(...))`; "
            "the JSON report (--json) holds each case's description."
        )
    if args.json:
        _write_json(args.json, selected, rows, dtype, keras, tf, elapsed)
    return 1 if failures else 0


def _component_of(row):
    """The part of the check a row belongs to, from its component's name."""
    name = row.component
    for prefix, part in (
        ("predict after fit", "fit"),
        ("predict", "forward"),
        ("output", "forward"),
        ("loss (as fit", "gradients"),
        ("gradient", "gradients"),
        ("loss", "loss"),
        ("dloss", "loss"),
        ("step", "optimizer"),
        ("slot", "optimizer"),
        ("optimizer variable", "optimizer"),
        ("iterations", "optimizer"),
        ("learning_rate", "optimizer"),
    ):
        if name.startswith(prefix):
            return part
    return "fit"


def _worst_per_component(rows):
    """One row per part (forward, loss, ...): a failed one if any, else the closest to its
    tolerance."""
    worst = {}
    for row in rows:
        part = _component_of(row)
        ratio = row.max_rel / row.tolerance if row.tolerance else (0.0 if row.ok else np.inf)
        key = (not row.ok, ratio)
        if part not in worst or key > worst[part][0]:
            worst[part] = (key, row)
    return [row for _, row in worst.values()]


COMPONENT_WIDTH = 46


def _format_row(row, width):
    ok = "ok" if row.ok else "FAIL"
    return (
        f"{row.case[:width]:<{width}} | {row.component[:COMPONENT_WIDTH]:<{COMPONENT_WIDTH}} | "
        f"{row.max_abs:>12.3e} | {row.max_rel:>12.3e} | {row.tolerance:>9.1e} | {ok}"
    )


def header(width):
    return (
        f"{COLUMNS[0]:<{width}} | {COLUMNS[1]:<{COMPONENT_WIDTH}} | {COLUMNS[2]:>12} | "
        f"{COLUMNS[3]:>12} | {COLUMNS[4]:>9} | {COLUMNS[5]}"
    )


def _summary(rows, failures, n_cases, elapsed):
    worst_rel = max((row.max_rel for row in rows if np.isfinite(row.max_rel)), default=0.0)
    verdict = "all within tolerance" if not failures else f"{len(failures)} FAILED"
    return (
        f"{n_cases} cases, {len(rows)} comparisons: {verdict}; largest relative difference "
        f"{worst_rel:.2e}; {elapsed:.0f} s"
    )


def _write_json(path, selected, rows, dtype, keras, tf, elapsed):
    import dataclasses

    import minikeras

    report = {
        "minikeras": minikeras.__version__,
        "kernels": minikeras.config.kernels(),
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "dtype": dtype,
        "seconds": elapsed,
        "passed": all(row.ok for row in rows),
        "columns": list(COLUMNS),
        "cases": [json.loads(case.to_json()) for case in selected],
        "rows": [_json_safe(dataclasses.asdict(row)) for row in rows],
    }
    with open(path, "w", encoding="utf-8") as file:
        json.dump(report, file, indent=1)


def _json_safe(values):
    """inf and NaN as strings: JSON has no such numbers."""
    return {
        k: (repr(v) if isinstance(v, float) and not np.isfinite(v) else v)
        for k, v in values.items()
    }


if __name__ == "__main__":
    sys.exit(main())
