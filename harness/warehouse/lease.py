"""One writer at a time per warehouse database: a lease row that is taken atomically, renewed and checked.

Why a table and not a row in a shared table: ClickHouse has no compare-and-set on rows, but ``CREATE TABLE``
(without IF NOT EXISTS) and ``RENAME TABLE`` are atomic on every backend, so exactly one writer creates
``writer_lease`` and exactly one takes over an expired one. The table holds the holder's row (owner, token, pid,
host, start, expiry); the holder renews the expiry between steps and checks its token is still there before it
swaps anything in. A second writer waits up to ``wait`` seconds, then fails naming the holder. A holder whose
lease expired, or whose process on this host is gone (SIGKILL), is taken over.
"""
from __future__ import annotations

import functools
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from clickhouse_connect.driver.client import Client

from harness.errors import HarnessError

TABLE = "writer_lease"
DEFAULT_TTL = 1800.0  # seconds; renewed between build steps and ingest batches
DEFAULT_WAIT = float(os.environ.get("HARNESS_LEASE_WAIT", "60"))
_POLL = 0.2
_EMPTY_GRACE = 30.0  # a lease table with no row yet: its creator is writing it (or died right after CREATE)


class LeaseHeld(HarnessError):
    """Another writer holds the warehouse: the message names it and how long its lease runs."""


class LeaseLost(HarnessError):
    """This writer's lease expired and was taken over: stop before changing anything else."""


@dataclass
class Lease:
    client: Client
    owner: str
    token: str
    ttl: float
    depth: int = 1
    _released: bool = field(default=False, repr=False)

    def renew(self) -> None:
        """Push the expiry ``ttl`` ahead; raise LeaseLost when the lease is no longer ours."""
        self.check()
        _insert_row(self.client, self.owner, self.token, self.ttl)

    def check(self) -> None:
        holder = _holder(self.client)
        if holder is None or holder["token"] != self.token:
            _held.pop(_key(self.client), None)
            self._released = True
            who = "nobody" if holder is None else holder["owner"]
            raise LeaseLost(f"writer lease of {self.owner!r} was lost (now held by {who}); nothing more was changed")

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        _held.pop(_key(self.client), None)
        holder = _holder(self.client)
        if holder is not None and holder["token"] == self.token:
            self.client.command(f"DROP TABLE IF EXISTS `{TABLE}`")


_held: dict[tuple, Lease] = {}
_held_lock = threading.Lock()


def _key(client: Client) -> tuple:
    """Re-entrant per client object and thread: a sync's ingest and rebuild share one lease."""
    return id(client), threading.get_ident()


def _insert_row(client: Client, owner: str, token: str, ttl: float) -> None:
    client.command(
        f"INSERT INTO `{TABLE}` SELECT {{owner:String}}, {{token:String}}, {{pid:UInt32}}, {{host:String}}, "
        "now64(3), now64(3) + toIntervalMillisecond({ms:UInt64})",
        parameters={"owner": owner, "token": token, "pid": os.getpid(), "host": socket.gethostname(),
                    "ms": int(ttl * 1000)})


def _holder(client: Client) -> dict | None:
    """The lease row with the latest expiry, with ``expired`` and ``age`` computed on the server's clock."""
    try:
        res = client.query(
            f"SELECT owner, token, pid, host, started, expires, expires < now64(3) AS expired, "
            f"count() OVER () AS n FROM `{TABLE}` ORDER BY expires DESC LIMIT 1")
    except Exception as exc:  # no table: nobody holds it; anything else is re-raised
        if "UNKNOWN_TABLE" in str(exc) or "doesn't exist" in str(exc) or "does not exist" in str(exc):
            return None
        raise
    if not res.result_rows:
        created = client.query(
            "SELECT dateDiff('second', metadata_modification_time, now()) FROM system.tables "
            "WHERE database = currentDatabase() AND name = {t:String}", parameters={"t": TABLE}).result_rows
        if not created:
            return None
        return {"owner": "a writer that is starting", "token": "", "pid": 0, "host": "", "started": None,
                "expires": None, "expired": created[0][0] > _EMPTY_GRACE}
    owner, token, pid, host, started, expires, expired, _ = res.result_rows[0]
    return {"owner": owner, "token": token, "pid": int(pid), "host": host, "started": started,
            "expires": expires, "expired": bool(expired)}


def _dead(holder: dict, host: str | None) -> bool:
    """Expired, or held by a process of this host that no longer exists."""
    if holder["expired"]:
        return True
    if host is None or holder["host"] != host or not holder["pid"] or holder["pid"] == os.getpid():
        return False
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


def _take_over(client: Client, token: str) -> None:
    """Move a dead holder's table aside atomically: of two writers doing this, exactly one succeeds."""
    stale = f"{TABLE}_stale_{token}"
    try:
        client.command(f"RENAME TABLE `{TABLE}` TO `{stale}`")
    except Exception:  # noqa: BLE001 - another writer moved it first
        return
    client.command(f"DROP TABLE IF EXISTS `{stale}`")


def acquire(client: Client, owner: str, *, wait: float | None = None, ttl: float = DEFAULT_TTL,
            host: str | None = "") -> Lease:
    """Take the warehouse's writer lease for ``owner`` (a phrase naming the run), waiting up to ``wait`` s.

    ``host`` is this machine's name for the dead-process check ("" = look it up, None = never use it).
    """
    wait = DEFAULT_WAIT if wait is None else wait
    host = socket.gethostname() if host == "" else host
    with _held_lock:
        mine = _held.get(_key(client))
    if mine is not None:
        mine.depth += 1
        return mine
    token = secrets.token_hex(8)
    label = f"{owner} (pid {os.getpid()} on {socket.gethostname()})"
    deadline = time.monotonic() + max(wait, 0.0)
    while True:
        try:
            client.command(
                f"CREATE TABLE `{TABLE}` (owner String, token String, pid UInt32, host String, "
                "started DateTime64(3, 'UTC'), expires DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY tuple()")
        except Exception as exc:  # exists: someone holds it (or is taking it); anything else is re-raised
            if "already exists" not in str(exc).lower() and "TABLE_ALREADY_EXISTS" not in str(exc):
                raise
            holder = _holder(client)
            if holder is not None and _dead(holder, host):
                _take_over(client, token)
                continue
            if time.monotonic() >= deadline:
                if holder is None:
                    continue
                since = f" since {holder['started']:%Y-%m-%d %H:%M:%S} UTC" if holder["started"] else ""
                until = f", lease until {holder['expires']:%H:%M:%S} UTC" if holder["expires"] else ""
                raise LeaseHeld(f"warehouse database is being written by {holder['owner']}{since}{until}; "
                                f"{owner} did not start (waited {wait:g}s; try again when it has finished)") \
                    from None
            time.sleep(_POLL)
            continue
        _insert_row(client, label, token, ttl)
        lease = Lease(client, label, token, ttl)
        with _held_lock:
            _held[_key(client)] = lease
        return lease


def renew_held(client: Client) -> None:
    """Renew the lease this client holds in this thread, if any (called between batches and steps)."""
    with _held_lock:
        mine = _held.get(_key(client))
    if mine is not None:
        mine.renew()


@contextmanager
def writer_lease(client: Client, owner: str, *, wait: float | None = None,
                 ttl: float = DEFAULT_TTL) -> Iterator[Lease]:
    """Hold the writer lease for the block (re-entrant for the same client and thread)."""
    lease = acquire(client, owner, wait=wait, ttl=ttl)
    try:
        yield lease
    finally:
        lease.depth -= 1
        if lease.depth == 0:
            lease.release()


def holds_lease(what: str) -> Callable:
    """Decorator: run ``fn(client, ...)`` under the writer lease (callers may pass ``lease_wait=`` seconds)."""
    def deco(fn):
        @functools.wraps(fn)
        def run(client: Client, *args, lease_wait: float | None = None, **kwargs):
            with writer_lease(client, what, wait=lease_wait):
                return fn(client, *args, **kwargs)
        return run
    return deco
