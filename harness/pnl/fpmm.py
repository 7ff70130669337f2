"""The legacy AMM's pool arithmetic, for the simulators: what a FixedProductMarketMaker (gnosis
conditional-tokens-market-makers, contracts/FixedProductMarketMaker.sol, as Polymarket deployed it) computes and
emits for buy, sell, addFunding and removeFunding, in exact integers.

The pool holds one balance per outcome (its ConditionalTokens shares). A buy splits the investment less the fee
into every outcome and hands out the bought outcome; a sell takes the shares in and merges the return plus the fee.
Fees (investment x fee / 1e18 on a buy, return x fee / (1e18 - fee) on a sell) accrue to the LPs in collateral:
``fee_pool_weight`` and the per-account ``withdrawn`` ledger follow the contract's ``_beforeTokenTransfer`` and
``withdrawFees``, so removeFunding's ``collateralRemovedFromFeePool`` is the contract's to the unit.
Only the values P&L reads are modelled: no ERC20 events, no LP share transfers between accounts.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

ONE = 10**18


class PoolError(ValueError):
    """An operation the contract would revert (named as its require() does)."""


def ceildiv(x: int, y: int) -> int:
    return (x - 1) // y + 1 if x > 0 else 0


@dataclass
class Buy:
    investment: int
    fee: int
    outcome: int
    tokens: int


@dataclass
class Sell:
    returned: int
    fee: int
    outcome: int
    tokens: int


@dataclass
class Added:
    funds: int
    send_back: list[int]  # shares of each outcome returned to the funder
    amounts_added: list[int]  # FPMMFundingAdded.amountsAdded = funds - send_back
    minted: int


@dataclass
class Removed:
    amounts: list[int]  # FPMMFundingRemoved.amountsRemoved, sent to the funder
    fees: int  # collateralRemovedFromFeePool
    burnt: int


@dataclass
class Pool:
    outcomes: int = 2
    fee: int = 2 * 10**16  # 2%, a fraction of ONE
    balances: list[int] = field(default_factory=list)
    supply: int = 0
    shares: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    fee_pool_weight: int = 0
    withdrawn: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    total_withdrawn: int = 0
    collateral: int = 0  # the FPMM's own collateral: fees collected less fees withdrawn

    def __post_init__(self) -> None:
        if not self.balances:
            self.balances = [0] * self.outcomes

    # -- LP share bookkeeping (ERC20 _beforeTokenTransfer) ---------------------------------------------------------
    # Checked arithmetic, as the contract's (Solidity 0.8; Gnosis's FPMM uses SafeMath): a subtraction below zero
    # reverts the whole call, and so does a fee transfer above the collateral the FPMM holds (its fees, less what
    # was withdrawn). Each step is computed first and applied only when the call as a whole would succeed.
    def _fees_due(self, account: str) -> int:
        """withdrawFees' amount (raw - withdrawnFees[account]); PoolError where the contract reverts."""
        raw = self.fee_pool_weight * self.shares[account] // self.supply
        if raw < self.withdrawn[account]:
            raise PoolError(f"withdrawFees({account}) underflows: {raw} due < {self.withdrawn[account]} withdrawn "
                            "(a rounding shortfall; the contract reverts)")
        amount = raw - self.withdrawn[account]
        if amount > self.collateral:
            raise PoolError(f"withdrawal transfer failed: {amount} > {self.collateral} held")
        return amount

    def _mint(self, account: str, amount: int) -> None:
        moved = amount if self.supply == 0 else self.fee_pool_weight * amount // self.supply
        self.fee_pool_weight += moved
        self.withdrawn[account] += moved
        self.total_withdrawn += moved
        self.shares[account] += amount
        self.supply += amount

    def _burn(self, account: str, amount: int) -> int:
        """_burn: withdrawFees(account), then the burnt shares' part of the fee pool leaves the ledger."""
        paid = self._fees_due(account)
        withdrawn = self.withdrawn[account] + paid  # withdrawnFees[account] = raw when paid > 0
        moved = self.fee_pool_weight * amount // self.supply
        if moved > withdrawn or moved > self.total_withdrawn + paid or moved > self.fee_pool_weight:
            raise PoolError(f"burning {amount} LP shares of {account} underflows the fee ledger (the contract reverts)")
        self.collateral -= paid
        self.withdrawn[account] = withdrawn - moved
        self.total_withdrawn += paid - moved
        self.fee_pool_weight -= moved
        self.shares[account] -= amount
        self.supply -= amount
        return paid

    # -- the four calls ------------------------------------------------------------------------------------------
    def calc_buy(self, investment: int, outcome: int) -> int:
        net = investment - investment * self.fee // ONE
        end = self.balances[outcome] * ONE
        for i, b in enumerate(self.balances):
            if i != outcome:
                end = ceildiv(end * b, b + net)
        if end <= 0:
            raise PoolError("must have non-zero balances")
        return self.balances[outcome] + net - ceildiv(end, ONE)

    def calc_sell(self, returned: int, outcome: int) -> int:
        plus_fees = returned * ONE // (ONE - self.fee)
        end = self.balances[outcome] * ONE
        for i, b in enumerate(self.balances):
            if i != outcome:
                if b <= plus_fees:
                    raise PoolError("sell exceeds the pool")
                end = ceildiv(end * b, b - plus_fees)
        if end <= 0:
            raise PoolError("must have non-zero balances")
        return plus_fees + ceildiv(end, ONE) - self.balances[outcome]

    def buy(self, investment: int, outcome: int) -> Buy:
        """buy(): nothing changes when it would revert (PoolError)."""
        tokens = self.calc_buy(investment, outcome)
        fee = investment * self.fee // ONE
        after = [b + investment - fee for b in self.balances]
        if tokens <= 0 or tokens > after[outcome]:
            raise PoolError("buy exceeds the pool")
        after[outcome] -= tokens
        self.balances, self.fee_pool_weight = after, self.fee_pool_weight + fee
        self.collateral += fee
        return Buy(investment, fee, outcome, tokens)

    def sell(self, returned: int, outcome: int) -> Sell:
        """sell(): nothing changes when it would revert (PoolError)."""
        tokens = self.calc_sell(returned, outcome)
        fee = returned * self.fee // (ONE - self.fee)
        after = list(self.balances)
        after[outcome] += tokens
        if min(after) < returned + fee:
            raise PoolError("merge exceeds the pool")
        self.balances = [b - returned - fee for b in after]
        self.fee_pool_weight += fee
        self.collateral += fee
        return Sell(returned, fee, outcome, tokens)

    def add_funding(self, account: str, funds: int, hint: list[int] | None = None) -> Added:
        if funds <= 0:
            raise PoolError("funding must be non-zero")
        back = [0] * self.outcomes
        if self.supply > 0:
            weight = max(self.balances)
            if weight == 0:
                raise PoolError("addFunding divides by a zero pool balance")
            back = [funds - funds * b // weight for b in self.balances]
            minted = funds * self.supply // weight
        else:
            if hint:
                top = max(hint)
                back = [funds - funds * h // top for h in hint]
                if any(funds * h // top == 0 for h in hint):
                    raise PoolError("must hint a valid distribution")
            minted = funds
        self._mint(account, minted)
        self.balances = [b + funds - s for b, s in zip(self.balances, back)]
        return Added(funds, back, [funds - s for s in back], minted)

    def remove_funding(self, account: str, burnt: int) -> Removed:
        """removeFunding(): nothing changes when it would revert (PoolError)."""
        if not 0 < burnt <= self.shares[account]:
            raise PoolError(f"{account} holds {self.shares[account]} LP shares, burns {burnt}")
        amounts = [b * burnt // self.supply for b in self.balances]
        fees = self._burn(account, burnt)
        self.balances = [b - a for b, a in zip(self.balances, amounts)]
        return Removed(amounts, fees, burnt)

    def price(self, outcome: int) -> tuple[int, int]:
        """The binary pool's marginal price of ``outcome`` as a fraction (other balance / sum of balances)."""
        return self.balances[1 - outcome], sum(self.balances)
