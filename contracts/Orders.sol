// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import "./Common.sol";

enum Side {
    BUY,
    SELL
}

/// @notice A CLOB order without signature fields (the operator is trusted on the test node).
struct Order {
    uint256 salt;
    address maker;
    uint256 tokenId;
    uint256 makerAmount;
    uint256 takerAmount;
    uint256 feeRateBps;
    Side side;
}

/// @notice What both exchange versions share: operators, the token registry, order hashes, asset transfers.
abstract contract ExchangeBase is Receiver, Initialised {
    event TokenRegistered(uint256 indexed token0, uint256 indexed token1, bytes32 indexed conditionId);

    struct Registered {
        uint256 complement;
        bytes32 conditionId;
    }

    address public collateral;
    address public ctfLike; // the CTF, or the NegRiskAdapter for the negRisk V1 exchange
    address public factory; // who mints/merges complete sets (CTF, NegRiskAdapter or a V2 collateral adapter)
    mapping(address => bool) public operators;
    mapping(uint256 => Registered) public registry;
    mapping(bytes32 => uint256) public filled; // order hash -> maker amount filled so far

    uint256 internal constant ONE = 10 ** 18;

    modifier onlyOperator() {
        require(operators[msg.sender], "not operator");
        _;
    }

    function _setUp(address _collateral, address _ctfLike, address _factory, address _ctf,
                    address[] calldata _operators) internal {
        collateral = _collateral;
        ctfLike = _ctfLike;
        factory = _factory;
        for (uint256 i = 0; i < _operators.length; ++i) operators[_operators[i]] = true;
        IERC20(_collateral).approve(_factory, type(uint256).max);
        ICTF(_ctf).setApprovalForAll(_ctfLike, true);
        ICTF(_ctf).setApprovalForAll(_factory, true);
        ICTF(_ctf).setApprovalForAll(address(this), true);
    }

    function registerToken(uint256 token, uint256 complement, bytes32 conditionId) external onlyOperator {
        require(token != complement && token != 0 && complement != 0, "invalid token id");
        require(registry[token].complement == 0 && registry[complement].complement == 0, "already registered");
        registry[token] = Registered(complement, conditionId);
        registry[complement] = Registered(token, conditionId);
        emit TokenRegistered(token, complement, conditionId);
        emit TokenRegistered(complement, token, conditionId);
    }

    function hashOrder(Order memory order) public pure returns (bytes32) {
        return keccak256(abi.encode(order));
    }

    function getCollateral() external view returns (address) {
        return collateral;
    }

    function getCtf() external view returns (address) {
        return ctfLike;
    }

    function _conditionOf(uint256 token) internal view returns (bytes32 c) {
        c = registry[token].conditionId;
        require(c != bytes32(0), "token not registered");
    }

    function _balance(uint256 id) internal view returns (uint256) {
        if (id == 0) return IERC20(collateral).balanceOf(address(this));
        return ICTF(ctfLike).balanceOf(address(this), id);
    }

    function _transfer(address from, address to, uint256 id, uint256 value) internal {
        if (value == 0) return;
        if (id == 0) {
            if (from == address(this)) require(IERC20(collateral).transfer(to, value), "collateral transfer");
            else require(IERC20(collateral).transferFrom(from, to, value), "collateral transferFrom");
        } else {
            ICTF(ctfLike).safeTransferFrom(from, to, id, value, "");
        }
    }

    function _mint(bytes32 conditionId, uint256 amount) internal {
        ICTF(factory).splitPosition(collateral, bytes32(0), conditionId, Ids.partition(), amount);
    }

    function _merge(bytes32 conditionId, uint256 amount) internal {
        ICTF(factory).mergePositions(collateral, bytes32(0), conditionId, Ids.partition(), amount);
    }

    function _assetIds(Order memory o) internal pure returns (uint256 makerAssetId, uint256 takerAssetId) {
        if (o.side == Side.BUY) return (0, o.tokenId);
        return (o.tokenId, 0);
    }

    /// @notice Record a fill of ``making`` on an order; an order is never filled past its maker amount.
    function _fill(bytes32 orderHash, Order memory o, uint256 making) internal {
        uint256 total = filled[orderHash] + making;
        require(total <= o.makerAmount, "making greater than remaining");
        filled[orderHash] = total;
    }

    function _price(Order memory o) internal pure returns (uint256) {
        if (o.side == Side.BUY) return o.takerAmount == 0 ? 0 : o.makerAmount * ONE / o.takerAmount;
        return o.makerAmount == 0 ? 0 : o.takerAmount * ONE / o.makerAmount;
    }

    /// @notice CalculatorHelper.isCrossing: the two orders' prices allow the match.
    function _crossing(Order memory a, Order memory b) internal pure returns (bool) {
        if (a.takerAmount == 0 || b.takerAmount == 0) return true;
        (uint256 pa, uint256 pb) = (_price(a), _price(b));
        if (a.side == Side.BUY) return b.side == Side.BUY ? pa + pb >= ONE : pa >= pb;
        return b.side == Side.BUY ? pb >= pa : pa + pb <= ONE;
    }

    function _taking(uint256 making, Order memory o) internal pure returns (uint256) {
        return o.makerAmount == 0 ? 0 : making * o.takerAmount / o.makerAmount;
    }

    /// @notice Mint (two buys), merge (two sells) or nothing (a buy against a sell), after checking the tokens.
    function _matchCall(Order memory taker, Order memory maker, uint256 making, uint256 taking) internal {
        require(_crossing(taker, maker), "not crossing");
        if (taker.side != maker.side) {
            require(taker.tokenId == maker.tokenId, "mismatched token ids");
            return;
        }
        require(registry[taker.tokenId].complement == maker.tokenId, "not complements");
        if (maker.side == Side.BUY) _mint(_conditionOf(maker.tokenId), taking);
        else _merge(_conditionOf(maker.tokenId), making);
    }
}
