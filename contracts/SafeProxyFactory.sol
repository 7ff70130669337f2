// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// Polymarket's SafeProxyFactory (Polymarket/proxy-factories, packages/safe-factory), emulated for its event only.
/// The real factory deploys a Gnosis Safe by CREATE2 for the signer of an EIP-712 CreateProxy message and then
/// emits ProxyCreation(proxy, owner), neither field indexed. Here the caller is the owner (anvil impersonation
/// stands in for the signature) and names the proxy address (a world wallet): nothing is deployed, since the P&L
/// reads only the owner -> proxy link and the proxy's own share and collateral movements.
contract SafeProxyFactory {
    event ProxyCreation(address proxy, address owner);

    function createProxy(address proxy) external {
        emit ProxyCreation(proxy, msg.sender);
    }
}
