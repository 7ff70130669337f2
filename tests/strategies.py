"""Hypothesis strategies for chain events and logs, reusable by any test (decoder, ingest, build).

``event_args(event)`` draws valid named arguments for one event; ``logs()`` draws encoded log objects from the
real contract addresses, in chain order, with block timestamps.
"""
from __future__ import annotations

from hypothesis import strategies as st

from harness.chain.encode import encode_log
from harness.chain.events import BY_KEY, EVENTS, Event

U128 = (1 << 128) - 1
hex20 = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
hex32 = st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex())
uint256 = st.one_of(st.integers(0, 2**64), st.integers(0, 2**256 - 1))
amount = st.one_of(st.integers(0, 10**12), st.integers(0, U128))  # shares / micro-USDC fit UInt128
token = st.integers(1, 2**256 - 1)

#: Field-name overrides where the schema narrows the ABI type (amounts are UInt128, asset ids are tokens).
_AMOUNT_FIELDS = {"value", "amount", "payout", "makerAmountFilled", "takerAmountFilled", "fee", "refund",
                  "investmentAmount", "feeAmount", "outcomeTokensBought", "returnAmount", "outcomeTokensSold",
                  "collateralRemovedFromFeePool", "sharesMinted", "sharesBurnt"}
#: Where a log of an event emitted from any address (an FPMM's) comes from in tests.
SOME_FPMM = "0x" + "f9" * 20


def emitter_address(key: str) -> str:
    """The address of an emitter key of harness.chain.events (``*``: any address, here SOME_FPMM)."""
    from harness.chain.events import address_of

    return SOME_FPMM if key == "*" else address_of(key)


def _field(event: Event, name: str, typ: str):
    if typ == "address":
        return hex20
    if typ == "bytes32":
        return hex32
    if typ == "uint8":
        return st.integers(0, 1)  # V2 side: 0 BUY, 1 SELL
    if typ == "bytes":
        return st.binary(max_size=80).map(lambda b: "0x" + b.hex())
    if typ == "bytes32[]":
        return st.lists(hex32, max_size=3)
    if typ == "uint256[]":
        elem = amount if name in ("values", "amounts", "amountsAdded", "amountsRemoved") else uint256
        if name in ("partition", "indexSets"):
            elem = st.integers(1, 2**8 - 1)
        return st.lists(elem, max_size=5)
    if name in _AMOUNT_FIELDS:
        return amount
    if name == "outcomeSlotCount":
        return st.integers(2, 8)
    if name in ("index", "outcomeIndex"):
        return st.integers(0, 255)
    if name == "id" or name == "tokenId":
        return token
    return uint256


@st.composite
def event_args(draw, event: Event | str):
    e = BY_KEY[event] if isinstance(event, str) else event
    args = {f.name: draw(_field(e, f.name, f.type)) for f in e.fields}
    if e.key == "ctf.TransferBatch":  # ids and values pair up
        n = min(len(args["ids"]), len(args["values"]))
        args["ids"], args["values"] = args["ids"][:n], args["values"][:n]
    if e.key == "ctf.ConditionResolution":
        args["payoutNumerators"] = draw(st.lists(st.integers(0, 10**6), min_size=args["outcomeSlotCount"],
                                                 max_size=args["outcomeSlotCount"]))
    if e.key == "exchange.OrderFilled" or e.key == "exchange.OrdersMatched":
        if draw(st.booleans()):
            args["makerAssetId"], args["takerAssetId"] = 0, draw(token)
        else:
            args["makerAssetId"], args["takerAssetId"] = draw(token), 0
    return args


@st.composite
def logs(draw, events: tuple[Event, ...] = EVENTS, max_size: int = 20):
    """A list of (event, args, log) in chain order; several logs per tx, several txs per block."""
    n = draw(st.integers(0, max_size))
    out = []
    block, t, li, tx = draw(st.integers(1, 10**8)), draw(st.integers(1_600_000_000, 1_900_000_000)), 0, 0
    for _ in range(n):
        if draw(st.integers(0, 3)) == 0:
            block, t, li = block + draw(st.integers(1, 5)), t + 2, 0
        if draw(st.integers(0, 2)) == 0:
            tx += 1
        e = draw(st.sampled_from(events))
        args = draw(event_args(e))
        addr = draw(st.sampled_from(e.emitters))
        log = encode_log(e, args, tx_hash="0x" + format(block * 1000 + tx, "064x"), log_index=li,
                         block_number=block, block_time=t, address=emitter_address(addr))
        li += 1
        out.append((e, args, log))
    return out


def fixed_args(event: Event | str, seed: int = 0) -> dict:
    """Deterministic valid arguments for one event (no hypothesis), for tests that need one of each quickly."""
    import random

    e = BY_KEY[event] if isinstance(event, str) else event
    rnd = random.Random(f"{e.key}:{seed}")
    args = {}
    for f in e.fields:
        if f.type == "address":
            args[f.name] = "0x" + rnd.randbytes(20).hex()
        elif f.type == "bytes32":
            args[f.name] = "0x" + rnd.randbytes(32).hex()
        elif f.type == "bytes":
            args[f.name] = "0x" + rnd.randbytes(rnd.randint(0, 70)).hex()
        elif f.type == "uint8":
            args[f.name] = rnd.randint(0, 1)
        elif f.type == "uint256[]":
            args[f.name] = [rnd.randint(1, 10**9) for _ in range(3)]
        elif f.type == "bytes32[]":
            args[f.name] = ["0x" + rnd.randbytes(32).hex()]
        elif f.name == "outcomeIndex":
            args[f.name] = rnd.randint(0, 1)
        elif f.name == "outcomeSlotCount":
            args[f.name] = 3
        elif f.name == "index":
            args[f.name] = rnd.randint(0, 9)
        else:
            args[f.name] = rnd.randint(1, 10**12)
    if "makerAssetId" in args:
        args["makerAssetId" if seed % 2 else "takerAssetId"] = 0
    return args
