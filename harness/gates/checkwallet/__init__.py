"""check-wallet: one wallet's P&L from its own logs, before (or without) any backfill.

Why it is enough: every event that moves a wallet's P&L names it in an indexed topic (OrderFilled maker / taker,
TransferSingle / TransferBatch from / to, CTF and NegRiskAdapter stakeholder or redeemer, FeeRefunded to, the
FPMMs' trader / funder), so topic-filtered ``eth_getLogs`` over the range returns the wallet's history and nothing
else. To that are added: the whole transactions in which it traded through a V2 collateral adapter (the adapter,
not the wallet, is the CTF stakeholder there), the FPMMs' creations, the preparations of every condition touched
(for token ids never seen in a split or redemption, the ConditionPreparation logs are scanned backwards from the
wallet's first use of them until all are mapped), the negRisk questions of every market touched, the resolutions,
and, per open market, the fills newer than the wallet's own last one (scanned backwards from the end of the range
until the market's latest fill is found), which price its open tokens.

The figures then come from the warehouse's own code: the logs go through the normal sink (decode, insert,
checkpoint) into a scratch database, the normal full build runs there, and the same tables and views the
warehouse serves are read, so no P&L rule is written twice. Fetching uses the backfill's RPC client and window
logic (harness.chain.rpc.iter_windows): retries, failover, and windows halved when a node refuses them.
"""
from __future__ import annotations

from harness.errors import HarnessError


class CheckWalletError(HarnessError, RuntimeError):
    """A check-wallet input (positions file, data API answer) is unusable; the message names it."""
