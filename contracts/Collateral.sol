// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import "./Common.sol";

/// @notice Test collateral (USDC.e): anyone may mint. Placed with anvil_setCode, so all storage starts at zero.
contract Collateral is ERC20Base {
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
