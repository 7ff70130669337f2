"""Events no table reads: the known ones named (ApprovalForAll, TokenRegistered) and logged at info, the unknown
ones still a warning with address and topic0, so a new event type is seen and the expected ones are not noise."""
from __future__ import annotations

import logging
from collections import Counter

from eth_hash.auto import keccak

from harness.config import contracts
from harness.ingest.result import IngestStats
from harness.ingest.runs import Run, record_unknown


def _topic(sig: str) -> str:
    return "0x" + keccak(sig.encode()).hex()


APPROVAL = _topic("ApprovalForAll(address,address,bool)")
REGISTERED = _topic("TokenRegistered(uint256,uint256,bytes32)")
NEW = _topic("SomethingNew(uint256)")
CTF = contracts()["ctf"].address
EXCHANGE = contracts()["ctf_exchange"].address


class _Client:
    def __init__(self):
        self.rows = []

    def insert(self, table, rows, column_names):
        self.rows += [(table, *r) for r in rows]


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def test_known_events_are_named_at_info_unknown_ones_warn():
    unknown = Counter({(CTF, APPROVAL): 300, (EXCHANGE, REGISTERED): 84, (CTF, NEW): 2})
    client, h = _Client(), _Records()
    logger = logging.getLogger("harness.ingest.runs")
    logger.addHandler(h)
    old = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        record_unknown(client, Run(client, "rpc:137", "backfill", 0, 10, run_id="r1"), unknown)
    finally:
        logger.removeHandler(h)
        logger.setLevel(old)
    assert len([r for r in client.rows if r[0] == "ingest_unknown_events"]) == 3  # every kind still stored
    by_level = {lvl: [r.getMessage() for r in h.records if r.levelno == lvl] for lvl in (logging.INFO,
                                                                                         logging.WARNING)}
    (info,) = by_level[logging.INFO]
    assert "ApprovalForAll x300 from ctf (" in info and "TokenRegistered x84 from ctf_exchange (" in info
    (warning,) = by_level[logging.WARNING]
    assert f"topic0={NEW}" in warning and "2 logs of unknown event" in warning
    assert APPROVAL not in warning + info and REGISTERED not in warning + info


def test_run_summary_names_the_known_events():
    s = IngestStats(source="rpc:137", unknown=Counter({(CTF, APPROVAL): 300, (EXCHANGE, REGISTERED): 84}))
    assert "384 logs not decoded (ApprovalForAll 300, TokenRegistered 84)" in str(s)
    assert "unknown" not in str(s)
    s.unknown[(CTF, NEW)] = 2
    assert "2 unknown logs (1 kinds)" in str(s)
    assert {"address": CTF, "topic0": NEW, "event": None, "logs": 2} in s.unknown_events()
