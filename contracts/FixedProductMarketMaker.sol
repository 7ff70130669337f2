// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import "./Common.sol";

/// @notice Test double of the legacy AMM (gnosis conditional-tokens-market-makers FixedProductMarketMaker, as
/// Polymarket deployed it), binary and single-condition: the same events and layouts, the same pool arithmetic
/// (calcBuyAmount, calcSellAmount, addFunding, removeFunding, fee pool and withdrawFees), real ERC1155 shares on the
/// ConditionalTokens contract and real collateral. Placed with anvil_setCode at the address the simulator chose
/// (no constructor): the factory double calls init(). LP shares are kept as balances without ERC20 events (no table
/// reads them) and cannot be transferred.
contract FixedProductMarketMaker is Receiver {
    event FPMMFundingAdded(address indexed funder, uint256[] amountsAdded, uint256 sharesMinted);
    event FPMMFundingRemoved(address indexed funder, uint256[] amountsRemoved, uint256 collateralRemovedFromFeePool,
                             uint256 sharesBurnt);
    event FPMMBuy(address indexed buyer, uint256 investmentAmount, uint256 feeAmount, uint256 indexed outcomeIndex,
                  uint256 outcomeTokensBought);
    event FPMMSell(address indexed seller, uint256 returnAmount, uint256 feeAmount, uint256 indexed outcomeIndex,
                   uint256 outcomeTokensSold);

    uint256 internal constant ONE = 10 ** 18;

    address public factory;
    ICTF public conditionalTokens;
    IERC20 public collateralToken;
    bytes32 public conditionId;
    uint256 public fee;
    uint256[] internal positionIds;

    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    uint256 internal feePoolWeight;
    mapping(address => uint256) internal withdrawnFees;
    uint256 internal totalWithdrawnFees;

    function init(address ctf, address collateral, bytes32 condition, uint256 fee_) external {
        require(factory == address(0), "already initialised");
        factory = msg.sender;
        conditionalTokens = ICTF(ctf);
        collateralToken = IERC20(collateral);
        conditionId = condition;
        fee = fee_;
        positionIds = Ids.positionIds(ICTF(ctf), collateral, condition);
        IERC20(collateral).approve(ctf, type(uint256).max);
    }

    function _ceildiv(uint256 x, uint256 y) internal pure returns (uint256) {
        return x > 0 ? (x - 1) / y + 1 : 0;
    }

    function getPoolBalances() public view returns (uint256[] memory b) {
        b = new uint256[](2);
        b[0] = conditionalTokens.balanceOf(address(this), positionIds[0]);
        b[1] = conditionalTokens.balanceOf(address(this), positionIds[1]);
    }

    // fees ---------------------------------------------------------------------------------------------------------
    function withdrawFees(address account) public {
        uint256 raw = feePoolWeight * balanceOf[account] / totalSupply;
        uint256 amount = raw - withdrawnFees[account];
        if (amount > 0) {
            withdrawnFees[account] = raw;
            totalWithdrawnFees += amount;
            require(collateralToken.transfer(account, amount), "withdrawal transfer failed");
        }
    }

    function _mint(address to, uint256 amount) internal {
        uint256 moved = totalSupply == 0 ? amount : feePoolWeight * amount / totalSupply;
        feePoolWeight += moved;
        withdrawnFees[to] += moved;
        totalWithdrawnFees += moved;
        totalSupply += amount;
        balanceOf[to] += amount;
    }

    function _burn(address from, uint256 amount) internal {
        withdrawFees(from);
        uint256 moved = feePoolWeight * amount / totalSupply;
        withdrawnFees[from] -= moved;
        totalWithdrawnFees -= moved;
        feePoolWeight -= moved;
        balanceOf[from] -= amount;
        totalSupply -= amount;
    }

    // funding ------------------------------------------------------------------------------------------------------
    function addFunding(uint256 addedFunds, uint256[] calldata distributionHint) external {
        require(addedFunds > 0, "funding must be non-zero");
        uint256[] memory sendBack = new uint256[](2);
        uint256 mintAmount;
        if (totalSupply > 0) {
            require(distributionHint.length == 0, "cannot use distribution hint after initial funding");
            uint256[] memory bal = getPoolBalances();
            uint256 weight = bal[0] > bal[1] ? bal[0] : bal[1];
            for (uint256 i = 0; i < 2; ++i) sendBack[i] = addedFunds - addedFunds * bal[i] / weight;
            mintAmount = addedFunds * totalSupply / weight;
        } else {
            if (distributionHint.length > 0) {
                require(distributionHint.length == 2, "hint length off");
                uint256 top = distributionHint[0] > distributionHint[1] ? distributionHint[0] : distributionHint[1];
                for (uint256 i = 0; i < 2; ++i) {
                    uint256 remaining = addedFunds * distributionHint[i] / top;
                    require(remaining > 0, "must hint a valid distribution");
                    sendBack[i] = addedFunds - remaining;
                }
            }
            mintAmount = addedFunds;
        }
        require(collateralToken.transferFrom(msg.sender, address(this), addedFunds), "funding transfer failed");
        conditionalTokens.splitPosition(address(collateralToken), bytes32(0), conditionId, Ids.partition(),
                                        addedFunds);
        _mint(msg.sender, mintAmount);
        conditionalTokens.safeBatchTransferFrom(address(this), msg.sender, positionIds, sendBack, "");
        for (uint256 i = 0; i < 2; ++i) sendBack[i] = addedFunds - sendBack[i];
        emit FPMMFundingAdded(msg.sender, sendBack, mintAmount);
    }

    function removeFunding(uint256 sharesToBurn) external {
        uint256[] memory bal = getPoolBalances();
        uint256[] memory sendAmounts = new uint256[](2);
        for (uint256 i = 0; i < 2; ++i) sendAmounts[i] = bal[i] * sharesToBurn / totalSupply;
        uint256 before = collateralToken.balanceOf(address(this));
        _burn(msg.sender, sharesToBurn);
        uint256 collateralRemovedFromFeePool = before - collateralToken.balanceOf(address(this));
        conditionalTokens.safeBatchTransferFrom(address(this), msg.sender, positionIds, sendAmounts, "");
        emit FPMMFundingRemoved(msg.sender, sendAmounts, collateralRemovedFromFeePool, sharesToBurn);
    }

    // trading ------------------------------------------------------------------------------------------------------
    function calcBuyAmount(uint256 investmentAmount, uint256 outcomeIndex) public view returns (uint256) {
        require(outcomeIndex < 2, "invalid outcome index");
        uint256[] memory bal = getPoolBalances();
        uint256 net = investmentAmount - investmentAmount * fee / ONE;
        uint256 other = bal[1 - outcomeIndex];
        uint256 ending = _ceildiv(bal[outcomeIndex] * ONE * other, other + net);
        require(ending > 0, "must have non-zero balances");
        return bal[outcomeIndex] + net - _ceildiv(ending, ONE);
    }

    function calcSellAmount(uint256 returnAmount, uint256 outcomeIndex) public view returns (uint256) {
        require(outcomeIndex < 2, "invalid outcome index");
        uint256[] memory bal = getPoolBalances();
        uint256 plusFees = returnAmount * ONE / (ONE - fee);
        uint256 other = bal[1 - outcomeIndex];
        uint256 ending = _ceildiv(bal[outcomeIndex] * ONE * other, other - plusFees);
        require(ending > 0, "must have non-zero balances");
        return plusFees + _ceildiv(ending, ONE) - bal[outcomeIndex];
    }

    function buy(uint256 investmentAmount, uint256 outcomeIndex, uint256 minOutcomeTokensToBuy) external {
        uint256 tokens = calcBuyAmount(investmentAmount, outcomeIndex);
        require(tokens >= minOutcomeTokensToBuy, "minimum buy amount not reached");
        require(collateralToken.transferFrom(msg.sender, address(this), investmentAmount), "cost transfer failed");
        uint256 feeAmount = investmentAmount * fee / ONE;
        feePoolWeight += feeAmount;
        conditionalTokens.splitPosition(address(collateralToken), bytes32(0), conditionId, Ids.partition(),
                                        investmentAmount - feeAmount);
        conditionalTokens.safeTransferFrom(address(this), msg.sender, positionIds[outcomeIndex], tokens, "");
        emit FPMMBuy(msg.sender, investmentAmount, feeAmount, outcomeIndex, tokens);
    }

    function sell(uint256 returnAmount, uint256 outcomeIndex, uint256 maxOutcomeTokensToSell) external {
        uint256 tokens = calcSellAmount(returnAmount, outcomeIndex);
        require(tokens <= maxOutcomeTokensToSell, "maximum sell amount exceeded");
        conditionalTokens.safeTransferFrom(msg.sender, address(this), positionIds[outcomeIndex], tokens, "");
        uint256 feeAmount = returnAmount * fee / (ONE - fee);
        feePoolWeight += feeAmount;
        conditionalTokens.mergePositions(address(collateralToken), bytes32(0), conditionId, Ids.partition(),
                                         returnAmount + feeAmount);
        require(collateralToken.transfer(msg.sender, returnAmount), "return transfer failed");
        emit FPMMSell(msg.sender, returnAmount, feeAmount, outcomeIndex, tokens);
    }
}

/// @notice Test double of the FixedProductMarketMakerFactory at its real address: it cannot deploy an FPMM at the
/// address the simulator chose, so the FPMM's code is placed there first (anvil_setCode) and this initialises it
/// and emits the real creation event (creator = the caller).
contract FixedProductMarketMakerFactory {
    event FixedProductMarketMakerCreation(address indexed creator, address fixedProductMarketMaker,
                                          address indexed conditionalTokens, address indexed collateralToken,
                                          bytes32[] conditionIds, uint256 fee);

    function createFixedProductMarketMaker(address fpmm, address ctf, address collateral, bytes32[] calldata ids,
                                           uint256 fee) external {
        require(ids.length == 1, "one condition");
        FixedProductMarketMaker(fpmm).init(ctf, collateral, ids[0], fee);
        emit FixedProductMarketMakerCreation(msg.sender, fpmm, ctf, collateral, ids, fee);
    }
}
