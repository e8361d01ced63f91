"""The command line: `python -m minikeras <command>` (also installed as `minikeras`)."""

import argparse
import sys


def _demo(args):
    from minikeras import demo

    history = demo.run(epochs=args.epochs, verbose=args.verbose)
    print({k: round(v[-1], 4) for k, v in history.history.items()})
    return 0


def _parity(args):
    from minikeras.parity import cli

    return cli.main(args.rest)


def _trace(args):
    from minikeras import trace

    return trace.main(args.rest)


def _bench(args):
    import pathlib
    import runpy

    script = pathlib.Path(__file__).resolve().parent.parent / "bench" / "run.py"
    if not script.exists():
        print("The benchmarks live in the source checkout (bench/run.py); run `make bench` there.")
        return 1
    sys.argv = [str(script), *args.rest]
    runpy.run_path(str(script), run_name="__main__")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="minikeras",
        description="Keras's training workflow from scratch in NumPy/Numba, checked against Keras.",
    )
    commands = parser.add_subparsers(dest="command", metavar="command")
    demo = commands.add_parser("demo", help="train the tutorial model (784-64-10) on random data")
    demo.add_argument("--epochs", type=int, default=1)
    demo.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))
    demo.set_defaults(run=_demo)
    for name, run, text in (
        ("parity", _parity, "compare minikeras with the installed Keras, case by case"),
        ("trace", _trace, "watch one training step, stage by stage"),
        ("bench", _bench, "benchmark against NumPy, Keras and PyTorch (source checkout)"),
    ):
        command = commands.add_parser(name, help=text, add_help=False)
        command.add_argument("rest", nargs=argparse.REMAINDER)
        command.set_defaults(run=run)
    return parser


def main(argv=None):
    parser = build_parser()
    # argparse leaves a sub-command's leading options (`trace --no-keras`) out of its REMAINDER:
    # hand them to the pass-through commands, reject them for the others
    args, extra = parser.parse_known_args(argv)
    if extra:
        if not hasattr(args, "rest"):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.rest = extra + args.rest
    if args.command is None:
        parser.print_help()
        return 0
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
