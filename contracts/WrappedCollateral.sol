// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import "./Common.sol";

/// @notice The NegRiskAdapter's wrapped collateral (wcol): USDC.e held 1:1, owner = the adapter. Same surface as the
/// real one: wrap (owner), unwrap (anyone, own balance), mint/burn/release (owner).
contract WrappedCollateral is ERC20Base, Initialised {
    address public owner;
    address public underlying;

    modifier onlyOwner() {
        require(msg.sender == owner, "wcol: only owner");
        _;
    }

    function init(address _owner, address _underlying) external initializer {
        owner = _owner;
        underlying = _underlying;
    }

    function wrap(address to, uint256 amount) external onlyOwner {
        require(IERC20(underlying).transferFrom(msg.sender, address(this), amount), "wcol: pull");
        _mint(to, amount);
    }

    function unwrap(address to, uint256 amount) external {
        _burn(msg.sender, amount);
        require(IERC20(underlying).transfer(to, amount), "wcol: push");
    }

    function mint(uint256 amount) external onlyOwner {
        _mint(msg.sender, amount);
    }

    function burn(uint256 amount) external onlyOwner {
        _burn(msg.sender, amount);
    }

    function release(address to, uint256 amount) external onlyOwner {
        require(IERC20(underlying).transfer(to, amount), "wcol: release");
    }
}
