"""Issue 22 goal 6: what one operator run of the stages costs, checkout against checkout, in turn.

The suite starts ~60 such runs (`python -m harness run`, or pytest on tests/stages in a subprocess), the 14-day
operation one or two a day; their fixed costs (interpreter and plugin start-up, each check's bookkeeping) are paid
every time. Each round runs ``python -m harness run --stages backfill..deploy --fresh`` on the committed fixture
world once per checkout, in turn (A B A B ...), each in its own embedded warehouse directory, and reads the run's
wall time and the CPU seconds of it and all its children (``resource.getrusage(RUSAGE_CHILDREN)``). A run that
does not pass (exit 0) stops the bench.

    .venv/bin/python bench/bench_stage_run.py --checkout /tmp/old --checkout . --rounds 3

The interpreter is this one (the project's venv); each checkout's own ``harness`` is imported, since the command
runs with the checkout as its working directory.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one_run(checkout: Path, warehouse: Path, reports: Path) -> tuple[float, float]:
    """(wall s, CPU s of the run and its children) of one backfill..deploy run in ``checkout``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLICKHOUSE_", "PYTEST_", "HARNESS_RUN_ID"))}
    env["HARNESS_WAREHOUSE_DIR"] = str(warehouse)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "harness", "run", "--stages", "backfill..deploy", "--database",
                           "bench_stage_run", "--fresh", "--reports", str(reports)],
                          cwd=checkout, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{checkout}: run exited {done.returncode}: {(done.stdout + done.stderr).strip()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkout", action="append", type=Path, required=True,
                    help="a source checkout to run (repeat; the first is A)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    checkouts = [c.resolve() for c in args.checkout]
    for c in checkouts:
        if not (c / "harness" / "__main__.py").is_file():
            sys.exit(f"--checkout {c}: not a harness source checkout (no harness/__main__.py)")
    runs: dict[Path, list[tuple[float, float]]] = {c: [] for c in checkouts}
    with tempfile.TemporaryDirectory(prefix="bench-stage-run-") as tmp:
        for r in range(args.rounds):
            for i, c in enumerate(checkouts):
                wall, cpu = one_run(c, Path(tmp) / f"wh{i}", Path(tmp) / f"reports{i}")
                runs[c].append((wall, cpu))
                print(f"round {r + 1} {c}: wall {wall:.2f} s, CPU {cpu:.2f} s (load {os.getloadavg()[0]:.1f})",
                      flush=True)
    print("\n| checkout | wall s (median) | CPU s (median) | CPU / first's (per round) |\n|---|---:|---:|---|")
    first = runs[checkouts[0]]
    for c in checkouts:
        ratios = ", ".join(f"{cpu / a_cpu:.2f}" for (_w, cpu), (_aw, a_cpu) in zip(runs[c], first))
        print(f"| {c} | {statistics.median(w for w, _ in runs[c]):.2f} | "
              f"{statistics.median(x for _, x in runs[c]):.2f} | {ratios} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
