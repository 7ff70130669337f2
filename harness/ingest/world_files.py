"""The on-disk world format, read and written in one place: logs.jsonl.gz, world.json, prices.csv, blocks files.

Why one owner: the simulator, chain-world, ingest-files, the stages and the tests all read or write these files;
when each spelled the format itself, readers grew guesses ("block_range" or "blocks" or "first_block"...) for
writers that never existed. A leaf module (stdlib only) so every layer can call it. Bad input raises
``WorldError`` naming the file and line.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from harness.errors import UsageError

LOGS_FILE = "logs.jsonl.gz"
META_FILE = "world.json"
PRICES_FILE = "prices.csv"
TRUTH_FILE = "truth.json"
WALLETS_FILE = "wallets.yaml"
TOKEN_MAP_FILE = "token_map.csv"
#: Market metadata a world directory may carry beside its logs (ingest-files reads them without options).
MARKET_FILES = ("markets.jsonl", "markets.jsonl.gz", "markets.json", "markets.json.gz")
#: The markets file the simulator writes (Gamma's /markets shape, JSON lines): names for the demo.
MARKETS_FILE = MARKET_FILES[0]
PRICE_HEADER = ("condition_id", "outcome_index", "price_micros")
BLOCKS_HEADER = ("block_number", "timestamp")


class WorldError(UsageError, ValueError):
    """A world file that cannot be read as the format says (the message names the file and line)."""


# --- logs.jsonl.gz ---------------------------------------------------------------------------------------------

def open_logs(path: str | Path) -> Iterator[tuple[int, dict]]:
    """(line number, log) of a .jsonl[.gz] log file; a line that is not a log object is an error naming it."""
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    log = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise WorldError(f"{path}:{n}: not a JSON log ({exc.msg})") from None
                if not isinstance(log, dict) or "blockNumber" not in log:
                    raise WorldError(f"{path}:{n}: not a log object with a blockNumber")
                yield n, log
    except (OSError, EOFError) as exc:
        raise WorldError(f"{path}: cannot read ({exc})") from exc


def read_logs(world_dir: str | Path) -> Iterator[dict]:
    """The logs of a world directory, in file (chain) order."""
    return read_logs_file(Path(world_dir) / LOGS_FILE)


def read_logs_file(path: str | Path) -> Iterator[dict]:
    """The logs of one .jsonl[.gz] file, in file order."""
    for _, log in open_logs(path):
        yield log


def write_logs(path: str | Path, logs: Iterable[dict], *, compresslevel: int = 9) -> int:
    """Write logs as gzip JSON lines, byte-identical for the same logs (no mtime); atomic. Count."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                               compresslevel=compresslevel) as gz:
        buf = io.TextIOWrapper(gz, encoding="utf-8", newline="\n")
        for log in logs:
            buf.write(json.dumps(log, separators=(",", ":")))
            buf.write("\n")
            n += 1
        buf.flush()
        buf.detach()
    tmp.replace(path)
    return n


# --- world.json ------------------------------------------------------------------------------------------------

def read_meta(world_dir: str | Path) -> dict:
    """world.json as a dict ({} when the directory has none)."""
    path = Path(world_dir) / META_FILE
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise WorldError(f"{path}: not JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise WorldError(f"{path}: not a JSON object")
    return meta


def write_meta(world_dir: str | Path, meta: dict) -> None:
    (Path(world_dir) / META_FILE).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def declared_range(world_dir: str | Path) -> tuple[int, int] | None:
    """The block range world.json declares (``block_range: [first, last]``, what both writers write), if any."""
    v = read_meta(world_dir).get("block_range")
    if v is None:
        return None
    if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) and x >= 0 for x in v) and v[0] <= v[1]):
        raise WorldError(f"{Path(world_dir) / META_FILE}: block_range={v!r} must be [first, last] block numbers")
    return v[0], v[1]


def declared_end_time(world_dir: str | Path) -> int | None:
    """The world's "now" when world.json declares it (``end_time``); else the reader uses the last log's time."""
    meta = read_meta(world_dir)
    return meta["end_time"] if isinstance(meta.get("end_time"), int) else None


# --- prices.csv ------------------------------------------------------------------------------------------------

def write_prices(path: str | Path, rows: Iterable[tuple[str, int, int]]) -> None:
    """(condition id, outcome index, price micros) rows under the header read_prices wants."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(",".join(PRICE_HEADER) + "\n")
        fh.writelines(f"{c},{o},{v}\n" for c, o, v in rows)


def read_prices(path: str | Path) -> list[tuple[str, int, int]]:
    """(condition id, outcome index, price in micro-USDC) rows; any bad line is an error naming file and line."""
    out = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        need = set(PRICE_HEADER)
        if not reader.fieldnames or not need <= set(reader.fieldnames):
            raise WorldError(f"{path}: header must have {sorted(need)}, got {reader.fieldnames}")
        for row in reader:
            line = reader.line_num
            cid = (row["condition_id"] or "").strip().lower()
            cid = cid if cid.startswith("0x") else "0x" + cid
            try:
                idx, price = int(row["outcome_index"]), int(row["price_micros"])
                int(cid, 16)
            except (TypeError, ValueError):
                raise WorldError(f"{path}:{line}: bad price row {dict(row)} (integers and a hex condition id)") \
                    from None
            if len(cid) != 66 or not 0 <= idx <= 255 or not 0 <= price <= 1_000_000:
                raise WorldError(f"{path}:{line}: out of range {dict(row)} (condition id 32 bytes, "
                                 f"outcome 0..255, price_micros 0..1000000)")
            out.append((cid, idx, price))
    return out


# --- markets.jsonl ------------------------------------------------------------------------------------------

def write_markets(path: str | Path, records: Iterable[dict]) -> None:
    """Gamma-shaped market records as JSON lines (what harness.ingest.metadata and harness.ingest.markets read back)."""
    Path(path).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


# --- blocks files (block number -> time, for logs without blockTimestamp) --------------------------------------

def write_blocks(path: str | Path, times: dict[int, int]) -> None:
    """A blocks CSV (``block_number,timestamp``, decimal) that read_blocks reads back."""
    Path(path).write_text(",".join(BLOCKS_HEADER) + "\n" + "".join(f"{b},{t}\n" for b, t in sorted(times.items())),
                          encoding="utf-8")


def _num(v) -> int:
    return int(v, 16) if isinstance(v, str) and v.lower().startswith("0x") else int(v)


def read_blocks(path: str | Path) -> dict[int, int]:
    """A blocks file: CSV with header ``block_number,timestamp`` (decimal, or 0x hex), or JSON lines / a JSON
    array of block objects with ``number`` and ``timestamp`` (eth_getBlockByNumber results); .gz allowed."""
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    out: dict[int, int] = {}
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, EOFError) as exc:
        raise WorldError(f"{path}: cannot read ({exc})") from exc
    head, i = text.lstrip()[:1], 0
    try:
        if head in ("[", "{"):
            items = json.loads(text) if head == "[" else [json.loads(x) for x in text.splitlines() if x.strip()]
            for i, b in enumerate(items, 1):
                out[_num(b["number"])] = _num(b["timestamp"])
        else:
            reader = csv.DictReader(text.splitlines())
            if not reader.fieldnames or not set(BLOCKS_HEADER) <= set(reader.fieldnames):
                raise WorldError(f"{path}: header must have block_number,timestamp, got {reader.fieldnames}")
            for row in reader:
                i = reader.line_num
                out[_num(row["block_number"].strip())] = _num(row["timestamp"].strip())
    except WorldError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise WorldError(f"{path}: entry {i}: needs a block number and a timestamp ({exc})") from None
    return out
