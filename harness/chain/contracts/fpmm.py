"""The legacy AMM on the node (FixedProductMarketMaker double, contracts/FixedProductMarketMaker.sol): creation by
the factory, funding added and removed, buys and sells. The pool arithmetic itself is harness.pnl.fpmm."""
from __future__ import annotations

from collections.abc import Sequence

from harness.chain.contracts.abi import MAX_UINT, Tx, b32, calldata
from harness.chain.contracts.artefacts import artefact


class FpmmCalls:
    """Polymarket's FPMM calls (a mixin of Polymarket: uses its node, addr, _send and fpmm_approved)."""

    def create_fpmm(self, creator: str, fpmm: str, condition: str, fee: int = 2 * 10**16) -> Tx:
        """Place the FPMM's code at ``fpmm`` (the factory double cannot choose an address) and have the factory,
        called by ``creator``, initialise it and emit FixedProductMarketMakerCreation (collateral USDC.e)."""
        self.node.call("anvil_setCode", fpmm.lower(), artefact("FixedProductMarketMaker")["deployedBytecode"])
        a = self.addr
        return self._send(creator, a.fpmm_factory, calldata(
            "createFixedProductMarketMaker(address,address,address,bytes32[],uint256)", fpmm.lower(), a.ctf, a.usdc,
            [b32(condition)], fee), f"createFixedProductMarketMaker({fpmm}, {condition})")

    def _fpmm_approve(self, wallet: str, fpmm: str) -> None:
        """The FPMM pulls USDC.e (buy, addFunding) and the wallet's shares (sell): approved once per pair."""
        w, f = wallet.lower(), fpmm.lower()
        if (w, f) in self.fpmm_approved:
            return
        self.fpmm_approved.add((w, f))
        self._send(w, self.addr.usdc, calldata("approve(address,uint256)", f, MAX_UINT), f"approve({w}, {f})")
        self._send(w, self.addr.ctf, calldata("setApprovalForAll(address,bool)", f, True),
                   f"setApprovalForAll({w}, {f})")

    def fpmm_add(self, wallet: str, fpmm: str, funds: int, hint: Sequence[int] = ()) -> Tx:
        self._fpmm_approve(wallet, fpmm)
        return self._send(wallet, fpmm, calldata("addFunding(uint256,uint256[])", funds, list(hint)),
                          f"addFunding({wallet}, {fpmm}, {funds}, {list(hint)})")

    def fpmm_remove(self, wallet: str, fpmm: str, shares: int) -> Tx:
        return self._send(wallet, fpmm, calldata("removeFunding(uint256)", shares),
                          f"removeFunding({wallet}, {fpmm}, {shares})")

    def fpmm_buy(self, wallet: str, fpmm: str, investment: int, outcome: int, min_tokens: int = 0) -> Tx:
        self._fpmm_approve(wallet, fpmm)
        return self._send(wallet, fpmm, calldata("buy(uint256,uint256,uint256)", investment, outcome, min_tokens),
                          f"FPMM buy({wallet}, {fpmm}, {investment}, outcome {outcome})")

    def fpmm_sell(self, wallet: str, fpmm: str, returned: int, outcome: int, max_tokens: int = MAX_UINT) -> Tx:
        self._fpmm_approve(wallet, fpmm)
        return self._send(wallet, fpmm, calldata("sell(uint256,uint256,uint256)", returned, outcome, max_tokens),
                          f"FPMM sell({wallet}, {fpmm}, {returned}, outcome {outcome})")
