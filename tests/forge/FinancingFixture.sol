// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {FinancingDesk} from "../../contracts/FinancingDesk.sol";
import {SettlementVault} from "../../contracts/SettlementVault.sol";
import {Roles} from "../../contracts/Roles.sol";
import {IFinancingDesk} from "../../contracts/interfaces/IFinancingDesk.sol";
import {VM_ADDRESS} from "./Vm.sol";
import {ScfFixture} from "./ScfFixture.sol";

/**
 * @dev Cheatcodes the financing tests need beyond tests/forge/Vm.sol (same cheatcode address).
 */
interface VmSigning {
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function chainId(uint256 newChainId) external;
    function skip(bool skipTest) external;
    function envOr(string calldata name, bool defaultValue) external view returns (bool value);
}

/**
 * @dev EIP-712 helpers for {FinancingDesk} offers, usable by tests and handlers alike.
 */
abstract contract OfferSigning {
    VmSigning internal constant vmSig = VmSigning(VM_ADDRESS);

    bytes32 internal constant EIP712_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    /// @dev `privateKey`'s 65-byte signature (r, s, v) over `digest`.
    function _signDigest(uint256 privateKey, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vmSig.sign(privateKey, digest);
        return abi.encodePacked(r, s, v);
    }

    /// @dev The offer digest as the desk at `desk` would compute it on chain `chainId_`.
    function _offerDigest(FinancingDesk desk, IFinancingDesk.Offer memory offer, uint256 chainId_)
        internal
        view
        returns (bytes32)
    {
        bytes32 domain = keccak256(
            abi.encode(
                EIP712_DOMAIN_TYPEHASH, keccak256("scf-ledger FinancingDesk"), keccak256("1"), chainId_, address(desk)
            )
        );
        bytes32 structHash = keccak256(abi.encode(desk.OFFER_TYPEHASH(), offer));
        return keccak256(abi.encodePacked("\x19\x01", domain, structHash));
    }

    /// @dev `privateKey` signs `offer` for `desk` on the current chain (the desk's own digest).
    function _signOffer(FinancingDesk desk, uint256 privateKey, IFinancingDesk.Offer memory offer)
        internal
        view
        returns (bytes memory)
    {
        return _signDigest(privateKey, desk.hashOffer(offer));
    }
}

/**
 * @dev {ScfFixture} plus the financing desk and the settlement vault (both with SYSTEM_ROLE), a
 * second lender, known private keys for both lenders and a non-lender signer, and the standing
 * approvals the flows need: holders let the desk move their claims, lenders and suppliers let
 * the desk take their tUSD (prices, repayments), debtors (and suppliers, who owe recourse
 * payables) let the vault take theirs (deposits).
 */
abstract contract FinancingFixture is ScfFixture, OfferSigning {
    FinancingDesk internal desk;
    SettlementVault internal vault;

    address internal lender2;
    uint256 internal lenderKey;
    uint256 internal lender2Key;
    uint256 internal outsiderKey; // a valid key that is no lender's

    function _deployFinancing() internal {
        _deployScf();
        vault = new SettlementVault(participants, token, registry);
        desk = new FinancingDesk(participants, token, vault);
        vm.label(address(desk), "FinancingDesk");
        vm.label(address(vault), "SettlementVault");
        participants.grantRole(Roles.SYSTEM, address(desk));
        participants.grantRole(Roles.SYSTEM, address(vault));

        lender2 = makeAddr("lender2");
        _admit(lender2, Roles.LENDER);
        lenderKey = uint256(keccak256(bytes("lender"))); // makeAddr's key derivation
        lender2Key = uint256(keccak256(bytes("lender2")));
        outsiderKey = uint256(keccak256(bytes("outsider")));
        assertEq(vm.addr(lenderKey), lender, "fixture: lender key");
        assertEq(vm.addr(lender2Key), lender2, "fixture: lender2 key");
        assertEq(vm.addr(outsiderKey), outsider, "fixture: outsider key");

        address[3] memory sups = [sup0, sup1, sup2];
        for (uint256 i = 0; i < sups.length; ++i) {
            vm.startPrank(sups[i]);
            token.setApprovalForAll(address(desk), true);
            usd.approve(address(desk), type(uint256).max);
            usd.approve(address(vault), type(uint256).max); // recourse payables they owe
            vm.stopPrank();
        }
        address[2] memory lenders = [lender, lender2];
        for (uint256 i = 0; i < lenders.length; ++i) {
            vm.prank(lenders[i]);
            usd.approve(address(desk), type(uint256).max);
        }
        address[2] memory cores = [core0, core1];
        for (uint256 i = 0; i < cores.length; ++i) {
            vm.prank(cores[i]);
            usd.approve(address(vault), type(uint256).max);
        }
    }

    /// @dev A discount offer of `value` of `tokenId` by `lender_` to `holder` (zero: any holder).
    function _discountOffer(
        address lender_,
        address holder,
        uint256 tokenId,
        uint256 value,
        uint32 rateBps,
        uint256 fixedPrice,
        uint256 fee,
        uint256 nonce
    ) internal view returns (IFinancingDesk.Offer memory o) {
        o.lender = lender_;
        o.holder = holder;
        o.tokenId = tokenId;
        o.slot = tokenId / token.SLOT_BASE();
        o.value = value;
        o.kind = IFinancingDesk.Kind.Discount;
        o.settlement = IFinancingDesk.Settlement.Token;
        o.rateBps = rateBps;
        o.fixedPrice = fixedPrice;
        o.fee = fee;
        o.expiry = uint64(block.timestamp + 1 days);
        o.nonce = nonce;
    }
}
