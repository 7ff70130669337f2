// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import "./Orders.sol";

/// @notice CTF Exchange V1 double (same code at the CTF exchange and the negRisk exchange; the latter's CTF and
/// mint/merge factory is the NegRiskAdapter). Operator-only matchOrders without signatures; the V1 fee comes out
/// of the proceeds asset with CalculatorHelper's formula and goes to the operator (msg.sender). Events and their
/// order follow the real Trading mixin: per maker order its transfers, FeeCharged, OrderFilled (taker = the taker
/// order's maker); then the taker's proceeds, FeeCharged, refund of leftovers, OrderFilled (taker = the
/// exchange) and OrdersMatched.
contract CtfExchange is ExchangeBase {
    event OrderFilled(
        bytes32 indexed orderHash,
        address indexed maker,
        address indexed taker,
        uint256 makerAssetId,
        uint256 takerAssetId,
        uint256 makerAmountFilled,
        uint256 takerAmountFilled,
        uint256 fee
    );
    event OrdersMatched(
        bytes32 indexed takerOrderHash,
        address indexed takerOrderMaker,
        uint256 makerAssetId,
        uint256 takerAssetId,
        uint256 makerAmountFilled,
        uint256 takerAmountFilled
    );
    event FeeCharged(address indexed receiver, uint256 tokenId, uint256 amount);

    function init(address _collateral, address _ctfLike, address _ctf, address[] calldata _operators)
        external
        initializer
    {
        _setUp(_collateral, _ctfLike, _ctfLike, _ctf, _operators);
    }

    /// @notice CalculatorHelper.calculateFee: rate * min(price, 1 - price) * tokens (SELL, in collateral) or
    /// / price (BUY, in shares), price = collateral per share at 1e18.
    function calculateFee(uint256 bps, uint256 outcomeTokens, uint256 makerAmount, uint256 takerAmount, Side side)
        public
        pure
        returns (uint256 fee)
    {
        if (bps == 0) return 0;
        uint256 price = side == Side.BUY
            ? (takerAmount != 0 ? makerAmount * ONE / takerAmount : 0)
            : (makerAmount != 0 ? takerAmount * ONE / makerAmount : 0);
        if (price == 0 || price > ONE) return 0;
        uint256 m = price < ONE - price ? price : ONE - price;
        if (side == Side.BUY) return (bps * m * outcomeTokens) / (price * 10_000);
        return bps * m * outcomeTokens / (10_000 * ONE);
    }

    function matchOrders(
        Order memory takerOrder,
        Order[] memory makerOrders,
        uint256 takerFillAmount,
        uint256[] memory makerFillAmounts
    ) external onlyOperator {
        require(makerOrders.length == makerFillAmounts.length, "length mismatch");
        uint256 making = takerFillAmount;
        uint256 taking = _taking(making, takerOrder);
        bytes32 orderHash = hashOrder(takerOrder);
        _fill(orderHash, takerOrder, making);
        (uint256 makerAssetId, uint256 takerAssetId) = _assetIds(takerOrder);
        _transfer(takerOrder.maker, address(this), makerAssetId, making);
        for (uint256 i = 0; i < makerOrders.length; ++i) _fillMaker(takerOrder, makerOrders[i], makerFillAmounts[i]);
        uint256 actual = _balance(takerAssetId);
        require(actual >= taking, "too little tokens received");
        taking = actual;
        uint256 fee = calculateFee(takerOrder.feeRateBps, takerOrder.side == Side.BUY ? taking : making, making,
                                   taking, takerOrder.side);
        _transfer(address(this), takerOrder.maker, takerAssetId, taking - fee);
        _chargeFee(msg.sender, takerAssetId, fee);
        uint256 refund = _balance(makerAssetId);
        if (refund > 0) _transfer(address(this), takerOrder.maker, makerAssetId, refund);
        emit OrderFilled(orderHash, takerOrder.maker, address(this), makerAssetId, takerAssetId, making, taking, fee);
        emit OrdersMatched(orderHash, takerOrder.maker, makerAssetId, takerAssetId, making, taking);
    }

    function _fillMaker(Order memory takerOrder, Order memory o, uint256 making) internal {
        uint256 taking = _taking(making, o);
        uint256 fee = calculateFee(o.feeRateBps, o.side == Side.BUY ? taking : making, o.makerAmount, o.takerAmount,
                                   o.side);
        (uint256 makerAssetId, uint256 takerAssetId) = _assetIds(o);
        _fill(hashOrder(o), o, making);
        _transfer(o.maker, address(this), makerAssetId, making);
        _matchCall(takerOrder, o, making, taking);
        require(_balance(takerAssetId) >= taking, "too little tokens received");
        _transfer(address(this), o.maker, takerAssetId, taking - fee);
        _chargeFee(msg.sender, takerAssetId, fee);
        emit OrderFilled(hashOrder(o), o.maker, takerOrder.maker, makerAssetId, takerAssetId, making, taking, fee);
    }

    function _chargeFee(address receiver, uint256 tokenId, uint256 fee) internal {
        if (fee > 0) {
            _transfer(address(this), receiver, tokenId, fee);
            emit FeeCharged(receiver, tokenId, fee);
        }
    }
}
