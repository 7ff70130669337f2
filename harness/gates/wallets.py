"""Reference wallets (``wallets.yaml``): what the validate, dryrun and deploy gates check P&L against.

The file is schema-checked with line numbers, because a typo in a target must stop the gate with the file, line
and field named, not turn into a silently skipped or silently passed check.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path

import yaml

from harness.errors import UsageError

_ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
#: Cash-flow metrics (the plan's formula) and the average-cost ones Polymarket's UI shows (pnl-subgraph rules).
METRICS = ("total", "realized", "unrealized", "ui_total", "ui_realized")
LEVELS = ("must", "nice")
_FIELDS = {"name", "address", "target_usd", "tolerance_pct", "expected_bias_pct", "metric", "source", "as_of",
           "level", "note", "positions"}
_REQUIRED = ("name", "address", "target_usd", "tolerance_pct", "source", "level")
MICRO = Decimal(1_000_000)


class WalletsFileError(UsageError):
    """``<file>:<line>: <field>: <problem>``."""


@dataclass(frozen=True)
class ReferenceWallet:
    name: str
    address: str
    target_micros: int
    tolerance_pct: Decimal
    source: str
    level: str
    metric: str = "total"
    expected_bias_pct: Decimal = Decimal(0)
    as_of: str = ""
    as_of_ts: int | None = None  # unix seconds the target is valid at (end of day for a date); None = latest
    note: str = ""
    file: str = ""
    line: int = 0
    #: a saved Polymarket data-api /positions answer (path resolved against the wallets file's folder): the
    #: validate stage then compares the wallet position by position (harness.gates.checkwallet)
    positions: str = ""

    @property
    def target_usd(self) -> Decimal:
        return Decimal(self.target_micros) / MICRO


@dataclass(frozen=True)
class WalletCheck:
    """One wallet compared: outcome is passed, failed or no_data (never passed without data)."""

    wallet: ReferenceWallet
    computed_micros: int | None
    outcome: str

    @property
    def variance_pct(self) -> Decimal | None:
        if self.computed_micros is None:
            return None
        diff = Decimal(self.computed_micros - self.wallet.target_micros)
        if self.wallet.target_micros == 0:
            return Decimal(0) if diff == 0 else Decimal("Infinity") * (1 if diff > 0 else -1)
        return (diff * 100 / abs(Decimal(self.wallet.target_micros))).quantize(Decimal("0.0001"))

    def describe(self) -> str:
        w = self.wallet
        if self.computed_micros is None:
            return f"{w.name} {w.address}: no data in the warehouse (target ${w.target_usd:,})"
        got = Decimal(self.computed_micros) / MICRO
        bias = f", expected bias {w.expected_bias_pct}%" if w.expected_bias_pct else ""
        return (f"{w.name} {w.address}: {w.metric} ${got:,} vs target ${w.target_usd:,} "
                f"variance {self.variance_pct}% (tolerance ±{w.tolerance_pct}%{bias}) -> {self.outcome}")


def judge(wallet: ReferenceWallet, computed_micros: int | None) -> WalletCheck:
    """Pass when |variance − expected bias| ≤ tolerance; with tolerance 0 the match must be exact."""
    if computed_micros is None:
        return WalletCheck(wallet, None, "no_data")
    if wallet.tolerance_pct == 0 and wallet.expected_bias_pct == 0:
        return WalletCheck(wallet, computed_micros, "passed" if computed_micros == wallet.target_micros else "failed")
    if wallet.target_micros == 0:
        return WalletCheck(wallet, computed_micros, "passed" if computed_micros == 0 else "failed")
    # Exact: |diff*100 - bias*|target|| <= tol*|target|, no rounding of the variance before the comparison.
    t = abs(Decimal(wallet.target_micros))
    diff = Decimal(computed_micros - wallet.target_micros)
    ok = abs(diff * 100 - wallet.expected_bias_pct * t) <= wallet.tolerance_pct * t
    return WalletCheck(wallet, computed_micros, "passed" if ok else "failed")


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]00:?00)$")


def parse_as_of(text: str) -> int:
    """``as_of`` as unix seconds: a UTC date means the end of that day (23:59:59), a datetime must say UTC (Z or
    +00:00), a bare integer is unix seconds. Anything else raises ValueError (a target needs a real instant)."""
    t = text.strip()
    if t.isdigit():
        return int(t)
    if _DATE.match(t):
        return int(datetime.strptime(t, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()) + 86_399
    if _DATETIME.match(t):
        return int(datetime.fromisoformat(t.replace(" ", "T")).timestamp())
    raise ValueError(f"{t!r} is not a UTC instant: use YYYY-MM-DD (end of that day), YYYY-MM-DDTHH:MM:SSZ or "
                     "unix seconds")


def _err(path: Path, line: int, field: str, msg: str) -> WalletsFileError:
    return WalletsFileError(f"{path}:{line}: {field}: {msg}")


def _scalar_nodes(mapping: yaml.MappingNode, path: Path) -> dict[str, tuple[yaml.Node, object]]:
    out = {}
    for k, v in mapping.value:
        if not isinstance(k, yaml.ScalarNode):  # `? [a, b]`: a list or mapping as a key is no field name
            raise _err(path, k.start_mark.line + 1, "key", f"a {k.id} is not a field name")
        if k.value in out:  # YAML would silently keep the last one: a second target must not win quietly
            raise _err(path, k.start_mark.line + 1, k.value, f"given twice (first at line "
                       f"{out[k.value][1].start_mark.line + 1})")
        out[k.value] = (v, k)
    return out


def _decimal(path: Path, node: yaml.Node, field: str) -> Decimal:
    if not isinstance(node, yaml.ScalarNode) or node.value.strip() == "":
        raise _err(path, node.start_mark.line + 1, field, "must be a number")
    try:
        d = Decimal(node.value.strip().replace("_", ""))
    except InvalidOperation:
        raise _err(path, node.start_mark.line + 1, field, f"{node.value!r} is not a number") from None
    if not d.is_finite():
        raise _err(path, node.start_mark.line + 1, field, f"{node.value!r} is not a finite number")
    return d


def _text(path: Path, node: yaml.Node, field: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or not node.value.strip():
        raise _err(path, node.start_mark.line + 1, field, "must be a non-empty string")
    return node.value.strip()


#: A tolerance or bias beyond 100% of the target would accept any value of the opposite sign: not a check.
MAX_PCT = Decimal(100)
#: No wallet's P&L is a trillion dollars: a bigger target is a typo (micro-dollars given as dollars, say).
MAX_TARGET_USD = Decimal(10) ** 12
#: ``as_of`` must fall in this span (unix seconds, 2015-01-01 .. 2100-01-01): milliseconds by mistake are refused.
AS_OF_SPAN = (1_420_070_400, 4_102_444_800)


def _eip55_ok(address: str) -> bool:
    """Does the mixed-case address carry a valid EIP-55 checksum (keccak of the lower-case hex)?"""
    from eth_hash.auto import keccak

    body = address[2:]
    digest = keccak(body.lower().encode()).hex()
    return all(c.upper() == c if int(h, 16) >= 8 else c.lower() == c
               for c, h in zip(body, digest) if c.isalpha())


def load_wallets(path: str | Path) -> list[ReferenceWallet]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WalletsFileError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise WalletsFileError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        raise WalletsFileError(f"{path}:{line}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if root is None or not isinstance(root, yaml.MappingNode):
        raise _err(path, 1, "wallets", "file must be a mapping with a 'wallets' list")
    top = _scalar_nodes(root, path)
    if "wallets" not in top or not isinstance(top["wallets"][0], yaml.SequenceNode):
        raise _err(path, 1, "wallets", "a 'wallets' list is required")
    if not top["wallets"][0].value:  # a gate judged against no wallet at all would pass without checking one
        raise _err(path, top["wallets"][0].start_mark.line + 1, "wallets", "the list is empty: name at least one wallet")
    out: list[ReferenceWallet] = []
    seen: dict[str, int] = {}
    names: dict[str, int] = {}
    for item in top["wallets"][0].value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            raise _err(path, line, "wallets[]", "each entry must be a mapping")
        fields = _scalar_nodes(item, path)
        for name, (_, knode) in fields.items():
            if name not in _FIELDS:
                raise _err(path, knode.start_mark.line + 1, name, f"unknown field (allowed: {', '.join(sorted(_FIELDS))})")
        for req in _REQUIRED:
            if req not in fields:
                raise _err(path, line, req, "required field missing")
        node = lambda f: fields[f][0]  # noqa: E731
        address = _text(path, node("address"), "address")
        if not _ADDRESS.match(address):
            # Mixed case is an EIP-55 checksum: accepted (and stored lower-case) only when the checksum holds.
            if _ADDRESS.match(address.lower()) and address[2:] != address[2:].upper():
                if not _eip55_ok(address):
                    raise _err(path, node("address").start_mark.line + 1, "address",
                               f"{address!r} fails its EIP-55 checksum (a typo?); write it all lower-case "
                               "to skip the check")
                address = address.lower()
            elif _ADDRESS.match(address.lower()):
                address = address.lower()
            else:
                raise _err(path, node("address").start_mark.line + 1, "address",
                           f"{address!r} is not a 0x + 40 hex address")
        if address in seen:
            raise _err(path, node("address").start_mark.line + 1, "address",
                       f"{address} already listed at line {seen[address]}")
        seen[address] = line
        target = _decimal(path, node("target_usd"), "target_usd")
        if abs(target) > MAX_TARGET_USD:
            raise _err(path, node("target_usd").start_mark.line + 1, "target_usd",
                       f"{target} is beyond ±{MAX_TARGET_USD:,} USD: not a wallet's P&L (micro-dollars given as USD?)")
        micros = (target * MICRO).to_integral_value(rounding=ROUND_HALF_EVEN)
        if micros != target * MICRO:
            raise _err(path, node("target_usd").start_mark.line + 1, "target_usd",
                       "more than 6 decimal places (micro-dollar precision)")
        tol = _decimal(path, node("tolerance_pct"), "tolerance_pct")
        if not 0 <= tol <= MAX_PCT:
            raise _err(path, node("tolerance_pct").start_mark.line + 1, "tolerance_pct",
                       f"{tol} must be between 0 and {MAX_PCT} (percent of the target)")
        bias = _decimal(path, node("expected_bias_pct"), "expected_bias_pct") if "expected_bias_pct" in fields \
            else Decimal(0)
        if not -MAX_PCT <= bias <= MAX_PCT:
            raise _err(path, node("expected_bias_pct").start_mark.line + 1, "expected_bias_pct",
                       f"{bias} must be between -{MAX_PCT} and {MAX_PCT} (percent of the target)")
        metric = _text(path, node("metric"), "metric") if "metric" in fields else "total"
        if metric not in METRICS:
            raise _err(path, node("metric").start_mark.line + 1, "metric", f"{metric!r}: one of {', '.join(METRICS)}")
        level = _text(path, node("level"), "level")
        if level not in LEVELS:
            raise _err(path, node("level").start_mark.line + 1, "level", f"{level!r}: one of {', '.join(LEVELS)}")
        as_of, as_of_ts = "", None
        if "as_of" in fields:
            as_of = _text(path, node("as_of"), "as_of")
            try:
                as_of_ts = parse_as_of(as_of)
            except ValueError as exc:
                raise _err(path, node("as_of").start_mark.line + 1, "as_of", str(exc)) from None
            if not AS_OF_SPAN[0] <= as_of_ts < AS_OF_SPAN[1]:
                raise _err(path, node("as_of").start_mark.line + 1, "as_of", f"{as_of!r} is not between 2015 and "
                           "2100 (unix seconds, not milliseconds)")
        name = _text(path, node("name"), "name")
        if name in names:  # reports and gate rows name wallets: two of one name could not be told apart
            raise _err(path, node("name").start_mark.line + 1, "name", f"{name!r} already used at line {names[name]}")
        names[name] = line
        positions = ""
        if "positions" in fields:
            given = Path(_text(path, node("positions"), "positions"))
            resolved = given if given.is_absolute() else path.parent / given
            if not resolved.is_file():
                raise _err(path, node("positions").start_mark.line + 1, "positions",
                           f"{str(given)!r}: no such file (relative paths are read from {path.parent})")
            positions = str(resolved)
        out.append(ReferenceWallet(
            name=name, address=address, target_micros=int(micros), tolerance_pct=tol,
            source=_text(path, node("source"), "source"), level=level, metric=metric, expected_bias_pct=bias,
            as_of=as_of, as_of_ts=as_of_ts,
            note=_text(path, node("note"), "note") if "note" in fields else "",
            file=str(path), line=line, positions=positions,
        ))
    return out
