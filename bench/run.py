"""minikeras against the tools a user would pick instead, in one run on one machine.

    python bench/run.py [--quick] [--only kernels,training,startup,convnet]

writes bench/results.json (every measurement) and bench/results.md (the tables, as ratios, with
the targets of issues 5 and 16). Each measurement runs in a fresh process (`kernels.py`,
`training.py`) so that frameworks never share a process, a thread pool or a warm cache by
accident. See bench/README.md for how to read the tables.
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
FRAMEWORKS = [
    "minikeras-numba", "minikeras-numpy", "minikeras-loop", "keras", "torch", "numpy",
    "numpy-1thread",
]  # fmt: skip
# The plain NumPy loop's environment. Its time varied 11–17 ms an epoch between runs (tutorial)
# for two reasons outside its code, measured (CPU time, a busy machine):
# - OpenBLAS splits its (32, 784, 64) products over both cores: ~50 µs with the other core
#   free, up to 60× that in CPU when another process holds it (its threads spin and wait). So
#   the loop also runs on one BLAS thread (`numpy-1thread`, as minikeras runs such products),
#   and the faster of the two rows is the loop's time.
# - glibc gives the freed (784, 64) temporaries back to the kernel and faults them in again at
#   the next step (~5,800 minor faults an epoch on one thread; 0 on two, where the heap lies
#   otherwise), each costing 1–3.5 µs as the host goes: 30 ms of CPU against 10 ms without.
#   Both rows keep glibc's freed memory (the thresholds below), so the loop's own arithmetic
#   is what is timed; `minor_faults` in results.json shows the faults of every row.
KEEP_FREED_MEMORY = {"MALLOC_TRIM_THRESHOLD_": "268435456", "MALLOC_MMAP_THRESHOLD_": "268435456"}
FRAMEWORK_ENV = {
    "numpy": KEEP_FREED_MEMORY,
    "numpy-1thread": {**KEEP_FREED_MEMORY, "OPENBLAS_NUM_THREADS": "1"},
}
TRAINING_ROUNDS = {"tutorial": (3, 15), "mnist": (1, 7)}  # (warm-up epochs, timed epochs)
# the sequence models of training.py (bench/sequence.py): no plain NumPy loop for them
SEQUENCE_ROUNDS = {"stacked_lstm": (2, 7), "text_lstm": (2, 7)}
SEQUENCE_FRAMEWORKS = ["minikeras-numba", "minikeras-numpy", "keras", "torch"]

# the targets of issues 5 and 16
TARGETS = {
    # other framework's epoch ÷ minikeras-numba's (numpy: the plain NumPy loop)
    "tutorial": {"keras": 30.0, "torch": 5.0, "numpy": 2.0},
    "mnist": {"keras": 2.5, "torch": 1.4},
    "stacked_lstm": {"keras": 2.0, "torch": 1.0},  # issue 14
    # minikeras-numba's epoch within this many times its products at OpenBLAS's best rate
    "floor": {"tutorial": 2.0, "mnist": 1.5},
    "large_kernel": 0.95,  # numba ≥ 0.95× OpenBLAS at the large shapes
    "small_fused": 1.0,  # fused numba ≥ the NumPy path at the small shapes
    "startup": 0.25,  # import + first epoch (warm JIT cache) ≤ 0.25× Keras's
    "rss": 0.25,  # peak RSS ≤ 0.25× Keras's
    "user_loop": 1.2,  # train_on_batch in a loop ≤ 1.2× the same steps in fit (minikeras-loop)
    "gemm_large": 0.9,  # numba_gemm ≥ 0.9× OpenBLAS at (128, 784, 512) and (128, 512, 512)
    "gemm_small_fused": 1.0,  # numba_gemm's fused forward faster than BLAS + epilogue, small
}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def load():
    return os.getloadavg()[0]


def run_json(args, env=None):
    """Run a bench script in a fresh Python; return (its JSON line, wall seconds)."""
    start = time.perf_counter()
    result = subprocess.run(
        [PYTHON, *args], capture_output=True, text=True, env=env, cwd=HERE.parent, timeout=3600
    )
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stderr[-3000:]}")
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]), wall


def machine():
    import numba
    import numpy as np

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    versions["numba"] = numba.__version__
    for name in ("tensorflow-cpu", "keras", "torch"):  # from the metadata: importing costs seconds
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "system": platform.platform(),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "threads_env": {
            k: os.environ[k]
            for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")
            if k in os.environ
        },
        "versions": versions,
    }


# ----------------------------------------------------------------------------- the sections
def bench_kernels(quick):
    log("kernels ...")
    data, _ = run_json([str(HERE / "kernels.py"), "--seconds", "0.3" if quick else "1.5"])
    return data["kernels"]


def frameworks_of(model):
    return SEQUENCE_FRAMEWORKS if model in SEQUENCE_ROUNDS else FRAMEWORKS


def bench_training(quick):
    results = {}
    for model, (warmup, rounds) in {**TRAINING_ROUNDS, **SEQUENCE_ROUNDS}.items():
        if quick:
            warmup, rounds = 1, 3
        for framework in frameworks_of(model):
            log(f"training {model} {framework} ...")
            before = load()
            data, _ = run_json(
                [
                    str(HERE / "training.py"),
                    framework,
                    model,
                    "--warmup",
                    str(warmup),
                    "--rounds",
                    str(rounds),
                ],
                env={**os.environ, **FRAMEWORK_ENV.get(framework, {})},
            )
            times = data["epoch_s"]
            results[f"{model}/{framework}"] = {
                "median_ms": 1e3 * statistics.median(times),
                "min_ms": 1e3 * min(times),
                "rounds_ms": [1e3 * t for t in times],
                "cpu_rounds_ms": [1e3 * t for t in data["epoch_cpu_s"]],
                "minor_faults": data["minor_faults"],
                "load_before": before,
                "load_after": load(),
            }
    return results


def bench_startup(quick):
    """Fresh processes: `import minikeras`; import + build + one tutorial epoch, with the JIT
    cache cold (an empty NUMBA_CACHE_DIR) and warm (one primed by an earlier run); Keras's
    import + one epoch. Wall time of the whole process, as a user waits for it."""
    repeat = 2 if quick else 5
    env = dict(os.environ)
    results = {}

    def timed(name, args, env, times):
        walls, rss = [], []
        for _ in range(times):
            data, wall = run_json(args, env)
            walls.append(wall)
            rss.append(data.get("peak_rss_mb"))
        results[name] = {"median_s": statistics.median(walls), "runs_s": walls}
        if rss[0] is not None:
            results[name]["peak_rss_mb"] = max(rss)
        log(f"startup {name}: {statistics.median(walls):.2f} s")

    probe = "import json; print(json.dumps({}))"
    timed("python", ["-c", probe], env, repeat)
    timed("import minikeras", ["-c", "import minikeras; " + probe], env, repeat)
    one_epoch = [str(HERE / "training.py"), "minikeras-numba", "tutorial", "--one-epoch"]
    with tempfile.TemporaryDirectory() as warm_dir:
        cold_runs = []
        for _ in range(1 if quick else 2):
            with tempfile.TemporaryDirectory() as cold_dir:
                data, wall = run_json(one_epoch, {**env, "NUMBA_CACHE_DIR": cold_dir})
                cold_runs.append(wall)
        results["minikeras-numba import + epoch, JIT cache cold"] = {
            "median_s": statistics.median(cold_runs),
            "runs_s": cold_runs,
            "peak_rss_mb": data["peak_rss_mb"],
        }
        run_json(one_epoch, {**env, "NUMBA_CACHE_DIR": warm_dir})  # prime the cache
        timed(
            "minikeras-numba import + epoch, JIT cache warm",
            one_epoch,
            {**env, "NUMBA_CACHE_DIR": warm_dir},
            repeat,
        )
    timed(
        "minikeras-numpy import + epoch",
        [str(HERE / "training.py"), "minikeras-numpy", "tutorial", "--one-epoch"],
        env,
        repeat,
    )
    timed("import keras", ["-c", "import keras; " + probe], env, 1 if quick else 3)
    timed(
        "keras import + epoch",
        [str(HERE / "training.py"), "keras", "tutorial", "--one-epoch"],
        env,
        1 if quick else 3,
    )
    return results


# ----------------------------------------------------------------------------- the report
def epoch_gflop(sizes, n):
    """Floating-point work of one epoch's products: forward x·W and dW = xᵀ·dz for every layer,
    dx = dz·Wᵀ for all but the first; 2 flops per multiply-add."""
    pairs = list(zip(sizes[:-1], sizes[1:]))
    per_sample = sum(2 * a * b for a, b in pairs) * 2 + sum(2 * a * b for a, b in pairs[1:])
    return per_sample * n / 1e9


def products_floor_ms(kernels, sizes, n, batch):
    """The epoch's products timed at OpenBLAS's best burst for each of them (section 1): x·W
    and xᵀ·dz for every layer, dz·Wᵀ for all but the first. Nothing doing the same products
    can be faster; None if section 1 lacks a shape."""
    best = {(tuple(r["shape"]), r["form"]): r for r in kernels}
    total = 0.0
    for i, (fan_in, units) in enumerate(zip(sizes[:-1], sizes[1:])):
        for form in ("fwd", "tn", "nt") if i else ("fwd", "tn"):
            row = best.get(((batch, fan_in, units), form))
            if row is None:
                return None
            flops = 2 * batch * fan_in * units
            total += flops / (row.get("numpy_best_gflops", row["numpy_gflops"]) * 1e9)
    return 1e3 * total * n / batch


def gemm_section(rows):
    """Section 1b: numba_gemm.py's product against OpenBLAS, form by form, both sides on the
    same threads."""
    out = [
        "## 1b. numba_gemm.py's product vs OpenBLAS: GFLOP/s (float32)",
        "",
        "The forms of section 1 made by `minikeras/kernels/numba_gemm.py` whatever "
        "`MINIKERAS_MATMUL` says, against OpenBLAS, both on the threads in the *threads* column: "
        "first on the threads both get by default (one below `SMALL_PRODUCT` multiply-adds, "
        "else Numba's thread count: numba_gemm cuts out into one part per thread, OpenBLAS "
        "runs its own threads), then, for the products that get more than one, on one thread "
        "each, which compares the kernels themselves. On more than one thread each burst "
        "starts after 0.2 s of sleep, so that OpenBLAS's threads, which spin for ~0.1 s after "
        "its calls, do not share the cores with numba_gemm's parts (bench/kernels.py, SETTLE). "
        "*fused forward* is x·W + b with relu fused into the tile's store, against OpenBLAS's "
        "product followed by the compiled bias + relu pass.",
        "",
        "| shape (m, k, n) | form | threads | numba µs | OpenBLAS µs | numba GFLOP/s "
        "| OpenBLAS GFLOP/s | numba ÷ OpenBLAS speed (best bursts) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        best = r["numba_best_gflops"] / r["numpy_best_gflops"]
        out.append(
            f"| {tuple(r['shape'])} | {r['form'][5:]} | {r.get('threads', '')} "
            f"| {r['numba_us']:.1f} | {r['numpy_us']:.1f} | {r['numba_gflops']:.1f} "
            f"| {r['numpy_gflops']:.1f} | {r['ratio']:.2f}× ({best:.2f}×) |"
        )
    return out + [""]


def gemm_summary(rows):
    """The issue's two targets for numba_gemm.py, each side on the threads it gets by default
    (the most threads measured at that shape); at the large shapes the one-thread figure too."""
    default = {}
    for r in rows:
        default[tuple(r["shape"])] = max(default.get(tuple(r["shape"]), 0), r.get("threads", 1))

    def pick(shapes, fused, threads=None):
        return [
            r
            for r in rows
            if tuple(r["shape"]) in shapes
            and ("fused" in r["form"]) == fused
            and r.get("threads", 1) == (threads or default[tuple(r["shape"])])
        ]

    lines = []
    shapes = ((128, 784, 512), (128, 512, 512))
    large, one = pick(shapes, False), pick(shapes, False, threads=1)
    if large:
        worst = min(r["ratio"] for r in large)
        threads = max(r.get("threads", 1) for r in large)
        alone = f"; one thread each {min(r['ratio'] for r in one):.2f}×" if one else ""
        lines.append(
            f"| numba GEMM vs OpenBLAS at (128, 784, 512), (128, 512, 512), worst form "
            f"| {worst:.2f}× ({threads} threads each{alone}) | ≥ {TARGETS['gemm_large']}× "
            f"| {verdict(worst >= TARGETS['gemm_large'])} |"
        )
    small = pick(((32, 64, 10), (32, 784, 64)), True)
    if small:
        worst = min(r["ratio"] for r in small)
        lines.append(
            f"| numba GEMM fused forward vs BLAS + epilogue at (32, 64, 10), (32, 784, 64) "
            f"| {worst:.2f}× (one thread each) | > {TARGETS['gemm_small_fused']}× "
            f"| {verdict(worst > TARGETS['gemm_small_fused'])} |"
        )
    return lines


def verdict(ok):
    return "met" if ok else "**short**"


def report(results):
    out = ["# minikeras benchmarks", ""]
    m = results["machine"]
    out += [
        f"One run of `make bench` on {m['cpu']}, {m['cores']} cores, {m['system']}; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items())
        + f". Load average {results['load_start']:.2f} at the start, "
        f"{results['load_end']:.2f} at the end (see README: other work on the machine inflates "
        "every number, the multi-threaded frameworks most).",
        "",
    ]
    summary = []
    kernels = results.get("kernels")
    if kernels:
        out += [
            "## 1. Kernels: GFLOP/s, numba kernel vs np.matmul / the NumPy kernel set (float32)",
            "",
            "| shape (m, k, n) | form | numba µs | NumPy µs | numba GFLOP/s | NumPy GFLOP/s "
            "| numba ÷ NumPy speed |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        gemm_rows = [r for r in kernels if r["form"].startswith("gemm")]
        kernels = [r for r in kernels if not r["form"].startswith("gemm")]
        for r in kernels:
            out.append(
                f"| {tuple(r['shape'])} | {r['form']} | {r['numba_us']:.1f} | {r['numpy_us']:.1f}"
                f" | {r['numba_gflops']:.1f} | {r['numpy_gflops']:.1f} | {r['ratio']:.2f}× |"
            )
        large = [r for r in kernels if r["shape"][0] == 128 and r["shape"][2] == 512]
        small = [r for r in kernels if r["shape"][0] == 32 and r["form"].startswith("fused")]

        def best_ratio(r):
            return r["numba_best_gflops"] / r["numpy_best_gflops"]

        products = [r for r in large if r["form"] in ("fwd", "tn", "nt")]
        worst_large = min(r["ratio"] for r in products)
        worst_small = min(r["ratio"] for r in small)
        summary += [
            f"| kernels at the large shapes, worst of fwd/tn/nt vs OpenBLAS | {worst_large:.2f}× "
            f"(best bursts {min(map(best_ratio, products)):.2f}×) "
            f"| ≥ {TARGETS['large_kernel']}× | {verdict(worst_large >= TARGETS['large_kernel'])} |",
            f"| fused kernels at the small shapes vs the NumPy path, worst | {worst_small:.2f}× "
            f"(best bursts {min(map(best_ratio, small)):.2f}×) "
            f"| ≥ {TARGETS['small_fused']}× | {verdict(worst_small >= TARGETS['small_fused'])} |",
        ]
        out.append("")
        if gemm_rows:
            out += gemm_section(gemm_rows)
            summary += gemm_summary(gemm_rows)
    training = results.get("training")
    if training:
        out += [
            "## 2. Training time per epoch (median of the timed epochs, after warm-up)",
            "",
            "| model | framework | median ms | min ms | framework ÷ minikeras-numba "
            "| median CPU ms | minor faults an epoch |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for model in {**TRAINING_ROUNDS, **SEQUENCE_ROUNDS}:
            if f"{model}/minikeras-numba" not in training:
                continue  # a results.json from before this model was benchmarked
            ours = training[f"{model}/minikeras-numba"]["median_ms"]
            for framework in frameworks_of(model):
                r = training.get(f"{model}/{framework}")
                if r is None:  # a results.json from before this framework was benchmarked
                    continue
                cpu, faults = r.get("cpu_rounds_ms"), r.get("minor_faults")  # (older runs: none)
                out.append(
                    f"| {model} | {framework} | {r['median_ms']:.1f} | {r['min_ms']:.1f} "
                    f"| {r['median_ms'] / ours:.2f}× "
                    f"| {f'{statistics.median(cpu):.1f}' if cpu else ''} "
                    f"| {statistics.median(faults) if faults else ''} |"
                )
            ours_best = training[f"{model}/minikeras-numba"]["min_ms"]
            loop = training.get(f"{model}/minikeras-loop")
            if loop is not None:
                ratio, best = loop["median_ms"] / ours, loop["min_ms"] / ours_best
                target = TARGETS["user_loop"]
                summary.append(
                    f"| {model}: train_on_batch loop time ÷ fit time | {ratio:.2f}× "
                    f"(best epochs {best:.2f}×) | ≤ {target}× | {verdict(ratio <= target)} |"
                )
            for other, target in TARGETS.get(model, {}).items():
                row = training[f"{model}/{other}"]
                if other == "numpy":  # the loop's faster setting (FRAMEWORK_ENV)
                    row = min(
                        (training.get(f"{model}/{name}") for name in ("numpy", "numpy-1thread")),
                        key=lambda r: r["median_ms"] if r else float("inf"),
                    )
                ratio, best = row["median_ms"] / ours, row["min_ms"] / ours_best
                summary.append(
                    f"| {model}: {other} time ÷ minikeras-numba time | {ratio:.1f}× "
                    f"(best epochs {best:.1f}×) | ≥ {target}× | {verdict(ratio >= target)} |"
                )
        gflop = epoch_gflop((784, 512, 512, 10), 8192)
        floor_ms = products_floor_ms(kernels or [], (784, 512, 512, 10), 8192, 128)
        tutorial_ms = products_floor_ms(kernels or [], (784, 64, 10), 1000, 32)
        if floor_ms is not None:
            out += [
                "",
                f"Arithmetic floor: the MNIST-size MLP does {gflop:.1f} GFLOP of products an epoch "
                f"(the first layer's dx is never computed); each product timed at OpenBLAS's "
                f"fastest burst in section 1, they take {floor_ms:.0f} ms "
                f"({1e3 * gflop / floor_ms:.0f} GFLOP/s). The tutorial's "
                f"{epoch_gflop((784, 64, 10), 1000):.2f} GFLOP take {tutorial_ms:.1f} ms.",
                "",
            ]
            for model, floor in (("tutorial", tutorial_ms), ("mnist", floor_ms)):
                ratio = training[f"{model}/minikeras-numba"]["median_ms"] / floor
                best = training[f"{model}/minikeras-numba"]["min_ms"] / floor
                target = TARGETS["floor"][model]
                summary.append(
                    f"| {model}: minikeras-numba ÷ arithmetic floor | {ratio:.2f}× "
                    f"(best epoch {best:.2f}×) | ≤ {target}× | {verdict(ratio <= target)} |"
                )
    startup = results.get("startup")
    if startup:
        out += [
            "## 3. Start-up (fresh process, wall time) and 4. peak memory",
            "",
            "| what | median s | peak RSS MB |",
            "|---|---:|---:|",
        ]
        for name, r in startup.items():
            rss = f"{r['peak_rss_mb']:.0f}" if "peak_rss_mb" in r else ""
            out.append(f"| {name} | {r['median_s']:.2f} | {rss} |")
        keras = startup["keras import + epoch"]
        warm = startup["minikeras-numba import + epoch, JIT cache warm"]
        t_ratio = warm["median_s"] / keras["median_s"]
        m_ratio = warm["peak_rss_mb"] / keras["peak_rss_mb"]
        summary += [
            f"| import + first epoch, warm JIT cache, ÷ Keras's | {t_ratio:.2f}× "
            f"| ≤ {TARGETS['startup']}× | {verdict(t_ratio <= TARGETS['startup'])} |",
            f"| peak RSS of the tutorial run ÷ Keras's | {m_ratio:.2f}× | ≤ {TARGETS['rss']}× "
            f"| {verdict(m_ratio <= TARGETS['rss'])} |",
        ]
        out.append("")
    out = (
        out[:4]
        + ["## Targets (issues 5 and 16)", ""]
        + ["| measure | median (best) | target | |", "|---|---:|---:|---|"]
        + summary
        + [""]
        + out[4:]
    )
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- the convnet
# keras.io's mnist_convnet (bench/convnet.py): its own section, beside the MLP rows above
CONVNET_FRAMEWORKS = ["minikeras-numba", "minikeras-numpy", "keras", "torch"]
CONVNET_ROUNDS = {"minikeras-numpy": (1, 2)}  # (warm-up, timed) epochs; others: (1, 5)
CONVNET_TARGETS = {"keras": 1.25, "torch": 1.0, "gemm": 0.8}


def bench_convnet(quick):
    """The convolution passes' GFLOP/s beside OpenBLAS's GEMM, then an epoch of the convnet in
    each framework (fresh processes, as the other sections)."""
    log("convnet kernels ...")
    data, _ = run_json([str(HERE / "convnet.py"), "--seconds", "0.3" if quick else "1.5"])
    results = {"kernels": data["conv_kernels"], "training": {}}
    # and per core: one thread on both sides (less at the mercy of other jobs on the machine)
    one = {**os.environ, "NUMBA_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    seconds = "0.3" if quick else "1.5"
    data, _ = run_json([str(HERE / "convnet.py"), "--seconds", seconds], env=one)
    results["kernels_one_thread"] = data["conv_kernels"]
    for framework in CONVNET_FRAMEWORKS:
        warmup, rounds = (1, 2) if quick else CONVNET_ROUNDS.get(framework, (1, 5))
        log(f"training mnist_convnet {framework} ...")
        before = load()
        args = [framework, "mnist_convnet", "--warmup", str(warmup), "--rounds", str(rounds)]
        data, _ = run_json([str(HERE / "training.py"), *args])
        times = data["epoch_s"]
        results["training"][framework] = {
            "median_ms": 1e3 * statistics.median(times),
            "min_ms": 1e3 * min(times),
            "rounds_ms": [1e3 * t for t in times],
            "load_before": before,
            "load_after": load(),
        }
    return results


def report_convnet(convnet):
    """The convnet's section of results.md: epoch times, its targets, the kernels' rates."""
    training, kernels = convnet["training"], convnet["kernels"]
    ours = training["minikeras-numba"]
    out = [
        "## 5. keras.io's mnist_convnet (2048 random 28×28×1 images, batch 128, Adam)",
        "",
        "| framework | median ms an epoch | min ms | framework ÷ minikeras-numba | load average "
        "before → after |",
        "|---|---:|---:|---:|---|",
    ]
    for framework, r in training.items():
        out.append(
            f"| {framework} | {r['median_ms']:.0f} | {r['min_ms']:.0f} "
            f"| {r['median_ms'] / ours['median_ms']:.2f}× "
            f"| {r['load_before']:.1f} → {r['load_after']:.1f} |"
        )
    out += ["", "| measure | median (best) | target | |", "|---|---:|---:|---|"]
    for other in ("keras", "torch"):
        ratio = training[other]["median_ms"] / ours["median_ms"]
        best = training[other]["min_ms"] / ours["min_ms"]
        target = CONVNET_TARGETS[other]
        out.append(
            f"| {other} time ÷ minikeras-numba time | {ratio:.2f}× (best epochs {best:.2f}×) "
            f"| ≥ {target}× | {verdict(ratio >= target)} |"
        )
    worst = min(r["ratio"] for r in kernels)
    per_core = min((r["ratio"] for r in convnet.get("kernels_one_thread", [])), default=worst)
    out.append(
        f"| convolution passes ÷ OpenBLAS GEMM rate, worst | {worst:.2f}× (default threads), "
        f"{per_core:.2f}× (one thread each) | ≥ {CONVNET_TARGETS['gemm']}× "
        f"| {verdict(min(worst, per_core) >= CONVNET_TARGETS['gemm'])} |"
    )
    out += [
        "",
        "Each pass of the two convolutions as minikeras-numba runs it (patches, product and "
        "epilogue, on its threads), against `np.matmul` (OpenBLAS, its default threads) on the "
        "same (m, k, n) product alone; GFLOP/s of the product, 2·m·k·n:",
        "",
        "| layer | pass | product (m, k, n) | minikeras µs | GEMM µs | minikeras GFLOP/s "
        "| GEMM GFLOP/s | minikeras ÷ GEMM rate |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for title, rows in (
        ("both sides on their default threads (2 here)", kernels),
        ("one thread on each side (NUMBA_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1)",
         convnet.get("kernels_one_thread", [])),
    ):  # fmt: skip
        if not rows:
            continue
        out.append(f"| *{title}* | | | | | | | |")
        for r in rows:
            out.append(
                f"| {r['layer']} | {r['form']} | {tuple(r['gemm_shape'])} | {r['ours_us']:.0f} "
                f"| {r['gemm_us']:.0f} | {r['ours_gflops']:.1f} | {r['gemm_gflops']:.1f} "
                f"| {r['ratio']:.2f}× |"
            )
    return "\n".join(out) + "\n"


def main(argv):
    quick = "--quick" in argv
    only = argv[argv.index("--only") + 1].split(",") if "--only" in argv else None
    sections = {"kernels": bench_kernels, "training": bench_training, "startup": bench_startup}
    sections["convnet"] = bench_convnet
    path = HERE / "results.json"
    results = json.loads(path.read_text()) if only and path.exists() else {}
    results["machine"] = machine()
    results["load_start"] = load()
    for name, fn in sections.items():
        if only is None or name in only:
            results[name] = fn(quick)
    results["load_end"] = load()
    results["quick"] = quick
    path.write_text(json.dumps(results, indent=1) + "\n")
    text = report(results)
    if results.get("convnet"):
        text += "\n" + report_convnet(results["convnet"])
    (HERE / "results.md").write_text(text)
    log(f"wrote {path} and {HERE / 'results.md'}")


if __name__ == "__main__":
    main(sys.argv[1:])
