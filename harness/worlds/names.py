"""Names for a simulated world's markets, and its markets file in Gamma's ``/markets`` shape.

Why: the demo (the committed fixture world, served by the main job) should show markets as people know them, by a
question, and exercise the same metadata path as Gamma's real files (harness.ingest.metadata, harness.ingest.markets). The
questions are made up and picked by hash of (seed, market), never from the simulator's random stream, so naming a
world changes none of its trades. Only ids and dates come from the world itself.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime

_ASSETS = (("Bitcoin", 60_000, 2_500), ("Ethereum", 2_400, 100), ("Solana", 140, 10), ("XRP", 1, 0),
           ("Dogecoin", 1, 0))
_TEAMS = ("Harbor Hawks", "Northfield Foxes", "Redwater Rams", "Lakeside Lynx", "Granite Owls", "Sunport Sharks",
          "Ironbridge Bears", "Coral Bay Comets")
_PEOPLE = ("Mara Ellison", "Theo Lindqvist", "Priya Raman", "Jonas Adeyemi", "Clara Whitfield", "Diego Marren",
           "Hana Koval", "Sam Oduya", "Lena Brandt", "Ravi Castell", "Ines Farrow", "Owen Marsh")
_PLACES = ("Port Avery", "Lakewood", "Eastmoor", "Brightwater", "Kingsbridge", "Silverton", "Marlow Heights")
_THINGS = ("a new product line", "a stock buyback", "a merger", "a leadership change", "a price cut")
_STATS = ("inflation", "unemployment", "GDP growth")
_EVENTS = ("{place} mayoral race", "{place} city council vote", "Continental Cup final", "Golden Reel award",
           "{place} marathon")


def _pick(seq, *key):
    h = int(hashlib.sha256(repr(key).encode()).hexdigest(), 16)
    return seq[h % len(seq)], h


def _day(t: int) -> str:
    d = datetime.fromtimestamp(t, UTC)
    return f"{d.strftime('%B')} {d.day}"


def binary_question(seed: int, k: int, end: int) -> str:
    """A yes/no question for binary market ``k``, dated by its end (unix seconds)."""
    kind, h = _pick(range(4), "binary", seed, k)
    if kind == 0:
        (asset, base, step), _ = _pick(_ASSETS, "asset", seed, k)
        level = base + step * (h % 9 - 4) if step else base
        return f"Will {asset} close above ${level:,} on {_day(end)}?"
    if kind == 1:
        a, _ = _pick(_TEAMS, "home", seed, k)
        b, _ = _pick([t for t in _TEAMS if t != a], "away", seed, k)
        return f"Will the {a} beat the {b} on {_day(end)}?"
    if kind == 2:
        who, _ = _pick(_PEOPLE, "ceo", seed, k)
        what, _ = _pick(_THINGS, "thing", seed, k)
        return f"Will {who} announce {what} by {_day(end)}?"
    place, _ = _pick(_PLACES, "place", seed, k)
    stat, _ = _pick(_STATS, "stat", seed, k)
    return f"Will {place}'s {stat} come in above {2 + h % 5}.{h % 10}% for {datetime.fromtimestamp(end, UTC):%B}?"


def event_title(seed: int, k: int) -> str:
    """The event a negRisk market ``k`` asks about, e.g. ``Port Avery mayoral race``."""
    ev, _ = _pick(_EVENTS, "event", seed, k)
    place, _ = _pick(_PLACES, "event-place", seed, k)
    return ev.format(place=place)


def neg_risk_questions(seed: int, k: int, n: int) -> list[str]:
    """One question per outcome of negRisk market ``k`` (``n`` questions, distinct candidates)."""
    title = event_title(seed, k)
    _, h = _pick((0,), "candidates", seed, k)
    start = h % len(_PEOPLE)
    return [f"Will {_PEOPLE[(start + 5 * i) % len(_PEOPLE)]} win the {title}?" for i in range(n)]


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def gamma_record(*, gamma_id: int, question: str, slug: str, condition_id: str, question_id: str,
                 tokens: tuple[int, int], neg_risk: bool, market_id: str | None, end: int, closed: bool) -> dict:
    """One market as Gamma's ``/markets`` lists it: ``outcomes`` and ``clobTokenIds`` as JSON-encoded strings."""
    rec = {"id": str(gamma_id), "question": question, "conditionId": condition_id, "slug": slug,
           "endDate": _iso(end), "outcomes": json.dumps(["Yes", "No"]),
           "clobTokenIds": json.dumps([str(t) for t in tokens]), "active": True, "closed": closed,
           "negRisk": neg_risk, "questionID": question_id}
    if neg_risk and market_id:
        rec["negRiskMarketID"] = market_id
    return rec
