"""check-wallet's scratch build: fetch the wallets' logs and market data, put them through the normal sink into
an empty database, run the normal full build there, and read each wallet's figures back."""
from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from clickhouse_connect.driver.client import Client

from harness.chain import proxies
from harness.chain.events import by_address
from harness.chain.rpc import RpcClient, iter_windows
from harness.config import contracts
from harness.errors import UsageError, check_span
from harness.gates.checkwallet.fetch import (
    Fetcher,
    active,
    decode,
    derived_links,
    fetch_wallet_logs,
    first_block,
    log_block,
    log_key,
    safe_links,
    wallet_topic,
)
from harness.gates.checkwallet.figures import WalletFigures, read_figures
from harness.gates.checkwallet.markets import fetch_prices, fetch_structure, needs_price
from harness.warehouse import sql

SOURCE = "check-wallet"


def ingest(client: Client, f: Fetcher, logs: Iterable[dict]) -> None:
    """Through the normal sink: one batch [lo, hi], block times asked for logs that lack them."""
    from harness.ingest.result import IngestStats
    from harness.ingest.sink import LogBatch, write_batches

    logs = sorted(logs, key=lambda lg: (log_block(lg), log_key(lg)[1]))
    need = {log_block(lg) for lg in logs if lg.get("blockTimestamp") is None}
    times = f.rpc.block_times(need) if need else None
    write_batches(client, [LogBatch(f.lo, f.hi, logs, times)], source=SOURCE, run_id=SOURCE,
                  stats=IngestStats(source=SOURCE), contracts=[SOURCE])


def check_wallet(client: Client, rpc: RpcClient | str, address: str, *, proxy: str | None = None,
                 **kw) -> WalletFigures:
    """Fetch ``address``'s logs (and its proxies'), compute both methods on ``client`` (an EMPTY scratch database
    with the schema applied: it is written to) with the normal sink and build, and read them back.

    Which address answers is the API's rule (harness.chain.proxies.first_with_rows): the address itself when it has P&L
    rows, else its Safe (the ProxyCreation logs are read when the address has no activity of its own, unless
    ``safe_scan`` is off), else its ProxyWalletFactory proxy;
    ``proxy`` names one directly. Range: ``from_block`` (default the known contracts' first block, as backfill) to
    ``to_block`` (default the head)."""
    return check_wallets(client, rpc, [address], proxies_given={address.lower(): proxy} if proxy else None, **kw)[0]


def check_wallets(client: Client, rpc: RpcClient | str, addresses: Sequence[str], *, from_block: int | None = None,
                  to_block: int | None = None, proxies_given: dict[str, str] | None = None, safe_scan: bool = True,
                  prices: Path | None = None, window: int = 100_000, count_chain: bool = False,
                  explain: bool = True, price_scan_blocks: int | None = None) -> list[WalletFigures]:
    """check_wallet for several addresses at once (the validate stage's wallets without warehouse rows): one
    fetch of all their logs, one scratch build. Each wallet's figures read only its own rows and the market data,
    so they equal a check of that wallet alone; ``fetch`` (logs fetched) is the batch's. ``price_scan_blocks``
    bounds the backward scan for the last fills of open markets (fetch_prices; None: exact)."""
    from harness.ingest.prices import ingest_prices
    from harness.pnl.build import create_views, rebuild

    given = {k.lower(): v.lower() for k, v in (proxies_given or {}).items()}
    addrs = list(dict.fromkeys(a.lower() for a in addresses))
    for a in addrs + list(given.values()):
        wallet_topic(a)
    rpc = rpc if isinstance(rpc, RpcClient) else RpcClient(rpc)
    head = rpc.block_number()
    hi = head if to_block is None else int(to_block)
    lo = int(from_block) if from_block is not None else first_block(
        [k for k, c in contracts().items() if c.first_block], hi)  # as backfill: the known contracts' first block
    check_span(lo, hi)
    if hi > head:
        raise UsageError(f"--to-block {hi} is beyond the chain head {head}")
    t0 = time.monotonic()
    f = Fetcher(rpc, lo, hi, window=window)
    links: dict[str, list[proxies.ProxyLink]] = {
        a: [proxies.ProxyLink(a, given[a], "given", "--proxy")] if a in given else derived_links(a) for a in addrs}
    candidates = list(dict.fromkeys(addrs + [p.proxy for a in addrs for p in links[a]]))
    fetch_wallet_logs(f, candidates)
    # neither the address nor its derived proxies active: its ProxyCreation logs may name a Safe made otherwise
    busy = active(f)
    scan = [a for a in addrs if a not in given and not ({a} | {p.proxy for p in links[a]}) & busy] \
        if safe_scan else []
    safes = safe_links(f, scan) if scan else {}
    for a, rows in safes.items():
        links[a] = proxies.proxy_links(a, rows)
    more = [p.proxy for a in safes for p in links[a] if p.proxy not in candidates]
    if more:
        fetch_wallet_logs(f, more)
        candidates += more
    fetch_structure(f, decode(f.logs.values()))
    ingest(client, f, f.logs.values())
    if prices is not None:
        ingest_prices(client, Path(prices), source="check-wallet", as_of=0)
    report = rebuild(client, allow_unmapped=True)
    scan_notes: list[str] = []
    extra = fetch_prices(client, f, needs_price(client, candidates), max_blocks=price_scan_blocks, notes=scan_notes)
    if extra:
        ingest(client, f, extra)
        report = rebuild(client, allow_unmapped=True)
    create_views(client)
    with_rows = {r[0] for r in client.query(sql.load("checkwallet/with_rows"),
                                            parameters={"wallets": candidates}).result_rows}
    f.record.seconds = time.monotonic() - t0
    chain_logs = None
    if count_chain:
        chain_logs = sum(len(x) for _a, _b, x in iter_windows(
            rpc, lo, hi, addresses=sorted(by_address()), window=window, max_window=1_000_000))
    out = []
    for a in addrs:
        link = None
        if a in with_rows:
            answer = a
        else:
            link = proxies.first_with_rows(links[a], lambda ps: with_rows & set(ps))
            answer = link.proxy if link else None
        fig = WalletFigures(a, answer, link, fetch=f.record, from_block=lo, to_block=hi, chain_logs=chain_logs,
                            notes=scan_notes + report.warnings())
        if answer is not None:
            tot, fig.markets = read_figures(client, answer, explain=explain)
            for k, v in tot.items():
                setattr(fig, k, v)
        out.append(fig)
    return out


@contextmanager
def scratch_database(settings=None) -> Iterator[Client]:
    """An empty database with the schema, dropped afterwards: beside an embedded warehouse, a new database in its
    directory (chDB opens one directory per process); otherwise an embedded one in a temporary directory."""
    import secrets
    import shutil
    import tempfile
    from dataclasses import replace

    from harness.warehouse import WarehouseSettings, connect, drop_database
    from harness.warehouse.schema import apply_schema

    tmp = None
    if settings is not None and settings.backend == "embedded":
        s = replace(settings, database=f"check_wallet_{secrets.token_hex(4)}")
    else:
        tmp = Path(tempfile.mkdtemp(prefix="check-wallet-"))
        s = WarehouseSettings(backend="embedded", path=tmp, database="check_wallet")
    client = connect(s)
    try:
        apply_schema(client)
        yield client
    finally:
        try:
            drop_database(client, s.database)
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
