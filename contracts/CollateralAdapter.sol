// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import "./Common.sol";

interface IPUSD {
    function wrap(address to, uint256 amount) external;
    function unwrap(address to, uint256 amount) external;
}

interface INegRiskAdapter {
    function splitPosition(bytes32 conditionId, uint256 amount) external;
    function mergePositions(bytes32 conditionId, uint256 amount) external;
    function redeemPositions(bytes32 conditionId, uint256[] calldata amounts) external;
    function convertPositions(bytes32 marketId, uint256 indexSet, uint256 amount) external;
    function getPositionId(bytes32 questionId, bool outcome) external view returns (uint256);
    function getQuestionCount(bytes32 marketId) external view returns (uint256);
}

/// @notice V2 collateral adapter double (standard at 0xada1..., negRisk at 0xada2...): users (and the V2 exchange)
/// split, merge, redeem and convert in pUSD; the adapter unwraps pUSD to USDC.e, is itself the CTF stakeholder /
/// redeemer (or calls the NegRiskAdapter), moves the shares on to the caller and emits no events of its own.
contract CollateralAdapter is Receiver, Initialised {
    ICTF public ctf;
    address public pusd;
    address public usdc;
    INegRiskAdapter public negRiskAdapter; // zero for the standard adapter
    address public wcol;

    function init(address _ctf, address _pusd, address _usdc, address _negRiskAdapter, address _wcol)
        external
        initializer
    {
        ctf = ICTF(_ctf);
        pusd = _pusd;
        usdc = _usdc;
        negRiskAdapter = INegRiskAdapter(_negRiskAdapter);
        wcol = _wcol;
        IERC20(_usdc).approve(_ctf, type(uint256).max);
        IERC20(_usdc).approve(_pusd, type(uint256).max);
        if (_negRiskAdapter != address(0)) {
            IERC20(_usdc).approve(_negRiskAdapter, type(uint256).max);
            ICTF(_ctf).setApprovalForAll(_negRiskAdapter, true);
        }
    }

    function _ids(bytes32 conditionId) internal view returns (uint256[] memory) {
        return Ids.positionIds(ctf, address(negRiskAdapter) == address(0) ? usdc : wcol, conditionId);
    }

    function splitPosition(address, bytes32, bytes32 conditionId, uint256[] calldata, uint256 amount) external {
        require(IERC20(pusd).transferFrom(msg.sender, address(this), amount), "pUSD pull");
        IPUSD(pusd).unwrap(address(this), amount);
        if (address(negRiskAdapter) == address(0)) {
            ctf.splitPosition(usdc, bytes32(0), conditionId, Ids.partition(), amount);
        } else {
            negRiskAdapter.splitPosition(conditionId, amount);
        }
        ctf.safeBatchTransferFrom(address(this), msg.sender, _ids(conditionId), Ids.values(2, amount), "");
    }

    function mergePositions(address, bytes32, bytes32 conditionId, uint256[] calldata, uint256 amount) external {
        ctf.safeBatchTransferFrom(msg.sender, address(this), _ids(conditionId), Ids.values(2, amount), "");
        if (address(negRiskAdapter) == address(0)) {
            ctf.mergePositions(usdc, bytes32(0), conditionId, Ids.partition(), amount);
        } else {
            negRiskAdapter.mergePositions(conditionId, amount);
        }
        IPUSD(pusd).wrap(msg.sender, amount);
    }

    /// @notice Redeems the caller's whole balance of both outcomes; pays pUSD.
    function redeemPositions(address, bytes32, bytes32 conditionId, uint256[] calldata) external {
        uint256[] memory ids = _ids(conditionId);
        uint256[] memory amounts = new uint256[](2);
        amounts[0] = ctf.balanceOf(msg.sender, ids[0]);
        amounts[1] = ctf.balanceOf(msg.sender, ids[1]);
        ctf.safeBatchTransferFrom(msg.sender, address(this), ids, amounts, "");
        if (address(negRiskAdapter) == address(0)) {
            ctf.redeemPositions(usdc, bytes32(0), conditionId, Ids.partition());
        } else {
            negRiskAdapter.redeemPositions(conditionId, amounts);
        }
        uint256 payout = IERC20(usdc).balanceOf(address(this));
        if (payout > 0) IPUSD(pusd).wrap(msg.sender, payout);
    }

    /// @notice negRisk only: hand in NO of the questions in indexSet, get YES of the others and pUSD.
    function convertPositions(bytes32 marketId, uint256 indexSet, uint256 amount) external {
        require(address(negRiskAdapter) != address(0), "not a negRisk adapter");
        uint256 count = negRiskAdapter.getQuestionCount(marketId);
        uint256 noCount;
        for (uint256 i = 0; i < count; ++i) if (indexSet & (1 << i) != 0) ++noCount;
        uint256[] memory noIds = new uint256[](noCount);
        uint256[] memory yesIds = new uint256[](count - noCount);
        uint256[] memory yesAmounts = new uint256[](count - noCount);
        (uint256 n, uint256 y) = (0, 0);
        for (uint256 i = 0; i < count; ++i) {
            bytes32 q = bytes32(uint256(marketId) + i);
            if (indexSet & (1 << i) != 0) noIds[n++] = negRiskAdapter.getPositionId(q, false);
            else yesIds[y++] = negRiskAdapter.getPositionId(q, true);
        }
        ctf.safeBatchTransferFrom(msg.sender, address(this), noIds, Ids.values(noCount, amount), "");
        negRiskAdapter.convertPositions(marketId, indexSet, amount);
        for (uint256 i = 0; i < yesIds.length; ++i) yesAmounts[i] = ctf.balanceOf(address(this), yesIds[i]);
        if (yesIds.length > 0) ctf.safeBatchTransferFrom(address(this), msg.sender, yesIds, yesAmounts, "");
        uint256 out = IERC20(usdc).balanceOf(address(this));
        if (out > 0) IPUSD(pusd).wrap(msg.sender, out);
    }
}
