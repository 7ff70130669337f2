// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import "./Common.sol";

interface IMintable {
    function mint(address to, uint256 amount) external;
}

/// @notice V2 collateral (pUSD) backed 1:1 by USDC.e it holds. mint() is open test funding (it also mints the
/// backing USDC.e to itself); wrap/unwrap move between USDC.e and pUSD, as the V2 collateral adapters need.
contract PUSD is ERC20Base, Initialised {
    address public underlying;

    function init(address _underlying) external initializer {
        underlying = _underlying;
    }

    function mint(address to, uint256 amount) external {
        IMintable(underlying).mint(address(this), amount);
        _mint(to, amount);
    }

    function wrap(address to, uint256 amount) external {
        require(IERC20(underlying).transferFrom(msg.sender, address(this), amount), "pUSD: pull");
        _mint(to, amount);
    }

    function unwrap(address to, uint256 amount) external {
        _burn(msg.sender, amount);
        require(IERC20(underlying).transfer(to, amount), "pUSD: push");
    }
}
