// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Shared pieces of the harness's own Polymarket contracts. Every contract here is placed at a real Polygon address
// with anvil_setCode, which runs no constructor: addresses live in storage set once by init(), and all other
// storage starts at zero. These are test doubles written from the public behaviour of Polymarket's contracts
// (events, layouts, order of transfers); they are not Polymarket's code.

interface IERC20 {
    function balanceOf(address) external view returns (uint256);
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function approve(address spender, uint256 amount) external returns (bool);
}

interface ICTF {
    function splitPosition(address collateral, bytes32 parent, bytes32 conditionId, uint256[] calldata partition,
                           uint256 amount) external;
    function mergePositions(address collateral, bytes32 parent, bytes32 conditionId, uint256[] calldata partition,
                            uint256 amount) external;
    function redeemPositions(address collateral, bytes32 parent, bytes32 conditionId, uint256[] calldata indexSets)
        external;
    function prepareCondition(address oracle, bytes32 questionId, uint256 outcomeSlotCount) external;
    function reportPayouts(bytes32 questionId, uint256[] calldata payouts) external;
    function getOutcomeSlotCount(bytes32 conditionId) external view returns (uint256);
    function getCollectionId(bytes32 parent, bytes32 conditionId, uint256 indexSet) external view returns (bytes32);
    function getPositionId(address collateral, bytes32 collectionId) external pure returns (uint256);
    function safeTransferFrom(address from, address to, uint256 id, uint256 value, bytes calldata data) external;
    function safeBatchTransferFrom(address from, address to, uint256[] calldata ids, uint256[] calldata values,
                                   bytes calldata data) external;
    function balanceOf(address owner, uint256 id) external view returns (uint256);
    function setApprovalForAll(address operator, bool approved) external;
    function isApprovedForAll(address owner, address operator) external view returns (bool);
}

/// @notice Accepts ERC1155 transfers (the CTF calls these on contract recipients).
abstract contract Receiver {
    function onERC1155Received(address, address, uint256, uint256, bytes calldata) external pure returns (bytes4) {
        return this.onERC1155Received.selector;
    }

    function onERC1155BatchReceived(address, address, uint256[] calldata, uint256[] calldata, bytes calldata)
        external
        pure
        returns (bytes4)
    {
        return this.onERC1155BatchReceived.selector;
    }

    function supportsInterface(bytes4 id) external pure returns (bool) {
        return id == 0x01ffc9a7 || id == 0x4e2312e0;
    }
}

/// @notice One-shot initialiser (setCode runs no constructor).
abstract contract Initialised {
    bool public initialised;

    modifier initializer() {
        require(!initialised, "already initialised");
        initialised = true;
        _;
    }
}

library Ids {
    function partition() internal pure returns (uint256[] memory p) {
        p = new uint256[](2);
        p[0] = 1;
        p[1] = 2;
    }

    function values(uint256 n, uint256 v) internal pure returns (uint256[] memory out) {
        out = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) out[i] = v;
    }

    /// @notice (outcome 0, outcome 1) position ids of a binary condition, computed by the CTF itself.
    function positionIds(ICTF ctf, address collateral, bytes32 conditionId) internal view returns (uint256[] memory ids) {
        ids = new uint256[](2);
        ids[0] = ctf.getPositionId(collateral, ctf.getCollectionId(bytes32(0), conditionId, 1));
        ids[1] = ctf.getPositionId(collateral, ctf.getCollectionId(bytes32(0), conditionId, 2));
    }
}

/// @notice Minimal 6-decimal ERC20 used for USDC.e and pUSD on the test node. No constructor state: it is placed
/// with anvil_setCode, so every slot starts at zero. Minting is open because this is test collateral.
abstract contract ERC20Base {
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    uint256 public totalSupply;

    function decimals() external pure returns (uint8) {
        return 6;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            require(allowed >= amount, "ERC20: allowance");
            allowance[from][msg.sender] = allowed - amount;
        }
        _move(from, to, amount);
        return true;
    }

    function _move(address from, address to, uint256 amount) internal {
        uint256 bal = balanceOf[from];
        require(bal >= amount, "ERC20: balance");
        balanceOf[from] = bal - amount;
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
    }

    function _mint(address to, uint256 amount) internal {
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    function _burn(address from, uint256 amount) internal {
        uint256 bal = balanceOf[from];
        require(bal >= amount, "ERC20: burn");
        balanceOf[from] = bal - amount;
        totalSupply -= amount;
        emit Transfer(from, address(0), amount);
    }
}

