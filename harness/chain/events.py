"""The Polymarket contract events the harness reads: signature, topic0 and field layout.

topic0 is computed from the signature (keccak256) and checked against the constant written here, so a typo in a
signature or a constant fails at import instead of silently dropping a whole event type.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from eth_hash.auto import keccak

from harness.config import contracts

#: Which contracts emit each event family (keys of harness/data/contracts.yaml).
CTF = ("ctf",)
EXCHANGES_V1 = ("ctf_exchange", "neg_risk_exchange")
EXCHANGES_V2 = ("ctf_exchange_v2", "neg_risk_exchange_v2")
ADAPTER = ("neg_risk_adapter",)
FEE_MODULES = ("fee_module", "neg_risk_fee_module")
SAFE_FACTORY = ("safe_proxy_factory",)
FPMM_FACTORY = ("fpmm_factory",)
#: Emitted by contracts known only at run time (each FPMM the factory creates): decoded from any address by topic0.
ANY_ADDRESS = ("*",)


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # ABI type: address, bytes32, uint8, uint256, uint256[], bytes
    indexed: bool = False


@dataclass(frozen=True)
class Event:
    key: str  # unique name in this registry, e.g. "ctf.PositionSplit"
    name: str  # Solidity event name
    fields: tuple[Field, ...]
    topic0: str  # the documented constant; must equal keccak(signature)
    emitters: tuple[str, ...]

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(f.type for f in self.fields)})"

    @property
    def indexed(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.indexed)

    @property
    def data_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.indexed)


def topic0_of(signature: str) -> str:
    return "0x" + keccak(signature.encode()).hex()


def _f(spec: str) -> tuple[Field, ...]:
    """'idx address operator, uint256 id' -> Fields (idx = indexed)."""
    out = []
    for part in spec.split(","):
        words = part.split()
        indexed = words[0] == "idx"
        if indexed:
            words = words[1:]
        out.append(Field(words[1], words[0], indexed))
    return tuple(out)


_SPLIT_MERGE = ("idx address stakeholder, address collateralToken, idx bytes32 parentCollectionId, "
                "idx bytes32 conditionId, uint256[] partition, uint256 amount")

EVENTS: tuple[Event, ...] = (
    Event("ctf.TransferSingle", "TransferSingle",
          _f("idx address operator, idx address from, idx address to, uint256 id, uint256 value"),
          "0xc3d58168c5ae7397731d063d5bbf3d657854427343f4c083240f7aacaa2d0f62", CTF),
    Event("ctf.TransferBatch", "TransferBatch",
          _f("idx address operator, idx address from, idx address to, uint256[] ids, uint256[] values"),
          "0x4a39dc06d4c0dbc64b70af90fd698a233a518aa5d07e595d983b8c0526c8f7fb", CTF),
    Event("ctf.ConditionPreparation", "ConditionPreparation",
          _f("idx bytes32 conditionId, idx address oracle, idx bytes32 questionId, uint256 outcomeSlotCount"),
          "0xab3760c3bd2bb38b5bcf54dc79802ed67338b4cf29f3054ded67ed24661e4177", CTF),
    Event("ctf.ConditionResolution", "ConditionResolution",
          _f("idx bytes32 conditionId, idx address oracle, idx bytes32 questionId, uint256 outcomeSlotCount, "
             "uint256[] payoutNumerators"),
          "0xb44d84d3289691f71497564b85d4233648d9dbae8cbdbb4329f301c3a0185894", CTF),
    Event("ctf.PositionSplit", "PositionSplit", _f(_SPLIT_MERGE),
          "0x2e6bb91f8cbcda0c93623c54d0403a43514fabc40084ec96b6d5379a74786298", CTF),
    Event("ctf.PositionsMerge", "PositionsMerge", _f(_SPLIT_MERGE),
          "0x6f13ca62553fcc2bcd2372180a43949c1e4cebba603901ede2f4e14f36b282ca", CTF),
    Event("ctf.PayoutRedemption", "PayoutRedemption",
          _f("idx address redeemer, idx address collateralToken, idx bytes32 parentCollectionId, "
             "bytes32 conditionId, uint256[] indexSets, uint256 payout"),
          "0x2682012a4a4f1973119f1c9b90745d1bd91fa2bab387344f044cb3586864d18d", CTF),
    Event("exchange.OrderFilled", "OrderFilled",
          _f("idx bytes32 orderHash, idx address maker, idx address taker, uint256 makerAssetId, "
             "uint256 takerAssetId, uint256 makerAmountFilled, uint256 takerAmountFilled, uint256 fee"),
          "0xd0a08e8c493f9c94f29311604c9de1b4e8c8d4c06bd0c789af57f2d65bfec0f6", EXCHANGES_V1),
    Event("exchange.OrdersMatched", "OrdersMatched",
          _f("idx bytes32 takerOrderHash, idx address takerOrderMaker, uint256 makerAssetId, uint256 takerAssetId, "
             "uint256 makerAmountFilled, uint256 takerAmountFilled"),
          "0x63bf4d16b7fa898ef4c4b2b6d90fd201e9c56313b65638af6088d149d2ce956c", EXCHANGES_V1),
    Event("exchange.FeeCharged", "FeeCharged",
          _f("idx address receiver, uint256 tokenId, uint256 amount"),
          "0xacffcc86834d0f1a64b0d5a675798deed6ff0bcfc2231edd3480e7288dba7ff4", EXCHANGES_V1),
    Event("exchange_v2.OrderFilled", "OrderFilled",
          _f("idx bytes32 orderHash, idx address maker, idx address taker, uint8 side, uint256 tokenId, "
             "uint256 makerAmountFilled, uint256 takerAmountFilled, uint256 fee, bytes32 builder, bytes32 metadata"),
          "0xd543adfd945773f1a62f74f0ee55a5e3b9b1a28262980ba90b1a89f2ea84d8ee", EXCHANGES_V2),
    Event("adapter.PositionSplit", "PositionSplit",
          _f("idx address stakeholder, idx bytes32 conditionId, uint256 amount"),
          "0xbbed930dbfb7907ae2d60ddf78345610214f26419a0128df39b6cc3d9e5df9b0", ADAPTER),
    Event("adapter.PositionsMerge", "PositionsMerge",
          _f("idx address stakeholder, idx bytes32 conditionId, uint256 amount"),
          "0xba33ac50d8894676597e6e35dc09cff59854708b642cd069d21eb9c7ca072a04", ADAPTER),
    Event("adapter.PositionsConverted", "PositionsConverted",
          _f("idx address stakeholder, idx bytes32 marketId, idx uint256 indexSet, uint256 amount"),
          "0xb03d19dddbc72a87e735ff0ea3b57bef133ebe44e1894284916a84044deb367e", ADAPTER),
    Event("adapter.PayoutRedemption", "PayoutRedemption",
          _f("idx address redeemer, idx bytes32 conditionId, uint256[] amounts, uint256 payout"),
          "0x9140a6a270ef945260c03894b3c6b3b2695e9d5101feef0ff24fec960cfd3224", ADAPTER),
    Event("adapter.QuestionPrepared", "QuestionPrepared",
          _f("idx bytes32 marketId, idx bytes32 questionId, uint256 index, bytes data"),
          "0xaac410f87d423a922a7b226ac68f0c2eaf5bf6d15e644ac0758c7f96e2c253f7", ADAPTER),
    # FeeRefunded (Polymarket/exchange-fee-module IFeeModule): the FeeModule hands back the part of an order's
    # exchange fee above the operator's; id 0 = collateral, else the shares' position id; feeCharged is the
    # operator's fee. Older deployments index feeCharged (4 topics), newer ones do not (3 topics, 3 data words):
    # same topic0, and the decoder takes both.
    Event("fee_module.FeeRefunded", "FeeRefunded",
          _f("idx bytes32 orderHash, idx address to, uint256 id, uint256 refund, idx uint256 feeCharged"),
          "0xb608d2bf25d8b4b744ba23ce2ea9802ea955e216c064a62f42152fbf98958d24", FEE_MODULES),
    # Polymarket SafeProxyFactory (Polymarket/proxy-factories, packages/safe-factory/contracts/SafeProxyFactory.sol):
    # `event ProxyCreation(GnosisSafe proxy, address owner)`, nothing indexed; the owner is the signing EOA.
    Event("safe_factory.ProxyCreation", "ProxyCreation", _f("address proxy, address owner"),
          "0x4f51faf6c4561ff95f067657e43439f0f856d97c04d9ec9070a6199ad418e235", SAFE_FACTORY),
    # The legacy AMM (gnosis conditional-tokens-market-makers, as Polymarket deployed it; sources in
    # harness/data/contracts.yaml fpmm_events). The FPMM events come from each FPMM, whose address is learnt from
    # the factory's creation log: they are decoded from any address, and the build keeps only the factory's FPMMs.
    Event("fpmm_factory.FixedProductMarketMakerCreation", "FixedProductMarketMakerCreation",
          _f("idx address creator, address fixedProductMarketMaker, idx address conditionalTokens, "
             "idx address collateralToken, bytes32[] conditionIds, uint256 fee"),
          "0x92e0912d3d7f3192cad5c7ae3b47fb97f9c465c1dd12a5c24fd901ddb3905f43", FPMM_FACTORY),
    Event("fpmm.FPMMBuy", "FPMMBuy",
          _f("idx address buyer, uint256 investmentAmount, uint256 feeAmount, idx uint256 outcomeIndex, "
             "uint256 outcomeTokensBought"),
          "0x4f62630f51608fc8a7603a9391a5101e58bd7c276139366fc107dc3b67c3dcf8", ANY_ADDRESS),
    Event("fpmm.FPMMSell", "FPMMSell",
          _f("idx address seller, uint256 returnAmount, uint256 feeAmount, idx uint256 outcomeIndex, "
             "uint256 outcomeTokensSold"),
          "0xadcf2a240ed9300d681d9a3f5382b6c1beed1b7e46643e0c7b42cbe6e2d766b4", ANY_ADDRESS),
    Event("fpmm.FPMMFundingAdded", "FPMMFundingAdded",
          _f("idx address funder, uint256[] amountsAdded, uint256 sharesMinted"),
          "0xec2dc3e5a3bb9aa0a1deb905d2bd23640d07f107e6ceb484024501aad964a951", ANY_ADDRESS),
    Event("fpmm.FPMMFundingRemoved", "FPMMFundingRemoved",
          _f("idx address funder, uint256[] amountsRemoved, uint256 collateralRemovedFromFeePool, "
             "uint256 sharesBurnt"),
          "0x8b4b2c8ebd04c47fc8bce136a85df9b93fcb1f47c8aa296457d4391519d190e7", ANY_ADDRESS),
)

BY_KEY: dict[str, Event] = {e.key: e for e in EVENTS}

#: Events the decoder does not read (none at the moment; kept so a new emitter's extra events have a place).
UNREAD_EVENTS: tuple[Event, ...] = ()
FEE_REFUNDED = BY_KEY["fee_module.FeeRefunded"]

#: Events the known contracts emit that no table reads, by topic0: (signature, why no P&L needs it). A run's log
#: names them ("ApprovalForAll") at info level, because they are expected; an event not listed here or in EVENTS is
#: still a warning with its address and topic0, as a new event type must be seen. Signatures: Polymarket's
#: ctf-exchange (src/exchange/interfaces: IAuth, IPausable, IFees, ITrading, IRegistry, ISignatures),
#: neg-risk-ctf-adapter (INegRiskAdapter), ConditionalTokens (ERC1155), ERC20.
NOT_DECODED: dict[str, tuple[str, str]] = {
    "0x17307eab39ab6107e8899845ad3d59bd9653f200f220920489ca2b5937696c31":
        ("ApprovalForAll(address,address,bool)", "an ERC1155 operator approval: moves no shares"),
    "0x6bb7ff708619ba0610cba295a58592e0451dee2622938c8755667688daf3529b":
        ("URI(string,uint256)", "ERC1155 token metadata URI"),
    "0xbc9a2432e8aeb48327246cddd6e872ef452812b4243c04e6bfb786a2cd8faf0d":
        ("TokenRegistered(uint256,uint256,bytes32)",
         "an exchange registers a market's token pair: token_map comes from ConditionPreparation"),
    "0x5152abf959f6564662358c2e52b702259b78bac5ee7842a0f01937e670efcc7d":
        ("OrderCancelled(bytes32)", "an order cancelled: no fill, no cash"),
    "0x203c4bd3e526634f661575359ff30de3b0edaba6c2cb1eac60f730b6d2d9d536":
        ("TradingPaused(address)", "exchange admin"),
    "0xa1e8a54850dbd7f520bcc09f47bff152294b77b2081da545a7adf531b7ea283b":
        ("TradingUnpaused(address)", "exchange admin"),
    "0xf9ffabca9c8276e99321725bcb43fb076a6c66a54b7f21c4e8146d8519b417dc": ("NewAdmin(address,address)", "admin"),
    "0xf1e04d73c4304b5ff164f9d10c7473e2a1593b740674a6107975e2a7001c1e5c": ("NewOperator(address,address)", "admin"),
    "0x787a2e12f4a55b658b8f573c32432ee11a5e8b51677d1e1e937aaf6a0bb5776e":
        ("RemovedAdmin(address,address)", "admin"),
    "0xf7262ed0443cc211121ceb1a80d69004f319245615a7488f951f1437fd91642c":
        ("RemovedOperator(address,address)", "admin"),
    "0x3053c6252a932554235c173caffc1913604dba3a41cee89516f631c4a1a50a37":
        ("ProxyFactoryUpdated(address,address)", "exchange configuration"),
    "0x9726d7faf7429d6b059560dc858ed769377ccdf8b7541eabe12b22548719831f":
        ("SafeFactoryUpdated(address,address)", "exchange configuration"),
    "0xf059ab16d1ca60e123eab60e3c02b68faf060347c701a5d14885a8e1def7b3a8":
        ("MarketPrepared(bytes32,address,uint256,bytes)",
         "a negRisk market: its questions come by QuestionPrepared"),
    "0x9e9fa7fd355160bd4cd3f22d4333519354beff1f5689bde87f2c5e63d8d484b2":
        ("OutcomeReported(bytes32,bytes32,bool)", "a negRisk outcome: payouts come by ConditionResolution"),
    "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef":
        ("Transfer(address,address,uint256)", "an ERC20 collateral transfer: cash comes from the protocol events"),
    "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925":
        ("Approval(address,address,uint256)", "an ERC20 allowance"),
}


def event_name(topic0: str | None) -> str | None:
    """The name of an event the harness knows, decoded or not (``ApprovalForAll``), else None."""
    if topic0 is None:
        return None
    t = topic0.lower()
    if t in NOT_DECODED:
        return NOT_DECODED[t][0].split("(")[0]
    return next((e.name for e in EVENTS if e.topic0 == t), None)


def check_topics() -> None:
    """Raise if any constant topic0 differs from keccak(signature)."""
    bad = [f"{e.key}: {e.signature} -> {topic0_of(e.signature)} != {e.topic0}"
           for e in EVENTS + UNREAD_EVENTS if topic0_of(e.signature) != e.topic0]
    bad += [f"{sig} -> {topic0_of(sig)} != {t}" for t, (sig, _why) in NOT_DECODED.items() if topic0_of(sig) != t]
    if bad:
        raise AssertionError("topic0 constants disagree with their signatures: " + "; ".join(bad))


check_topics()


@lru_cache(maxsize=1)
def by_address() -> dict[str, dict[str, Event]]:
    """emitting contract address (lower-case) -> topic0 -> Event, from harness/data/contracts.yaml."""
    c = contracts()
    out: dict[str, dict[str, Event]] = {}
    for e in EVENTS:
        for k in e.emitters:
            if k in c:
                out.setdefault(c[k].address, {})[e.topic0] = e
    return out


def any_address_events() -> dict[str, Event]:
    """topic0 -> Event for the events decoded from any address (the FPMMs'), whatever emitted them."""
    return {e.topic0: e for e in EVENTS if e.emitters == ANY_ADDRESS}


def address_of(key: str) -> str:
    return contracts()[key].address
