// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import "./Common.sol";

interface IWcol {
    function wrap(address to, uint256 amount) external;
    function unwrap(address to, uint256 amount) external;
    function mint(uint256 amount) external;
    function release(address to, uint256 amount) external;
    function balanceOf(address) external view returns (uint256);
    function approve(address spender, uint256 amount) external returns (bool);
}

/// @notice NegRiskAdapter double: markets of mutually exclusive binary questions over wcol-collateralised CTF
/// conditions (the adapter is their oracle). Same events, layouts and transfer order as Polymarket's adapter:
/// split/merge (USDC.e in/out, wrapped to wcol, adapter as CTF stakeholder), convertPositions (NO tokens to the
/// burn address, YES of the other questions minted and sent, collateral (noCount - 1) * amount returned),
/// redeemPositions, and per-question resolution (reportOutcome -> CTF reportPayouts).
contract NegRiskAdapter is Receiver, Initialised {
    event MarketPrepared(bytes32 indexed marketId, address indexed oracle, uint256 feeBips, bytes data);
    event QuestionPrepared(bytes32 indexed marketId, bytes32 indexed questionId, uint256 index, bytes data);
    event OutcomeReported(bytes32 indexed marketId, bytes32 indexed questionId, bool outcome);
    event PositionSplit(address indexed stakeholder, bytes32 indexed conditionId, uint256 amount);
    event PositionsMerge(address indexed stakeholder, bytes32 indexed conditionId, uint256 amount);
    event PositionsConverted(
        address indexed stakeholder, bytes32 indexed marketId, uint256 indexed indexSet, uint256 amount
    );
    event PayoutRedemption(address indexed redeemer, bytes32 indexed conditionId, uint256[] amounts, uint256 payout);

    struct MarketData {
        address oracle;
        uint8 questionCount;
        bool determined;
        uint16 feeBips;
    }

    bytes32 private constant MASK = bytes32(type(uint256).max) << 8;
    address public constant NO_TOKEN_BURN_ADDRESS = address(bytes20(bytes32(keccak256("NO_TOKEN_BURN_ADDRESS"))));
    uint256 public constant FEE_DENOMINATOR = 10_000;

    ICTF public ctf;
    IERC20 public col;
    IWcol public wcol;
    address public vault;
    mapping(address => bool) public admins;
    mapping(bytes32 => MarketData) internal markets;

    function init(address _ctf, address _col, address _wcol, address _vault, address[] calldata _admins)
        external
        initializer
    {
        ctf = ICTF(_ctf);
        col = IERC20(_col);
        wcol = IWcol(_wcol);
        vault = _vault;
        for (uint256 i = 0; i < _admins.length; ++i) admins[_admins[i]] = true;
        wcol.approve(_ctf, type(uint256).max);
        col.approve(_wcol, type(uint256).max);
    }

    // ids ---------------------------------------------------------------------------------------------------------
    function getConditionId(bytes32 questionId) public view returns (bytes32) {
        return keccak256(abi.encodePacked(address(this), questionId, uint256(2)));
    }

    function getPositionId(bytes32 questionId, bool outcome) public view returns (uint256) {
        return ctf.getPositionId(address(wcol), ctf.getCollectionId(bytes32(0), getConditionId(questionId),
                                                                    outcome ? 1 : 2));
    }

    function getQuestionCount(bytes32 marketId) external view returns (uint256) {
        return markets[marketId].questionCount;
    }

    function getOracle(bytes32 marketId) external view returns (address) {
        return markets[marketId].oracle;
    }

    // markets -----------------------------------------------------------------------------------------------------
    function prepareMarket(uint256 feeBips, bytes calldata metadata) external returns (bytes32 marketId) {
        require(feeBips <= FEE_DENOMINATOR, "feeBips out of bounds");
        marketId = keccak256(abi.encode(msg.sender, feeBips, metadata)) & MASK;
        require(markets[marketId].oracle == address(0), "market already prepared");
        markets[marketId] = MarketData(msg.sender, 0, false, uint16(feeBips));
        emit MarketPrepared(marketId, msg.sender, feeBips, metadata);
    }

    function prepareQuestion(bytes32 marketId, bytes calldata metadata) external returns (bytes32 questionId) {
        MarketData storage md = markets[marketId];
        require(md.oracle != address(0), "market not prepared");
        require(md.oracle == msg.sender, "only oracle");
        uint256 index = md.questionCount;
        questionId = bytes32(uint256(marketId) + index);
        md.questionCount = uint8(index + 1);
        if (ctf.getOutcomeSlotCount(getConditionId(questionId)) == 0) ctf.prepareCondition(address(this), questionId, 2);
        emit QuestionPrepared(marketId, questionId, index, metadata);
    }

    function reportOutcome(bytes32 questionId, bool outcome) external {
        bytes32 marketId = questionId & MASK;
        MarketData storage md = markets[marketId];
        require(md.oracle != address(0), "market not prepared");
        require(md.oracle == msg.sender, "only oracle");
        require(uint256(uint8(uint256(questionId))) < md.questionCount, "index out of bounds");
        if (outcome) {
            require(!md.determined, "market already determined");
            md.determined = true;
        }
        uint256[] memory payouts = new uint256[](2);
        payouts[0] = outcome ? 1 : 0;
        payouts[1] = outcome ? 0 : 1;
        ctf.reportPayouts(questionId, payouts);
        emit OutcomeReported(marketId, questionId, outcome);
    }

    // split / merge -------------------------------------------------------------------------------------------------
    function splitPosition(address collateral, bytes32, bytes32 conditionId, uint256[] calldata, uint256 amount)
        external
    {
        require(collateral == address(col), "unexpected collateral token");
        splitPosition(conditionId, amount);
    }

    function splitPosition(bytes32 conditionId, uint256 amount) public {
        require(col.transferFrom(msg.sender, address(this), amount), "collateral pull");
        wcol.wrap(address(this), amount);
        ctf.splitPosition(address(wcol), bytes32(0), conditionId, Ids.partition(), amount);
        ctf.safeBatchTransferFrom(address(this), msg.sender, Ids.positionIds(ctf, address(wcol), conditionId),
                                  Ids.values(2, amount), "");
        emit PositionSplit(msg.sender, conditionId, amount);
    }

    function mergePositions(address collateral, bytes32, bytes32 conditionId, uint256[] calldata, uint256 amount)
        external
    {
        require(collateral == address(col), "unexpected collateral token");
        mergePositions(conditionId, amount);
    }

    function mergePositions(bytes32 conditionId, uint256 amount) public {
        ctf.safeBatchTransferFrom(msg.sender, address(this), Ids.positionIds(ctf, address(wcol), conditionId),
                                  Ids.values(2, amount), "");
        ctf.mergePositions(address(wcol), bytes32(0), conditionId, Ids.partition(), amount);
        wcol.unwrap(msg.sender, amount);
        emit PositionsMerge(msg.sender, conditionId, amount);
    }

    // ERC1155 passthrough (the negRisk exchange uses the adapter as its CTF) ------------------------------------------
    function safeTransferFrom(address from, address to, uint256 id, uint256 value, bytes calldata data) external {
        require(admins[msg.sender], "not admin");
        require(ctf.isApprovedForAll(from, msg.sender), "not approved for all");
        ctf.safeTransferFrom(from, to, id, value, data);
    }

    function balanceOf(address owner, uint256 id) external view returns (uint256) {
        return ctf.balanceOf(owner, id);
    }

    // redeem / convert ------------------------------------------------------------------------------------------------
    function redeemPositions(bytes32 conditionId, uint256[] calldata amounts) external {
        ctf.safeBatchTransferFrom(msg.sender, address(this), Ids.positionIds(ctf, address(wcol), conditionId),
                                  amounts, "");
        ctf.redeemPositions(address(wcol), bytes32(0), conditionId, Ids.partition());
        uint256 payout = wcol.balanceOf(address(this));
        if (payout > 0) wcol.unwrap(msg.sender, payout);
        emit PayoutRedemption(msg.sender, conditionId, amounts, payout);
    }

    function convertPositions(bytes32 marketId, uint256 indexSet, uint256 amount) external {
        MarketData memory md = markets[marketId];
        uint256 questionCount = md.questionCount;
        require(md.oracle != address(0), "market not prepared");
        require(questionCount > 1, "no convertible positions");
        require(indexSet != 0 && (indexSet >> questionCount) == 0, "invalid index set");
        if (amount == 0) return;
        uint256 noCount;
        for (uint256 i = 0; i < questionCount; ++i) if (indexSet & (1 << i) != 0) ++noCount;
        uint256 yesCount = questionCount - noCount;
        wcol.mint(yesCount * amount);
        (uint256[] memory noIds, uint256[] memory yesIds, uint256[] memory spareNoIds) =
            _splitOthers(marketId, indexSet, questionCount, noCount, amount);
        ctf.safeBatchTransferFrom(msg.sender, NO_TOKEN_BURN_ADDRESS, noIds, Ids.values(noCount, amount), "");
        ctf.safeBatchTransferFrom(address(this), NO_TOKEN_BURN_ADDRESS, spareNoIds, Ids.values(yesCount, amount), "");
        uint256 fee = (amount * md.feeBips) / FEE_DENOMINATOR;
        uint256 out = amount - fee;
        if (noCount > 1) {
            if (fee > 0) wcol.release(vault, (noCount - 1) * fee);
            wcol.release(msg.sender, (noCount - 1) * out);
        }
        if (yesCount > 0) {
            if (fee > 0) ctf.safeBatchTransferFrom(address(this), vault, yesIds, Ids.values(yesCount, fee), "");
            ctf.safeBatchTransferFrom(address(this), msg.sender, yesIds, Ids.values(yesCount, out), "");
        }
        emit PositionsConverted(msg.sender, marketId, indexSet, amount);
    }

    /// @notice Position ids of the NO side handed in, and splits of every other question (YES out, NO spare).
    function _splitOthers(bytes32 marketId, uint256 indexSet, uint256 questionCount, uint256 noCount, uint256 amount)
        internal
        returns (uint256[] memory noIds, uint256[] memory yesIds, uint256[] memory spareNoIds)
    {
        noIds = new uint256[](noCount);
        yesIds = new uint256[](questionCount - noCount);
        spareNoIds = new uint256[](questionCount - noCount);
        uint256 n;
        uint256 y;
        for (uint256 i = 0; i < questionCount; ++i) {
            bytes32 q = bytes32(uint256(marketId) + i);
            if (indexSet & (1 << i) != 0) {
                noIds[n++] = getPositionId(q, false);
            } else {
                yesIds[y] = getPositionId(q, true);
                spareNoIds[y++] = getPositionId(q, false);
                ctf.splitPosition(address(wcol), bytes32(0), getConditionId(q), Ids.partition(), amount);
            }
        }
    }
}
