"""The CLOB exchanges on the node: orders, token registration, matchOrders (V1 directly or through a FeeModule, V2
with collateral fees), plain share transfers, and the exchanges' fee formulas."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from harness.chain.contracts.abi import Tx, b32, calldata
from harness.config import contracts

#: The exchanges' operator when no fee module is in the way (Polymarket's operator EOA in real life): a protocol
#: account in contracts.yaml (role operator, address(keccak256("polymarket-pnl-harness operator"))), never a wallet.
OPERATOR = contracts()["exchange_operator"].address


class Side(IntEnum):
    BUY = 0
    SELL = 1


@dataclass
class Order:
    """A CLOB order as the exchanges take it (no signature: the operator is trusted on the test node).

    BUY: maker_amount is collateral offered, taker_amount the shares wanted; SELL: the other way round.
    """

    maker: str
    token_id: int
    side: Side
    maker_amount: int
    taker_amount: int
    fee_rate_bps: int = 0
    salt: int = 0

    def as_tuple(self) -> tuple:
        return (self.salt, self.maker.lower(), self.token_id, self.maker_amount, self.taker_amount,
                self.fee_rate_bps, int(self.side))


ORDER_TYPE = "(uint256,address,uint256,uint256,uint256,uint256,uint8)"
#: Exchange key -> (its fee module key or None, is V2).
EXCHANGES = {"ctf_exchange": ("fee_module", False), "neg_risk_exchange": ("neg_risk_fee_module", False),
             "ctf_exchange_v2": (None, True), "neg_risk_exchange_v2": (None, True)}


class ExchangeCalls:
    """Polymarket's exchange calls (a mixin of Polymarket: uses its addr, _send, salt and token_ids)."""

    def register(self, condition: str, *, neg_risk: bool = False) -> tuple[int, int]:
        """Register a condition's two position ids on the exchanges of its kind (V1 and V2); the ids."""
        y, n = self.token_ids(condition, neg_risk=neg_risk)
        keys = ("neg_risk_exchange", "neg_risk_exchange_v2") if neg_risk else ("ctf_exchange", "ctf_exchange_v2")
        for k in keys:
            self._send(OPERATOR, getattr(self.addr, k), calldata("registerToken(uint256,uint256,bytes32)", y, n,
                                                                 b32(condition)),
                       f"registerToken({k}, {condition})")
        return y, n

    def order(self, maker: str, token: int, side: Side | str, maker_amount: int, taker_amount: int,
              fee_rate_bps: int = 0) -> Order:
        """An Order with a fresh salt (so equal orders hash apart)."""
        sd = Side[side] if isinstance(side, str) else Side(side)
        return Order(maker.lower(), token, sd, maker_amount, taker_amount, fee_rate_bps, self.salt())

    def match(self, exchange_key: str, taker_order: Order, maker_orders: Sequence[Order], taker_fill: int,
              maker_fills: Sequence[int], *, fee_module: bool = False, operator_fees: Sequence[int] | None = None,
              fees: Sequence[int] | None = None) -> Tx:
        """matchOrders on an exchange, from the operator (V1 directly or through its FeeModule, V2 directly).

        V1: fees come from each order's fee_rate_bps (exchange formula); with ``fee_module`` the FeeModule is the
        operator and refunds each order the part above ``operator_fees`` (taker first, then makers; default 0 =
        refund all). V2: ``fees`` are the collateral fees per order (taker first), default v2_fee of each order.
        """
        if exchange_key not in EXCHANGES:
            raise ValueError(f"exchange {exchange_key!r}: expected one of {sorted(EXCHANGES)}")
        if len(maker_orders) != len(maker_fills):
            raise ValueError(f"match: {len(maker_orders)} maker orders but {len(maker_fills)} fills")
        fm_key, v2 = EXCHANGES[exchange_key]
        ex = getattr(self.addr, exchange_key)
        t, ms = taker_order.as_tuple(), [o.as_tuple() for o in maker_orders]
        what = f"match({exchange_key}, taker {taker_order.maker} {taker_order.side.name} {taker_fill}, " \
               f"{len(maker_orders)} makers{', fee module' if fee_module else ''})"
        if v2:
            if fee_module:
                raise ValueError("match: the V2 exchanges take fees directly; fee_module is V1 only")
            if fees is None:
                fees = [v2_fee(taker_order, taker_fill)] + [v2_fee(o, f) for o, f in zip(maker_orders, maker_fills)]
            if len(fees) != 1 + len(maker_orders):
                raise ValueError(f"match: {len(fees)} fees for {1 + len(maker_orders)} orders")
            return self._send(OPERATOR, ex, calldata(
                f"matchOrders({ORDER_TYPE},{ORDER_TYPE}[],uint256,uint256[],uint256,uint256[])", t, ms, taker_fill,
                list(maker_fills), fees[0], list(fees[1:])), what)
        if not fee_module:
            return self._send(OPERATOR, ex, calldata(
                f"matchOrders({ORDER_TYPE},{ORDER_TYPE}[],uint256,uint256[])", t, ms, taker_fill,
                list(maker_fills)), what)
        op = list(operator_fees) if operator_fees is not None else [0] * (1 + len(maker_orders))
        if len(op) != 1 + len(maker_orders):
            raise ValueError(f"match: {len(op)} operator fees for {1 + len(maker_orders)} orders")
        receive = taker_fill * taker_order.taker_amount // taker_order.maker_amount if taker_order.maker_amount else 0
        return self._send(OPERATOR, getattr(self.addr, fm_key), calldata(
            f"matchOrders({ORDER_TYPE},{ORDER_TYPE}[],uint256,uint256,uint256[],uint256,uint256[])", t, ms,
            taker_fill, receive, list(maker_fills), op[0], op[1:]), what)

    def transfer(self, frm: str, to: str, token: int, amount: int) -> Tx:
        """A plain ERC1155 transfer between wallets (CTF safeTransferFrom)."""
        f = frm.lower()
        return self._send(f, self.addr.ctf, calldata(
            "safeTransferFrom(address,address,uint256,uint256,bytes)", f, to.lower(), token, amount, b""),
            f"transfer({f} -> {to}, token {token}, {amount})")


def v1_fee(bps: int, outcome_tokens: int, maker_amount: int, taker_amount: int, side: Side) -> int:
    """CalculatorHelper.calculateFee (V1 exchange, FeeModule): price at 1e18, fee in the proceeds asset."""
    one = 10 ** 18
    if bps == 0:
        return 0
    if side == Side.BUY:
        price = maker_amount * one // taker_amount if taker_amount else 0
    else:
        price = taker_amount * one // maker_amount if maker_amount else 0
    if price == 0 or price > one:
        return 0
    m = min(price, one - price)
    if side == Side.BUY:
        return bps * m * outcome_tokens // (price * 10_000)
    return bps * m * outcome_tokens // (10_000 * one)


def v2_fee(order: Order, fill: int) -> int:
    """Default V2 collateral fee of a fill (the operator sets V2 fees): bps x min(collateral, shares - collateral),
    the simulator's V2 rule."""
    taking = fill * order.taker_amount // order.maker_amount if order.maker_amount else 0
    usdc, shares = (fill, taking) if order.side == Side.BUY else (taking, fill)
    return order.fee_rate_bps * min(usdc, shares - usdc) // 10_000 if shares > usdc else 0
