"""Variants of the committed fixture world, as real data differs from it: other dates, logs without
blockTimestamp, a range that starts after its markets were prepared, no prices file."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from harness.ingest import world_files as files

ROOT = Path(__file__).resolve().parents[2]
WORLD = ROOT / "fixtures" / "world"
PREPARATION_TOPICS = (
    "0xab3760c3bd2bb38b5bcf54dc79802ed67338b4cf29f3054ded67ed24661e4177",  # CTF ConditionPreparation
    "0xaac410f87d423a922a7b226ac68f0c2eaf5bf6d15e644ac0758c7f96e2c253f7",  # NegRiskAdapter QuestionPrepared
)


def built(db, src: Path = WORLD):
    """``db`` with the world ingested as production does it, the derived tables rebuilt and the final views made."""
    from harness import ingest
    from harness.pnl.build import create_views, rebuild

    ingest.ingest_world(db, src)
    rebuild(db)
    create_views(db)
    return db


def world_logs(src: Path = WORLD) -> list[dict]:
    return list(files.read_logs(src))


def variant(dst: Path, *, src: Path = WORLD, shift: int = 0, drop_timestamps: bool = False,
            drop_topics: tuple[str, ...] = (), prices: bool = True) -> Path:
    """Write a world directory derived from ``src``: block times moved by ``shift`` seconds, blockTimestamp
    removed (a blocks.csv beside it then holds the times), logs whose topic0 is in ``drop_topics`` left out,
    prices.csv kept or not. world.json (block range) and truth.json are copied: the P&L does not change."""
    dst.mkdir(parents=True, exist_ok=True)
    times: dict[int, int] = {}
    logs = []
    for log in world_logs(src):
        if log["topics"][0] in drop_topics:
            continue
        ts = int(log["blockTimestamp"], 16) + shift
        times[int(log["blockNumber"], 16)] = ts
        if drop_timestamps:
            del log["blockTimestamp"]
        else:
            log["blockTimestamp"] = hex(ts)
        logs.append(log)
    files.write_logs(dst / files.LOGS_FILE, logs, compresslevel=1)
    for name in ("world.json", "truth.json", "wallets.yaml") + (("prices.csv",) if prices else ()):
        shutil.copy(src / name, dst / name)
    if drop_timestamps:
        files.write_blocks(dst.parent / f"{dst.name}-blocks.csv", times)
    return dst


def truth(src: Path = WORLD) -> dict[str, dict[str, int]]:
    return json.loads((src / "truth.json").read_text(encoding="utf-8"))["wallets"]
