"""Market metadata (question, slug, outcome names, end date, negRisk ids, Gamma's token ids) from Gamma's markets API.

Why: the warehouse knows markets only by condition id, while people know them by their question. Names are display
data and never touch P&L, so a load takes Gamma's file as it is: its token ids are not required to match here.
Instead ``token_mismatches`` compares them with token_map (derived from the chain by harness.chain.tokens), and the
backfill stage fails on any disagreement, naming the condition and both ids: a wrong Gamma id or a wrong derivation
shows up instead of one silently labelling the other's market.

Input: Gamma ``/markets`` objects as a JSON array or JSON lines (``.gz`` allowed). Gamma sends ``outcomes`` and
``clobTokenIds`` as JSON-encoded string lists; plain lists are taken too. Records that wrap a Gamma object (the
public samples' ``condition_id``, ``token_ids``, ``raw``) are read through their ``raw`` object.
"""
from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clickhouse_connect.driver.client import Client

from harness.errors import UsageError
from harness.warehouse.sql import load

_HEX32 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
COLUMNS = ("condition_id", "question", "slug", "outcomes", "token_ids", "end_date", "neg_risk",
           "neg_risk_market_id", "question_id", "gamma_id", "source", "_version")
INSERT_BATCH = 20_000
#: Input limits (README, "ingest-markets"): far above any real Gamma record (~4 KB a line, questions under 300
#: characters), low enough that a corrupt or hostile file stops with its name instead of filling memory.
MAX_LINE_CHARS = 1_000_000           # one JSON-lines record
MAX_ARRAY_CHARS = 64_000_000         # a file that is one JSON array is read whole: bigger dumps go as JSON lines
MAX_FILE_CHARS = 8_000_000_000       # a whole file, decompressed (a .gz of blank lines is refused here)
MAX_TEXT_CHARS = {"question": 2_000, "slug": 1_000, "outcome": 500, "id": 100}
MAX_OUTCOMES = 64
MAX_DEPTH = 64                       # JSON nesting: Gamma's deepest is 3; the parser's own limit is the C stack

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class MetadataFileError(UsageError):
    """A markets file the loader cannot read: ``<file>:<line>: <field>: <problem>``."""


@dataclass(frozen=True)
class MarketMeta:
    """One Gamma market, ids normalised (condition and negRisk ids: 0x + 64 lower-case hex)."""

    condition_id: str
    question: str = ""
    slug: str = ""
    outcomes: tuple[str, ...] = ()
    token_ids: tuple[int, ...] = ()  # by outcome index, as Gamma lists them
    end_date: int | None = None  # unix seconds
    neg_risk: bool = False
    neg_risk_market_id: str = ""
    question_id: str = ""
    gamma_id: str = ""


@dataclass(frozen=True)
class TokenMismatch:
    """A condition whose Gamma token ids are not the ids derived from the chain (token_map)."""

    condition_id: str
    gamma: tuple[int, ...]
    derived: tuple[int, ...]

    def __str__(self) -> str:
        diff = [i for i in range(max(len(self.gamma), len(self.derived)))
                if self.gamma[i:i + 1] != self.derived[i:i + 1]]
        parts = [f"outcome {i}: gamma {_at(self.gamma, i)} derived {_at(self.derived, i)}" for i in diff]
        return f"{self.condition_id}: " + "; ".join(parts)


def _at(ids: tuple[int, ...], i: int) -> str:
    return str(ids[i]) if i < len(ids) else "none"


# ---------------------------------------------------------------- parsing


def _hex32(v, where: str, field: str, *, required: bool) -> str:
    s = str(v).strip() if v is not None else ""
    if not s:
        if required:
            raise MetadataFileError(f"{where}: {field}: missing")
        return ""
    if not _HEX32.match(s):
        raise MetadataFileError(f"{where}: {field}: {s[:80]!r} is not 32 bytes of hex")
    return "0x" + s[-64:].lower()


def _too_deep(text: str) -> bool:
    """Whether brackets outside strings nest deeper than MAX_DEPTH. Checked before parsing: the C parser's recursion
    check follows the interpreter's recursion limit, which a raised limit turns into a C stack overflow (a crash
    that names no file) on 200,000 nested brackets."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth = 0
    for ch in _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)):
        depth += 1 if ch in "[{" else -1
        if depth > MAX_DEPTH:
            return True
    return False


def _json(text: str, where: str, what: str = "not JSON"):
    """``json.loads(text)``; MetadataFileError naming ``where`` for bad JSON and for nesting too deep to parse."""
    if _too_deep(text):
        raise MetadataFileError(f"{where}: {what} (brackets nested too deeply to parse: more than {MAX_DEPTH} levels)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MetadataFileError(f"{where}: {what} ({exc.msg})") from None
    except RecursionError:
        raise MetadataFileError(f"{where}: {what} (brackets nested too deeply to parse)") from None


def _list(v, where: str, field: str) -> list:
    """Gamma's JSON-encoded string list (or a plain list); missing or empty is an empty list."""
    if v is None or v == "":
        return []
    if isinstance(v, str):
        v = _json(v, f"{where}: {field}", f"{v[:80]!r} is not a JSON list")
    if not isinstance(v, list):
        raise MetadataFileError(f"{where}: {field}: expected a list, got {type(v).__name__}")
    if len(v) > MAX_OUTCOMES:
        raise MetadataFileError(f"{where}: {field}: {len(v)} items, more than the {MAX_OUTCOMES} allowed")
    return v


def _token(t, where: str) -> int:
    try:
        n = int(t, 16) if isinstance(t, str) and t.strip().lower().startswith("0x") else int(str(t).strip())
    except ValueError:
        raise MetadataFileError(f"{where}: clobTokenIds: {str(t)[:80]!r} is not an integer") from None
    if not 0 <= n < 2**256 or isinstance(t, bool):
        raise MetadataFileError(f"{where}: clobTokenIds: {t!r} is not a uint256")
    return n


def _date(v, where: str, field: str) -> int | None:
    if v is None or v == "":
        return None
    try:
        d = datetime.fromisoformat(str(v).strip().replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        raise MetadataFileError(f"{where}: {field}: {str(v)[:40]!r} is not an ISO date") from None
    return int((d if d.tzinfo else d.replace(tzinfo=UTC)).timestamp())


def _bool(v, where: str, field: str) -> bool:
    if v is None or v == "":
        return False
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("true", "1"):
        return True
    if s in ("false", "0"):
        return False
    raise MetadataFileError(f"{where}: {field}: {v!r} is not a boolean")


def _text(v, where: str, field: str, limit: int) -> str:
    if v is None:
        return ""
    if not isinstance(v, str):
        raise MetadataFileError(f"{where}: {field}: expected a string, got {type(v).__name__}")
    if len(v) > limit:
        raise MetadataFileError(f"{where}: {field}: {len(v):,} characters, more than the {limit:,} allowed")
    return v.strip()


def parse_market(rec, where: str) -> MarketMeta | None:
    """One market object (or a sample record wrapping one in ``raw``); MetadataFileError names the field. None for
    a market with no condition id (Gamma lists markets before they are deployed on chain): nothing to key it by."""
    if not isinstance(rec, dict):
        raise MetadataFileError(f"{where}: not a market object (got {type(rec).__name__})")
    raw = rec.get("raw")
    if isinstance(raw, str):
        raw = _json(raw, f"{where}: raw", "not a JSON object")
    m = {**raw, **{k: v for k, v in rec.items() if k != "raw"}} if isinstance(raw, dict) else rec
    cid_field = "conditionId" if "conditionId" in m else "condition_id"
    cid = _hex32(m.get(cid_field), where, cid_field, required=False)
    if not cid:
        return None
    tok_field = "clobTokenIds" if "clobTokenIds" in m else "token_ids"
    tokens = tuple(_token(t, where) for t in _list(m.get(tok_field), where, tok_field))
    outcomes = tuple(_list(m.get("outcomes"), where, "outcomes"))
    if not all(isinstance(o, str) for o in outcomes):
        raise MetadataFileError(f"{where}: outcomes: {list(outcomes)[:8]!r} is not a list of names"[:300])
    outcomes = tuple(_text(o, where, "outcomes", MAX_TEXT_CHARS["outcome"]) for o in outcomes)
    if tokens and outcomes and len(tokens) != len(outcomes):
        raise MetadataFileError(f"{where}: clobTokenIds: {len(tokens)} token ids for {len(outcomes)} outcomes")
    end_field = "endDate" if m.get("endDate") else "endDateIso"
    return MarketMeta(
        condition_id=cid,
        question=_text(m.get("question"), where, "question", MAX_TEXT_CHARS["question"]),
        slug=_text(m.get("slug"), where, "slug", MAX_TEXT_CHARS["slug"]),
        outcomes=outcomes,
        token_ids=tokens,
        end_date=_date(m.get(end_field), where, end_field),
        neg_risk=_bool(m.get("negRisk"), where, "negRisk"),
        neg_risk_market_id=_hex32(m.get("negRiskMarketID"), where, "negRiskMarketID", required=False),
        question_id=_hex32(m.get("questionID"), where, "questionID", required=False),
        gamma_id=_text(str(m.get("id") or ""), where, "id", MAX_TEXT_CHARS["id"]),
    )


def _records(path: Path) -> Iterator[tuple[str, object]]:
    """(where, decoded JSON value) per market: array elements (where = file: market #n, the array read whole, up
    to MAX_ARRAY_CHARS) or non-blank lines (file:line, streamed one line of at most MAX_LINE_CHARS at a time, so a
    dump of any size reads in bounded memory, up to MAX_FILE_CHARS in all)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="\n") as fh:
            head = fh.read(4096)
            if head.lstrip().startswith("["):
                text = head + fh.read(MAX_ARRAY_CHARS + 1 - len(head))
                if len(text) > MAX_ARRAY_CHARS:
                    raise MetadataFileError(f"{path}: a JSON array of more than {MAX_ARRAY_CHARS:,} characters: "
                                            "give a dump this big as JSON lines (one market per line)")
                if _too_deep(text):
                    raise MetadataFileError(f"{path}: not JSON (brackets nested too deeply to parse: more than "
                                            f"{MAX_DEPTH} levels)")
                try:
                    items = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise MetadataFileError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None
                except RecursionError:
                    raise MetadataFileError(f"{path}: not JSON (brackets nested too deeply to parse)") from None
                for n, rec in enumerate(items, 1):
                    yield f"{path}: market #{n}", rec
                return
            fh.seek(0)
            total, n = 0, 0
            while line := fh.readline(MAX_LINE_CHARS + 1):  # only "\n" ends a line (U+2028 may sit in a string)
                n += 1
                total += len(line)
                if len(line) > MAX_LINE_CHARS:
                    raise MetadataFileError(f"{path}:{n}: a line of more than {MAX_LINE_CHARS:,} characters "
                                            "(a Gamma market is a few thousand): not a markets file")
                if total > MAX_FILE_CHARS:
                    raise MetadataFileError(f"{path}:{n}: more than {MAX_FILE_CHARS:,} characters decompressed: "
                                            "split the file")
                if line.strip():
                    yield f"{path}:{n}", _json(line, f"{path}:{n}")
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as exc:
        raise MetadataFileError(f"{path}: cannot read ({exc})") from None


@dataclass(frozen=True)
class MarketsFile:
    """A parsed markets file: its markets in file order, and where the ones with no condition id were."""

    path: Path
    markets: list[MarketMeta]
    skipped: list[str]


def read_markets_file(path: str | Path) -> MarketsFile:
    """Every market of a Gamma markets file (JSON array or JSON lines, optionally .gz); markets with no condition
    id are skipped and listed; a file with no market that has one is an error."""
    path = Path(path)
    out, skipped, seen = [], [], {}
    for where, rec in _records(path):
        try:
            m = parse_market(rec, where)
        except RecursionError:
            raise MetadataFileError(f"{where}: nested too deeply to read") from None
        if m is None:
            skipped.append(where)
        elif m.condition_id in seen:  # which of the two is right cannot be told: say both, load neither
            raise MetadataFileError(f"{where}: conditionId {m.condition_id} is also at {seen[m.condition_id]}: "
                                    "one record per market; nothing was loaded")
        else:
            seen[m.condition_id] = where
            out.append(m)
    if not out:
        raise MetadataFileError(f"{path}: no market with a condition id in the file"
                                + (f" ({len(skipped)} without one)" if skipped else ""))
    return MarketsFile(path, out, skipped)


def read_markets(path: str | Path) -> list[MarketMeta]:
    """The markets of a Gamma markets file that have a condition id, in file order (see read_markets_file)."""
    return read_markets_file(path).markets


# ---------------------------------------------------------------- warehouse


def insert_markets(client: Client, markets: Iterable[MarketMeta], *, version: int, source: str) -> int:
    """Store the markets (replacing earlier loads of the same conditions) and refresh the names lookup; returns
    the rows written."""
    rows, n = [], 0
    for m in markets:
        rows.append([m.condition_id, m.question, m.slug, list(m.outcomes), list(m.token_ids),
                     datetime.fromtimestamp(m.end_date, UTC) if m.end_date is not None else None,
                     int(m.neg_risk), m.neg_risk_market_id, m.question_id, m.gamma_id, source, version])
        if len(rows) >= INSERT_BATCH:
            client.insert("market_metadata", rows, column_names=list(COLUMNS))
            n, rows = n + len(rows), []
    if rows:
        client.insert("market_metadata", rows, column_names=list(COLUMNS))
        n += len(rows)
    refresh_names(client)
    return n


def refresh_names(client: Client) -> None:
    """Rewrite the market_names lookup (what the per-market view and the API read) from market_metadata."""
    client.command(load("ingest/market_names_clear"))
    client.command(load("ingest/market_names_fill"))


def load_markets_file(client: Client, file: str | Path | MarketsFile, *, version: int) -> int:
    """Store one Gamma markets file (a path is read first: the whole file is checked before anything is written),
    under the writer lease (one writer at a time); returns the markets written."""
    from harness.warehouse.lease import writer_lease

    mf = file if isinstance(file, MarketsFile) else read_markets_file(file)
    with writer_lease(client, f"ingest-markets {mf.path.name}"):
        return insert_markets(client, mf.markets, version=version, source=f"gamma:{mf.path.name}")


def token_mismatches(client: Client, limit: int = 100) -> tuple[int, list[TokenMismatch]]:
    """(conditions checked, up to ``limit`` disagreements): Gamma's token ids against token_map, for every market
    with token ids whose condition token_map knows. No metadata, or all agreeing, gives no disagreement."""
    rows = client.query(load("checks/market_token_mismatch"), parameters={"limit": limit}).result_rows
    checked = int(client.query(load("checks/market_token_checked")).result_rows[0][0])
    return checked, [TokenMismatch(cid, tuple(int(t) for t in g), tuple(int(t) for t in d)) for cid, g, d in rows]

