// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import "./Orders.sol";

interface IExchangeV1 {
    function matchOrders(Order memory takerOrder, Order[] memory makerOrders, uint256 takerFillAmount,
                         uint256[] memory makerFillAmounts) external;
    function hashOrder(Order memory order) external pure returns (bytes32);
    function calculateFee(uint256 bps, uint256 outcomeTokens, uint256 makerAmount, uint256 takerAmount, Side side)
        external
        pure
        returns (uint256);
}

/// @notice FeeModule double (FeeModule and NegRiskFeeModule addresses): the V1 exchange's operator. It proxies
/// matchOrders, receives the exchange's fees, and refunds each order the part of its exchange fee above the fee
/// the operator intends (taker first, then makers in order), emitting FeeRefunded like the real module.
contract FeeModule is Receiver, Initialised {
    event FeeRefunded(
        bytes32 indexed orderHash, address indexed to, uint256 id, uint256 refund, uint256 indexed feeCharged
    );

    IExchangeV1 public exchange;
    address public collateral;
    address public ctfLike;
    mapping(address => bool) public admins;

    function init(address _exchange, address _collateral, address _ctfLike, address _ctf, address[] calldata _admins)
        external
        initializer
    {
        exchange = IExchangeV1(_exchange);
        collateral = _collateral;
        ctfLike = _ctfLike;
        for (uint256 i = 0; i < _admins.length; ++i) admins[_admins[i]] = true;
        ICTF(_ctf).setApprovalForAll(_ctfLike, true);
        ICTF(_ctf).setApprovalForAll(address(this), true);
    }

    function matchOrders(
        Order memory takerOrder,
        Order[] memory makerOrders,
        uint256 takerFillAmount,
        uint256 takerReceiveAmount,
        uint256[] memory makerFillAmounts,
        uint256 takerFeeAmount,
        uint256[] memory makerFeeAmounts
    ) external {
        require(admins[msg.sender], "not admin");
        exchange.matchOrders(takerOrder, makerOrders, takerFillAmount, makerFillAmounts);
        uint256 charged = exchange.calculateFee(takerOrder.feeRateBps,
            takerOrder.side == Side.BUY ? takerReceiveAmount : takerFillAmount, takerFillAmount, takerReceiveAmount,
            takerOrder.side);
        _refund(takerOrder, charged, takerFeeAmount);
        for (uint256 i = 0; i < makerOrders.length; ++i) {
            Order memory o = makerOrders[i];
            uint256 taking = o.makerAmount == 0 ? 0 : makerFillAmounts[i] * o.takerAmount / o.makerAmount;
            charged = exchange.calculateFee(o.feeRateBps, o.side == Side.BUY ? taking : makerFillAmounts[i],
                                            o.makerAmount, o.takerAmount, o.side);
            _refund(o, charged, makerFeeAmounts[i]);
        }
    }

    function _refund(Order memory o, uint256 charged, uint256 feeAmount) internal {
        if (charged <= feeAmount) return;
        uint256 refund = charged - feeAmount;
        uint256 id = o.side == Side.BUY ? o.tokenId : 0;
        if (id == 0) require(IERC20(collateral).transfer(o.maker, refund), "refund");
        else ICTF(ctfLike).safeTransferFrom(address(this), o.maker, id, refund, "");
        emit FeeRefunded(exchange.hashOrder(o), o.maker, id, refund, feeAmount);
    }
}
