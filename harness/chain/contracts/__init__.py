"""Polymarket's contracts running for real on a local anvil node: the truth that does not come from reading events.

Why: the simulator, the oracle and the SQL agree with each other by construction. Here the audited
ConditionalTokens bytecode (npm ``@gnosis.pm/conditional-tokens-contracts``) runs at the real CTF address and our
own settlement contracts (``contracts/*.sol``, compiled into ``harness/data/contracts``) run at the real exchange,
adapter and fee-module addresses; they move real balances and emit the real event layouts. Balances are read back
with ``balanceOf`` / ``balanceOfBatch``, never from events.

Amounts are int micro-units (6 decimals), addresses lower-case 0x-hex. Transactions are sent from any address
without keys (anvil auto-impersonation), gas price 0. Outside ``with pm.block(ts):`` every call is mined in its own
block; inside, the calls are queued and mined together in one block at ``ts``. A reverted transaction raises
``ContractError`` naming the call and the revert reason. Usable without pytest::

    with Anvil.start() as node:
        pm = Polymarket.install(node)
        pm.fund(alice, usdc=100_000_000)
        pm.approve([alice])
        cid = pm.prepare_condition(oracle, qid)
        pm.split(alice, cid, 10_000_000)
"""
