"""Proxy wallets: which address holds an EOA's positions.

A profile address on polymarket.com is a proxy wallet; the EOA that signs for it holds nothing itself. Two factories
make proxies (harness/data/contracts.yaml, with sources):

- the SafeProxyFactory emits ``ProxyCreation(address proxy, address owner)``: the ingest decodes it into
  ``wallet_proxies``, so Safe links are known from the chain, block by block;
- the older ProxyWalletFactory emits nothing: a proxy is a CREATE2 clone at an address fixed by the owner
  (salt = keccak256(owner), init code = FactoryLib.computeCreationCode(factory, implementation)), so it is derived
  here, the way Polymarket's own subgraph and clients derive it. A derived address is only a candidate: it counts
  when the warehouse holds P&L rows for it.
"""
from __future__ import annotations

from dataclasses import dataclass

from eth_hash.auto import keccak

from harness.config import contracts, other_address
from harness.warehouse.sql import load

#: ``cloneConstructor(bytes)`` selector + an empty ``bytes`` argument: the tail FactoryLib appends to the clone code.
_CLONE_CONSTRUCTOR = keccak(b"cloneConstructor(bytes)")[:4] + (32).to_bytes(32, "big") + bytes(32)


def _addr_bytes(address: str) -> bytes:
    a = address.lower().removeprefix("0x")
    if len(a) != 40:
        raise ValueError(f"address {address!r} is not 0x followed by 40 hex digits")
    return bytes.fromhex(a)


def proxy_init_code(factory: str, implementation: str) -> bytes:
    """The ProxyWalletFactory's clone creation code (FactoryLib.computeCreationCode(deployer, target)): a minimal
    proxy that delegates to ``implementation`` and calls back ``cloneConstructor`` on ``factory``."""
    return (bytes.fromhex("3d3d606380380380913d393d73") + _addr_bytes(factory)
            + bytes.fromhex("5af4602a57600080fd5b602d8060366000396000f3363d3d373d3d3d363d73")
            + _addr_bytes(implementation) + bytes.fromhex("5af43d82803e903d91602b57fd5bf3") + _CLONE_CONSTRUCTOR)


def create2_address(deployer: str, salt: bytes, init_code_hash: bytes) -> str:
    """EIP-1014: keccak256(0xff ++ deployer ++ salt ++ keccak256(init_code))[12:]."""
    return "0x" + keccak(b"\xff" + _addr_bytes(deployer) + salt + init_code_hash)[12:].hex()


def polymarket_proxy_address(owner: str, factory: str | None = None, implementation: str | None = None) -> str:
    """The ProxyWalletFactory proxy of ``owner`` (lower-case), whether or not it was ever deployed."""
    factory = factory or contracts()["proxy_wallet_factory"].address
    implementation = implementation or other_address("proxy_wallet_implementation")
    return create2_address(factory, keccak(_addr_bytes(owner)), keccak(proxy_init_code(factory, implementation)))


#: PolySafeLib.proxyCreationCode (Polymarket/ctf-exchange, src/exchange/libraries/PolySafeLib.sol): the GnosisSafeProxy
#: creation code the SafeProxyFactory deploys with CREATE2, followed by abi.encode(masterCopy).
SAFE_PROXY_CREATION_CODE = bytes.fromhex(
    "608060405234801561001057600080fd5b5060405161017138038061017183398101604081905261002f916100b9565b6001600160a0"
    "1b0381166100945760405162461bcd60e51b815260206004820152602260248201527f496e76616c69642073696e676c65746f6e2061"
    "6464726573732070726f766964604482015261195960f21b606482015260840160405180910390fd5b600080546001600160a01b0319"
    "166001600160a01b03929092169190911790556100e7565b6000602082840312156100ca578081fd5b81516001600160a01b03811681"
    "146100e0578182fd5b9392505050565b607c806100f56000396000f3fe6080604052600080546001600160a01b0316813563530ca437"
    "60e11b1415602857808252602082f35b3682833781823684845af490503d82833e806041573d82fd5b503d81f3fea264697066735822"
    "122015938e3bf2c49f5df5c1b7f9569fa85cc5d6f3074bb258a2dc0c7e299bc9e33664736f6c63430008040033")


def safe_init_code(implementation: str | None = None) -> bytes:
    """PolySafeLib.getContractBytecode(masterCopy): the Safe proxy's CREATE2 init code."""
    impl = implementation or other_address("safe_implementation")
    return SAFE_PROXY_CREATION_CODE + bytes(12) + _addr_bytes(impl)


def polymarket_safe_address(owner: str, factory: str | None = None, implementation: str | None = None) -> str:
    """The SafeProxyFactory Safe of ``owner`` (PolySafeLib.getSafeAddress: salt keccak256(abi.encode(owner))),
    whether or not it was ever deployed. Used by check-wallet, which has no ProxyCreation rows to read."""
    factory = factory or contracts()["safe_proxy_factory"].address
    return create2_address(factory, keccak(bytes(12) + _addr_bytes(owner)), keccak(safe_init_code(implementation)))


@dataclass(frozen=True)
class ProxyLink:
    """``owner`` signs for ``proxy``; ``kind`` 'safe' (ProxyCreation event) or 'proxy' (ProxyWalletFactory,
    derived by CREATE2); ``source`` says how the link is known."""

    owner: str
    proxy: str
    kind: str
    source: str


def proxy_links(owner: str, event_rows: list[tuple]) -> list[ProxyLink]:
    """Candidates in the order they are tried: the (proxy, kind) rows of ``sql/queries/proxies_of.sql`` (oldest
    first), then the derived ProxyWalletFactory address. ``owner`` is a lower-case 0x address."""
    out = [ProxyLink(owner, proxy, kind, "ProxyCreation event") for proxy, kind in event_rows]
    derived = polymarket_proxy_address(owner)
    if all(p.proxy != derived for p in out):
        out.append(ProxyLink(owner, derived, "proxy", "CREATE2 derivation (ProxyWalletFactory)"))
    return out


def proxies_of(client, owner: str) -> list[ProxyLink]:
    """Every proxy ``owner`` has or would have (see ``proxy_links``)."""
    return proxy_links(owner, client.query(load("queries/proxies_of"), parameters={"owner": owner}).result_rows)


def first_with_rows(links: list[ProxyLink], has_rows) -> ProxyLink | None:
    """The first of ``links`` for which ``has_rows(addresses)`` (-> the set of those with P&L rows) says yes; None
    when none has rows."""
    have = has_rows([p.proxy for p in links])
    return next((p for p in links if p.proxy in have), None)


def resolve(client, owner: str, has_rows) -> ProxyLink | None:
    """The proxy whose P&L answers for ``owner`` (see ``first_with_rows``)."""
    return first_with_rows(proxies_of(client, owner), has_rows)
