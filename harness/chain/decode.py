"""Fast decoder: JSON-RPC log objects -> row tuples for the raw tables of sql/schema.

Hand-rolled hex slicing + int(x, 16) per 32-byte word (eth_abi is ~20x slower and only serves as the test oracle).
Dispatch is by (emitting address, topic0), so a TransferSingle from some other ERC1155 is *unknown*, not a CTF
transfer. Unknown logs are counted, never silently dropped; a malformed known log raises ``DecodeError`` naming
its tx hash and log index. Rows follow ``COLUMNS[table]`` = the table's DDL column order.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.chain import events as ev
from harness.chain.tokens import collateral_for, collection_id, position_id
from harness.chain.tokens import condition_id as _condition_id
from harness.config import contracts, token_address
from harness.errors import HarnessError

_RAW = ("_version", "_deleted")
_BASE = ("tx_hash", "log_index", "block_number", "block_time")

#: Column order of every table the decoder fills (equal to the DDL order; a unit test checks it).
COLUMNS: dict[str, tuple[str, ...]] = {
    "trades_raw": _BASE + ("exchange", "order_hash", "wallet", "counterparty", "side", "token_id", "shares",
                           "usdc", "fee_shares", "fee_usdc") + _RAW,
    "erc1155_transfers": _BASE + ("sub_index", "operator", "from_addr", "to_addr", "token_id", "value") + _RAW,
    "ctf_actions": _BASE + ("source", "action", "stakeholder", "collateral", "parent_collection_id", "condition_id",
                            "index_sets", "amounts", "amount", "payout") + _RAW,
    "condition_preparations": _BASE + ("condition_id", "oracle", "question_id", "outcome_slot_count") + _RAW,
    "condition_resolutions": _BASE + ("condition_id", "oracle", "question_id", "outcome_slot_count",
                                      "payout_numerators") + _RAW,
    "neg_risk_conversions": _BASE + ("stakeholder", "market_id", "index_set", "amount") + _RAW,
    "neg_risk_questions": _BASE + ("market_id", "question_id", "question_index", "condition_id", "data") + _RAW,
    "orders_matched": _BASE + ("exchange", "taker_order_hash", "taker_order_maker", "maker_asset_id",
                               "taker_asset_id", "maker_amount", "taker_amount") + _RAW,
    "fee_charged": _BASE + ("exchange", "receiver", "token_id", "amount") + _RAW,
    "fee_refunds": _BASE + ("module", "order_hash", "to_addr", "token_id", "refund", "fee_charged") + _RAW,
    "wallet_proxies": _BASE + ("factory", "kind", "owner", "proxy") + _RAW,
    "token_map": ("token_id", "condition_id", "outcome_index", "index_set", "collateral", "neg_risk", "_version"),
    "fpmm_creations": _BASE + ("factory", "creator", "fpmm", "conditional_tokens", "collateral", "condition_ids",
                               "fee") + _RAW,
    "fpmm_trades": _BASE + ("fpmm", "trader", "side", "outcome_index", "usdc", "fee", "shares") + _RAW,
    "fpmm_funding": _BASE + ("fpmm", "funder", "action", "amounts", "collateral_removed", "shares") + _RAW,
}
TABLES = tuple(COLUMNS)
ZERO32 = "0x" + "00" * 32
_WS = " \t\n\r\x0b\x0c"
_M = (1 << 256) - 1
_BATCH2_HEAD = (0x40 << 512) | (0xA0 << 256) | 2  # words 0-2 of a 2-id TransferBatch: offsets 64, 160; length 2
MAX_UINT128 = (1 << 128) - 1


class DecodeError(HarnessError, ValueError):
    """A log from a known contract with a known topic0 that cannot be decoded; names the tx and log index."""

    def __init__(self, message: str, tx_hash: Any = None, log_index: Any = None):
        self.tx_hash, self.log_index = tx_hash, log_index
        super().__init__(f"tx {tx_hash} log index {log_index}: {message}")


class _Bad(Exception):
    """Internal: malformed field; turned into DecodeError with the log's identity."""


_TX = re.compile(r"0x[0-9a-fA-F]{64}\Z")
_MAX_U32 = 2**32 - 1


def _plain_int(v: Any, name: str) -> int:
    """An integer given as a JSON number (not a bool, float or list)."""
    if v.__class__ is not int:
        raise _Bad(f"{name} {str(v)[:40]!r} is not a hex string or an integer")
    return v


def is_removed(log: Mapping[str, Any]) -> bool:
    """``removed: true`` exactly (JSON-RPC's boolean); the string "false" is not true."""
    return log.get("removed") is True


@dataclass
class Decoded:
    rows: dict[str, list[tuple]] = field(default_factory=lambda: {t: [] for t in TABLES})
    unknown: Counter = field(default_factory=Counter)
    count: int = 0

    def row_counts(self) -> dict[str, int]:
        return {t: len(r) for t, r in self.rows.items()}

    def as_dicts(self, table: str) -> list[dict[str, Any]]:
        cols = COLUMNS[table]
        return [dict(zip(cols, r)) for r in self.rows[table]]

    def extend(self, other: Decoded) -> None:
        for t, r in other.rows.items():
            self.rows.setdefault(t, []).extend(r)
        self.unknown.update(other.unknown)
        self.count += other.count


# ---- word helpers (data is '0x' + hex; word i starts at 2 + 64 i) ------------------------------------------------

def _word(data: str, i: int) -> int:
    return int(data[2 + 64 * i: 66 + 64 * i], 16)


def _uint_array(data: str, head_word: int) -> list[int]:
    """A uint256[] whose offset sits in head word ``head_word``; bounds-checked against the data length."""
    off = _word(data, head_word)
    if off % 32 or 2 + 2 * off + 64 > len(data):
        raise _Bad(f"array offset {off} outside data of {(len(data) - 2) // 2} bytes")
    p = 2 + 2 * off
    n = int(data[p:p + 64], 16)
    end = p + 64 + 64 * n
    if end > len(data):
        raise _Bad(f"array of {n} elements runs past data of {(len(data) - 2) // 2} bytes")
    return [int(data[q:q + 64], 16) for q in range(p + 64, end, 64)]


def _uint_array_x(x: int, nwords: int, head_word: int) -> list[int]:
    """Like _uint_array, reading words from the data already parsed as one int (no re-slicing)."""
    top = 256 * (nwords - 1)
    off = (x >> (top - 256 * head_word)) & _M
    start = off >> 5
    if off & 31 or start >= nwords:
        raise _Bad(f"array offset {off} outside data of {32 * nwords} bytes")
    n = (x >> (top - 256 * start)) & _M
    if start + 1 + n > nwords:
        raise _Bad(f"array of {n} elements runs past data of {32 * nwords} bytes")
    return [(x >> (top - 256 * j)) & _M for j in range(start + 1, start + 1 + n)]


def _bytes(data: str, head_word: int) -> str:
    off = _word(data, head_word)
    if off % 32 or 2 + 2 * off + 64 > len(data):
        raise _Bad(f"bytes offset {off} outside data")
    p = 2 + 2 * off
    n = int(data[p:p + 64], 16)
    if p + 64 + 2 * n > len(data):
        raise _Bad(f"bytes of length {n} run past data")
    return "0x" + data[p + 64:p + 64 + 2 * n].lower()


#: topic -> address, for topics already validated: a few addresses (operators, exchanges, busy wallets) fill
#: most topics, so a dict hit replaces the hex check, slice and lower-casing (TransferBatch: 3 topics per log)
_ADDRS: dict[str, str] = {}
_ADDRS_MAX = 1 << 16


def _addr(topic: str) -> str:
    a = _ADDRS.get(topic)
    if a is not None:
        return a
    if len(topic) != 66:
        raise _Bad(f"topic {topic!r} is not 0x + 32 bytes")
    int(topic, 16)  # validates hex
    a = "0x" + topic[26:].lower()
    if len(_ADDRS) >= _ADDRS_MAX:
        _ADDRS.clear()
    _ADDRS[topic] = a
    return a


def _b32(topic: str) -> str:
    if len(topic) != 66:
        raise _Bad(f"topic {topic!r} is not 0x + 32 bytes")
    int(topic, 16)
    return topic.lower()


def _u128(v: int, what: str) -> int:
    if v > MAX_UINT128:
        raise _Bad(f"{what} {v} exceeds UInt128")
    return v


class Decoder:
    """Reusable decoder state (address tables, block cache). ``decode_logs`` is the one-call form."""

    def __init__(self, *, block_times: Mapping[int, int] | None = None, version: int = 0):
        self.block_times = block_times or {}
        self.version = version
        c = contracts()
        self.adapter = c["neg_risk_adapter"].address
        self.usdc = token_address("usdc_e")
        self._blocks: dict[str, tuple[int, int | None]] = {}
        topic_handler = {
            "ctf.TransferSingle": self._transfer_single, "ctf.TransferBatch": self._transfer_batch,
            "ctf.ConditionPreparation": self._preparation, "ctf.ConditionResolution": self._resolution,
            "ctf.PositionSplit": self._ctf_split, "ctf.PositionsMerge": self._ctf_merge,
            "ctf.PayoutRedemption": self._ctf_redeem, "exchange.OrderFilled": self._fill_v1,
            "exchange.OrdersMatched": self._matched, "exchange.FeeCharged": self._fee,
            "exchange_v2.OrderFilled": self._fill_v2, "adapter.PositionSplit": self._adapter_split,
            "adapter.PositionsMerge": self._adapter_merge, "adapter.PositionsConverted": self._converted,
            "adapter.PayoutRedemption": self._adapter_redeem, "adapter.QuestionPrepared": self._question,
            "fee_module.FeeRefunded": self._fee_refund, "safe_factory.ProxyCreation": self._proxy_creation,
            "fpmm_factory.FixedProductMarketMakerCreation": self._fpmm_creation,
            "fpmm.FPMMBuy": self._fpmm_buy, "fpmm.FPMMSell": self._fpmm_sell,
            "fpmm.FPMMFundingAdded": self._fpmm_added, "fpmm.FPMMFundingRemoved": self._fpmm_removed,
        }
        #: events whose topic count varies between deployments (the handler checks the layout itself)
        loose = {"fee_module.FeeRefunded"}
        self.handlers: dict[str, dict[str, tuple[Callable, int, int | None]]] = {}
        for addr, by_topic in ev.by_address().items():
            self.handlers[addr] = {}
            for t0, e in by_topic.items():
                dyn = any(f.type.endswith("[]") or f.type == "bytes" for f in e.data_fields)
                nwords = None if dyn else len(e.data_fields)  # fixed layouts: exact data length
                if e.key in loose:
                    self.handlers[addr][t0] = (topic_handler[e.key], None, None)
                else:
                    self.handlers[addr][t0] = (topic_handler[e.key], 1 + len(e.indexed), nwords)
        #: events decoded from any address (the FPMMs', whose addresses only the factory's logs tell)
        self.any_handlers = {t0: (topic_handler[e.key], 1 + len(e.indexed), None)
                             for t0, e in ev.any_address_events().items()}

    # -- the loop --------------------------------------------------------------------------------------------

    def feed(self, logs: Iterable[Mapping[str, Any]], out: Decoded) -> Decoded:
        rows = out.rows
        unknown = out.unknown
        handlers = self.handlers
        blocks = self._blocks
        txs: set[str] = set()
        count = out.count
        for log in logs:
            count += 1
            try:
                addr = log["address"]
                table = handlers.get(addr)
                if table is None:
                    addr = addr.lower()
                    table = handlers.get(addr)
                topics = log["topics"]
                if table is None:
                    if topics and (topics[0] in self.any_handlers or topics[0].lower() in self.any_handlers):
                        table = self.any_handlers
                    else:
                        unknown[(addr.lower(), topics[0].lower() if topics else None)] += 1
                        continue
                if not topics:
                    raise _Bad("no topics")
                t0 = topics[0]
                h = table.get(t0) or table.get(t0.lower())
                if h is None:
                    unknown[(addr.lower(), t0.lower())] += 1
                    continue
                fn, ntopics, nwords = h
                if ntopics is not None and len(topics) != ntopics:
                    raise _Bad(f"expected {ntopics} topics, got {len(topics)}")
                data = log["data"]
                ld = len(data)
                if nwords is not None and ld != 2 + 64 * nwords:
                    raise _Bad(f"data is {(ld - 2) / 2:g} bytes, expected {32 * nwords}")
                if (ld - 2) % 64 or ld < 66 or data[:2] != "0x" or "_" in data or data[-1] in _WS:
                    raise _Bad("data is not 0x + whole 32-byte hex words")
                x = int(data, 16)  # validates every hex digit once; fixed layouts read their words from x
                tx = log["transactionHash"]
                if tx not in txs:  # checked once per transaction (its logs come together)
                    if tx.__class__ is not str or not _TX.match(tx):
                        raise _Bad(f"transaction hash {str(tx)[:80]!r} is not 0x + 64 hex")
                    if len(txs) > 4096:
                        txs.clear()
                    txs.add(tx)
                bkey = log["blockNumber"]
                b = blocks.get(bkey)
                if b is None:
                    b = self._block(bkey)
                ts = log.get("blockTimestamp")
                if ts is not None:
                    bt = int(ts, 16) if ts.__class__ is str else int(ts)
                elif b[1] is not None:
                    bt = b[1]
                else:
                    raise _Bad(f"no block time: log has no blockTimestamp and block {b[0]} is not in block_times")
                li = log["logIndex"]
                li = int(li, 16) if li.__class__ is str else _plain_int(li, "logIndex")
                if not 0 <= li <= _MAX_U32:
                    raise _Bad(f"logIndex {li} is outside 0..{_MAX_U32}")
                if not 0 <= bt <= _MAX_U32:
                    raise _Bad(f"blockTimestamp {bt} is outside 0..{_MAX_U32} (DateTime)")
                rm = log.get("removed", False)
                if rm is not True and rm is not False and rm is not None:
                    raise _Bad(f"removed is {rm!r}: must be true or false")
                fn(rows, (tx.lower(), li, b[0], bt), topics, data, x, 1 if rm is True else 0, addr)
            except (_Bad, KeyError, IndexError, ValueError, TypeError, AttributeError) as exc:
                if isinstance(exc, DecodeError):
                    raise
                tx = log.get("transactionHash") if isinstance(log, Mapping) else None
                li = log.get("logIndex") if isinstance(log, Mapping) else None
                try:
                    li = int(li, 16) if isinstance(li, str) else li
                except ValueError:
                    pass
                if isinstance(exc, _Bad):
                    what = str(exc)
                elif isinstance(exc, ValueError) and "base 16" in str(exc):
                    what = f"bad hex ({exc})"
                else:
                    what = f"{type(exc).__name__}: {exc}"
                ident = f"{log.get('address')} {log.get('topics', [None])[0] if log.get('topics') else None}" \
                    if isinstance(log, Mapping) else repr(log)[:80]
                out.count = count
                raise DecodeError(f"malformed log ({ident}): {what}", tx, li) from exc
        out.count = count
        return out

    def _block(self, bkey: str) -> tuple[int, int | None]:
        bn = int(bkey, 16) if isinstance(bkey, str) else _plain_int(bkey, "blockNumber")  # hex; ints tolerated
        if not 0 <= bn < 2**63:
            raise _Bad(f"blockNumber {bn} is out of range")
        if len(self._blocks) > 50_000:
            self._blocks.clear()
        b = self._blocks[bkey] = (bn, self.block_times.get(bn))
        return b

    # -- ConditionalTokens -------------------------------------------------------------------------------------

    def _transfer_single(self, rows, base, topics, data, x, deleted, ex):
        value = x & _M
        if value >> 128:
            raise _Bad(f"value {value} exceeds UInt128")
        rows["erc1155_transfers"].append(base + (
            0, _addr(topics[1]), _addr(topics[2]), _addr(topics[3]), x >> 256, value, self.version, deleted))

    def _transfer_batch(self, rows, base, topics, data, x, deleted, ex):
        nw = (len(data) - 2) >> 6
        if nw == 8 and x >> 1280 == _BATCH2_HEAD and (x >> 512) & _M == 2:
            # The common shape (a binary split, merge or fill leg): ids [a, b], values [u, v] at the standard
            # offsets 0x40 / 0xa0. Same checks as the general path, without building lists.
            v0, v1 = (x >> 256) & _M, x & _M
            if (v0 | v1) >> 128:
                raise _Bad(f"value {max(v0, v1)} exceeds UInt128")
            op, frm, to, v = _addr(topics[1]), _addr(topics[2]), _addr(topics[3]), self.version
            ap = rows["erc1155_transfers"].append
            ap(base + (0, op, frm, to, (x >> 1024) & _M, v0, v, deleted))
            ap(base + (1, op, frm, to, (x >> 768) & _M, v1, v, deleted))
            return
        ids, values = _uint_array_x(x, nw, 0), _uint_array_x(x, nw, 1)
        if len(ids) != len(values):
            raise _Bad(f"TransferBatch has {len(ids)} ids but {len(values)} values")
        op, frm, to = _addr(topics[1]), _addr(topics[2]), _addr(topics[3])
        v = self.version
        ap = rows["erc1155_transfers"].append
        for i, (tid, val) in enumerate(zip(ids, values)):
            if val >> 128:
                raise _Bad(f"value {val} exceeds UInt128")
            ap(base + (i, op, frm, to, tid, val, v, deleted))

    def _preparation(self, rows, base, topics, data, x, deleted, ex):
        cid, oracle, qid = _b32(topics[1]), _addr(topics[2]), _b32(topics[3])
        n = x
        if not 1 < n <= 256:
            raise _Bad(f"outcomeSlotCount {n} outside 2..256")
        rows["condition_preparations"].append(base + (cid, oracle, qid, n, self.version, deleted))
        neg = oracle == self.adapter
        coll = collateral_for(neg)
        tm = rows["token_map"]
        for i in range(n):
            tm.append((position_id(coll, collection_id(cid, 1 << i)), cid, i, 1 << i, coll, int(neg), self.version))

    def _resolution(self, rows, base, topics, data, x, deleted, ex):
        nums = _uint_array(data, 1)
        rows["condition_resolutions"].append(base + (
            _b32(topics[1]), _addr(topics[2]), _b32(topics[3]), int(data[2:66], 16), nums, self.version, deleted))

    def _ctf_action(self, rows, base, topics, data, x, deleted, action):
        amount = _u128(_word(data, 2), "amount")
        rows["ctf_actions"].append(base + (
            "ctf", action, _addr(topics[1]), "0x" + data[26:66].lower(), _b32(topics[2]), _b32(topics[3]),
            _uint_array(data, 1), [], amount, 0, self.version, deleted))

    def _ctf_split(self, rows, base, topics, data, x, deleted, ex):
        self._ctf_action(rows, base, topics, data, x, deleted, "split")

    def _ctf_merge(self, rows, base, topics, data, x, deleted, ex):
        self._ctf_action(rows, base, topics, data, x, deleted, "merge")

    def _ctf_redeem(self, rows, base, topics, data, x, deleted, ex):
        rows["ctf_actions"].append(base + (
            "ctf", "redeem", _addr(topics[1]), _addr(topics[2]), _b32(topics[3]), "0x" + data[2:66].lower(),
            _uint_array(data, 1), [], 0, _u128(_word(data, 2), "payout"), self.version, deleted))

    # -- exchanges -----------------------------------------------------------------------------------------------

    def _fill_v1(self, rows, base, topics, data, x, deleted, ex):
        maker_asset, taker_asset = x >> 1024, (x >> 768) & _M
        making, taking, fee = (x >> 512) & _M, (x >> 256) & _M, x & _M
        if (making | taking | fee) >> 128:
            raise _Bad(f"amounts {making}, {taking}, {fee} exceed UInt128")
        if maker_asset == 0 and taker_asset != 0:  # maker paid collateral: BUY; fee taken from the shares
            side, tok, shares, usdc, fee_sh, fee_usdc = "BUY", taker_asset, taking, making, fee, 0
        elif taker_asset == 0 and maker_asset != 0:  # maker gave shares: SELL; fee taken from the collateral
            side, tok, shares, usdc, fee_sh, fee_usdc = "SELL", maker_asset, making, taking, 0, fee
        else:
            raise _Bad(f"OrderFilled needs exactly one collateral (0) asset id, got {maker_asset} / {taker_asset}")
        rows["trades_raw"].append(base + (
            ex, _b32(topics[1]), _addr(topics[2]), _addr(topics[3]), side, tok, shares, usdc, fee_sh, fee_usdc,
            self.version, deleted))

    def _fill_v2(self, rows, base, topics, data, x, deleted, ex):
        side_n, tok = x >> 1536, (x >> 1280) & _M
        making, taking, fee = (x >> 1024) & _M, (x >> 768) & _M, (x >> 512) & _M
        if (making | taking | fee) >> 128:
            raise _Bad(f"amounts {making}, {taking}, {fee} exceed UInt128")
        if side_n == 0:
            side, shares, usdc = "BUY", taking, making
        elif side_n == 1:
            side, shares, usdc = "SELL", making, taking
        else:
            raise _Bad(f"V2 OrderFilled side {side_n} is neither 0 (BUY) nor 1 (SELL)")
        rows["trades_raw"].append(base + (
            ex, _b32(topics[1]), _addr(topics[2]), _addr(topics[3]), side, tok, shares, usdc, 0, fee,
            self.version, deleted))

    def _matched(self, rows, base, topics, data, x, deleted, ex):
        rows["orders_matched"].append(base + (
            ex, _b32(topics[1]), _addr(topics[2]), x >> 768, (x >> 512) & _M,
            _u128((x >> 256) & _M, "makerAmountFilled"), _u128(x & _M, "takerAmountFilled"), self.version, deleted))

    def _fee(self, rows, base, topics, data, x, deleted, ex):
        rows["fee_charged"].append(base + (
            ex, _addr(topics[1]), x >> 256, _u128(x & _M, "amount"),
            self.version, deleted))

    def _fee_refund(self, rows, base, topics, data, x, deleted, ex):
        """FeeRefunded, either layout: feeCharged as the 4th topic (older modules) or the 3rd data word."""
        words = (len(data) - 2) // 64
        if len(topics) == 4 and words == 2:
            tok, refund, charged = x >> 256, x & _M, int(topics[3], 16)
        elif len(topics) == 3 and words == 3:
            tok, refund, charged = x >> 512, (x >> 256) & _M, x & _M
        else:
            raise _Bad(f"FeeRefunded with {len(topics)} topics and {words} data words (expected 4 and 2, or 3 and 3)")
        rows["fee_refunds"].append(base + (
            ex, _b32(topics[1]), _addr(topics[2]), tok, _u128(refund, "refund"), charged, self.version, deleted))

    # -- proxy wallet factories ------------------------------------------------------------------------------------

    def _proxy_creation(self, rows, base, topics, data, x, deleted, ex):
        """SafeProxyFactory ProxyCreation(address proxy, address owner): both in the data, neither indexed."""
        if (x >> 416) or ((x & _M) >> 160):
            raise _Bad("ProxyCreation words are not addresses (non-zero upper 12 bytes)")
        rows["wallet_proxies"].append(base + (
            ex, "safe", "0x%040x" % (x & _M), "0x%040x" % (x >> 256), self.version, deleted))

    # -- NegRiskAdapter --------------------------------------------------------------------------------------------

    def _adapter_action(self, rows, base, topics, data, x, deleted, action):
        rows["ctf_actions"].append(base + (
            "neg_risk_adapter", action, _addr(topics[1]), self.usdc, ZERO32, _b32(topics[2]), [1, 2], [],
            _u128(x, "amount"), 0, self.version, deleted))

    def _adapter_split(self, rows, base, topics, data, x, deleted, ex):
        self._adapter_action(rows, base, topics, data, x, deleted, "split")

    def _adapter_merge(self, rows, base, topics, data, x, deleted, ex):
        self._adapter_action(rows, base, topics, data, x, deleted, "merge")

    def _adapter_redeem(self, rows, base, topics, data, x, deleted, ex):
        amounts = [_u128(a, "amounts") for a in _uint_array(data, 0)]
        rows["ctf_actions"].append(base + (
            "neg_risk_adapter", "redeem", _addr(topics[1]), self.usdc, ZERO32, _b32(topics[2]), [1, 2], amounts,
            0, _u128(_word(data, 1), "payout"), self.version, deleted))

    def _converted(self, rows, base, topics, data, x, deleted, ex):
        rows["neg_risk_conversions"].append(base + (
            _addr(topics[1]), _b32(topics[2]), int(topics[3], 16), _u128(x, "amount"),
            self.version, deleted))

    def _question(self, rows, base, topics, data, x, deleted, ex):
        qid = _b32(topics[2])
        idx = _word(data, 0)
        if idx > 255:
            raise _Bad(f"question index {idx} > 255")
        rows["neg_risk_questions"].append(base + (
            _b32(topics[1]), qid, idx, _condition_id(self.adapter, qid, 2), _bytes(data, 1), self.version, deleted))


    # -- the legacy AMM (FixedProductMarketMaker and its factory) ----------------------------------------------

    def _fpmm_creation(self, rows, base, topics, data, x, deleted, ex):
        words = (len(data) - 2) // 64
        if words < 4:
            raise _Bad(f"FixedProductMarketMakerCreation data is {words} words, expected at least 4")
        fpmm = _word(data, 0)
        if fpmm >> 160:
            raise _Bad(f"fixedProductMarketMaker word {fpmm:#x} is not an address")
        cids = [f"0x{c:064x}" for c in _uint_array(data, 1)]
        rows["fpmm_creations"].append(base + (
            ex.lower(), _addr(topics[1]), f"0x{fpmm:040x}", _addr(topics[2]), _addr(topics[3]), cids,
            _word(data, 2), self.version, deleted))

    def _fpmm_trade(self, rows, base, topics, data, x, deleted, ex, side):
        if len(data) != 2 + 64 * 3:
            raise _Bad(f"{side} data is {(len(data) - 2) / 2:g} bytes, expected 96")
        outcome = int(topics[2], 16)
        if outcome > 255:
            raise _Bad(f"outcomeIndex {outcome} > 255")
        rows["fpmm_trades"].append(base + (
            ex.lower(), _addr(topics[1]), side, outcome, _u128(x >> 512, "amount"),
            _u128((x >> 256) & _M, "feeAmount"), _u128(x & _M, "outcome tokens"), self.version, deleted))

    def _fpmm_buy(self, rows, base, topics, data, x, deleted, ex):
        self._fpmm_trade(rows, base, topics, data, x, deleted, ex, "BUY")

    def _fpmm_sell(self, rows, base, topics, data, x, deleted, ex):
        self._fpmm_trade(rows, base, topics, data, x, deleted, ex, "SELL")

    def _fpmm_added(self, rows, base, topics, data, x, deleted, ex):
        amounts = [_u128(a, "amountsAdded") for a in _uint_array(data, 0)]
        rows["fpmm_funding"].append(base + (
            ex.lower(), _addr(topics[1]), "add", amounts, 0, _u128(_word(data, 1), "sharesMinted"),
            self.version, deleted))

    def _fpmm_removed(self, rows, base, topics, data, x, deleted, ex):
        amounts = [_u128(a, "amountsRemoved") for a in _uint_array(data, 0)]
        rows["fpmm_funding"].append(base + (
            ex.lower(), _addr(topics[1]), "remove", amounts, _u128(_word(data, 1), "collateralRemovedFromFeePool"),
            _u128(_word(data, 2), "sharesBurnt"), self.version, deleted))


def make_decoder(*, block_times: Mapping[int, int] | None = None, version: int = 0) -> Decoder:
    return Decoder(block_times=block_times, version=version)


def decode_logs(logs: Iterable[Mapping[str, Any]], *, block_times: Mapping[int, int] | None = None,
                version: int = 0) -> Decoded:
    """Decode logs into rows per raw table (+ token_map from ConditionPreparation). See the module docstring."""
    return make_decoder(block_times=block_times, version=version).feed(logs, Decoded())
