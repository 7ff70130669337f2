// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import "./Orders.sol";

/// @notice CTF Exchange V2 double (both V2 exchange addresses). Collateral is pUSD; complete sets are minted and
/// merged through the V2 collateral adapter (the exchange's outcome-token factory), which splits in the CTF with
/// USDC.e (standard) or through the NegRiskAdapter (wcol). The fee is set by the operator at match time and is
/// always collateral: a BUY pays it on top, a SELL receives its proceeds less it. One V2 OrderFilled (side/tokenId
/// layout) per maker order (taker = the taker order's maker), then the taker order's (taker = the exchange).
contract CtfExchangeV2 is ExchangeBase {
    event OrderFilled(
        bytes32 indexed orderHash,
        address indexed maker,
        address indexed taker,
        uint8 side,
        uint256 tokenId,
        uint256 makerAmountFilled,
        uint256 takerAmountFilled,
        uint256 fee,
        bytes32 builder,
        bytes32 metadata
    );

    function init(address _collateral, address _factory, address _ctf, address[] calldata _operators)
        external
        initializer
    {
        _setUp(_collateral, _ctf, _factory, _ctf, _operators);
    }

    function matchOrders(
        Order memory takerOrder,
        Order[] memory makerOrders,
        uint256 takerFillAmount,
        uint256[] memory makerFillAmounts,
        uint256 takerFeeAmount,
        uint256[] memory makerFeeAmounts
    ) external onlyOperator {
        require(makerOrders.length == makerFillAmounts.length && makerOrders.length == makerFeeAmounts.length,
                "length mismatch");
        uint256 making = takerFillAmount;
        uint256 taking = _taking(making, takerOrder);
        (uint256 makerAssetId, uint256 takerAssetId) = _assetIds(takerOrder);
        _fill(hashOrder(takerOrder), takerOrder, making);
        _transfer(takerOrder.maker, address(this), makerAssetId, making);
        for (uint256 i = 0; i < makerOrders.length; ++i) {
            _fillMaker(takerOrder, makerOrders[i], makerFillAmounts[i], makerFeeAmounts[i]);
        }
        uint256 actual = _balance(takerAssetId);
        require(actual >= taking, "too little tokens received");
        taking = actual;
        _settle(takerOrder, takerAssetId, taking, takerFeeAmount);
        uint256 refund = _balance(makerAssetId);
        if (refund > 0) _transfer(address(this), takerOrder.maker, makerAssetId, refund);
        _filled(takerOrder, address(this), making, taking, takerFeeAmount);
    }

    function _fillMaker(Order memory takerOrder, Order memory o, uint256 making, uint256 fee) internal {
        uint256 taking = _taking(making, o);
        (uint256 makerAssetId, uint256 takerAssetId) = _assetIds(o);
        _fill(hashOrder(o), o, making);
        _transfer(o.maker, address(this), makerAssetId, making);
        _matchCall(takerOrder, o, making, taking);
        require(_balance(takerAssetId) >= taking, "too little tokens received");
        _settle(o, takerAssetId, taking, fee);
        _filled(o, takerOrder.maker, making, taking, fee);
    }

    function _filled(Order memory o, address taker, uint256 making, uint256 taking, uint256 fee) internal {
        emit OrderFilled(hashOrder(o), o.maker, taker, uint8(o.side), o.tokenId, making, taking, fee, bytes32(0),
                         bytes32(0));
    }

    /// @notice Pay an order its proceeds and take its collateral fee to the operator (msg.sender).
    function _settle(Order memory o, uint256 takerAssetId, uint256 taking, uint256 fee) internal {
        if (o.side == Side.BUY) {
            _transfer(address(this), o.maker, takerAssetId, taking);
            if (fee > 0) require(IERC20(collateral).transferFrom(o.maker, msg.sender, fee), "fee");
        } else {
            require(fee <= taking, "fee above proceeds");
            _transfer(address(this), o.maker, 0, taking - fee);
            _transfer(address(this), msg.sender, 0, fee);
        }
    }
}
