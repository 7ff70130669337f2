"""The issue-14 acceptance run at sizes where bench/scale.py's extra passes (bare aggregation, incremental) do
not fit in a session: generate N fills in SQL (bench_build.generate, seeded), full rebuild + views, then the
validate stage's bounded cross-check (300 wallets, seeds 1 and 2), disk and peak RSS. Aggregations and sorts
spill to disk above 3 GB and a query is capped at 14 GB, so 50M fits in 24 GB of RAM. Re-running on the same
directory skips the generation (a `generated` marker); delete the directory afterwards.

    .venv/bin/python bench/scale_validate.py 50000000 /work/big50/wh
"""
import logging
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench_build import generate

from harness.pnl.build import create_views, rebuild
from harness.pnl.crosscheck import cross_check
from harness.warehouse import connect, resolve_settings
from harness.warehouse.schema import apply_schema

SPILL = {"max_bytes_before_external_group_by": 3_000_000_000, "max_bytes_before_external_sort": 3_000_000_000,
         "max_memory_usage": 14_000_000_000}


def rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def load() -> str:
    return open("/proc/loadavg").read().split()[0]


def main(n: int, d: Path) -> None:
    fresh = not (d / "generated").exists()
    if fresh:
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    c = connect(resolve_settings(clickhouse=f"chdb://{d}", database="bench"))
    for k, v in SPILL.items():
        c.set_client_setting(k, v)
    apply_schema(c)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if fresh:
        t = time.perf_counter()
        shape = generate(c, n, 5)
        (d / "generated").write_text(str(shape))
        print(f"generated {n:,} fills in {time.perf_counter() - t:.0f} s (load {load()}) {shape} rss {rss():.1f} GB",
              flush=True)
    t, cpu = time.perf_counter(), time.process_time()
    rep = rebuild(c)
    create_views(c)
    print(f"full rebuild {time.perf_counter() - t:.0f} s wall {time.process_time() - cpu:.0f} CPU-s (load {load()}) "
          f"steps {rep.steps} rss {rss():.1f} GB", flush=True)
    for seed in (1, 2):
        t = time.perf_counter()
        r = cross_check(c, sample=300, seed=seed)
        print(f"validate seed {seed}: {time.perf_counter() - t:.1f} s ok={r.ok} {r.summary()} (load {load()})",
              flush=True)
    parts = c.query("SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = 'bench'").result_rows[0][0]
    du = subprocess.run(["du", "-sb", str(d)], capture_output=True, text=True, check=True).stdout.split()[0]
    print(f"disk parts {int(parts) / 1e9:.2f} GB du {int(du) / 1e9:.2f} GB; peak RSS {rss():.1f} GB", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
