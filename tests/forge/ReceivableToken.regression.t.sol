// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {ReceivableToken} from "../../contracts/ReceivableToken.sol";
import {Roles} from "../../contracts/Roles.sol";
import {ReentrantReceiver} from "../../contracts/mocks/ReentrantReceiver.sol";
import {IERC3525Receiver} from "../../contracts/interfaces/IERC3525.sol";
import {IInvoiceRegistry} from "../../contracts/interfaces/IInvoiceRegistry.sol";
import {IReceivableToken} from "../../contracts/interfaces/IReceivableToken.sol";
import {ScfFixture} from "./ScfFixture.sol";

/**
 * @dev On every value it receives, splits half of it to itself again (a new token, which calls
 * back again) until `depth` levels; also tries to spend the sender's (foreign) token, which must fail.
 */
contract RecursiveSplitter is IERC3525Receiver, IERC165 {
    ReceivableToken public immutable token;
    uint256 public depth;
    uint256 public level;
    uint256[] public received;
    uint256 public theftsRefused;

    constructor(ReceivableToken token_, uint256 depth_) {
        token = token_;
        depth = depth_;
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC3525Receiver).interfaceId || interfaceId == type(IERC165).interfaceId;
    }

    function receivedCount() external view returns (uint256) {
        return received.length;
    }

    function onERC3525Received(address, uint256 fromTokenId, uint256 toTokenId, uint256 value, bytes calldata)
        external
        returns (bytes4)
    {
        require(msg.sender == address(token), "not the token");
        received.push(toTokenId);
        // Spending the sender's token is refused (not the owner, no allowance).
        if (token.ownerOf(fromTokenId) != address(this)) {
            try token.transferFrom(fromTokenId, address(this), 1) {}
            catch {
                ++theftsRefused;
            }
        }
        if (level < depth && value >= 2) {
            ++level;
            token.transferFrom(toTokenId, address(this), value / 2); // calls back into this function
        }
        return IERC3525Receiver.onERC3525Received.selector;
    }
}

/**
 * @dev Pinned cases: exact custom errors for zero and excess amounts, issuing rules, and hostile
 * receivers that re-enter during the receipt callbacks.
 */
contract ReceivableTokenRegressionTest is ScfFixture {
    uint256 internal constant FACE = 1_000e6;

    uint256 internal slot;
    uint256 internal tokenA; // sup0's accepted token holding the whole face value
    uint256 internal base; // SLOT_BASE

    function setUp() public {
        _deployScf();
        (slot, tokenA) = _issueAccepted(core0, sup0, FACE);
        base = token.SLOT_BASE();
    }

    /// @dev Id of the `serial`-th token of `slot` (the first holder's token is serial 1).
    function _id(uint256 serial) internal view returns (uint256) {
        return slot * base + serial;
    }

    /// @dev Serials scanned when summing the slot: more than any test mints.
    function _maxId() internal pure returns (uint256) {
        return 64;
    }

    // -------------------------------------------------------- zero / excess amounts

    function testSplitZeroAmountRevertsWithInvalidValue() public {
        vm.expectRevert(abi.encodeWithSelector(IReceivableToken.ReceivableInvalidValue.selector, tokenA, FACE, 0));
        vm.prank(sup0);
        token.transferFrom(tokenA, sup1, 0);
        assertEq(token.balanceOf(tokenA), FACE, "value changed");
        _assertConserved(slot, _maxId());
    }

    function testSplitExcessAmountRevertsWithInvalidValue() public {
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableToken.ReceivableInvalidValue.selector, tokenA, FACE, FACE + 1)
        );
        vm.prank(sup0);
        token.transferFrom(tokenA, sup1, FACE + 1);
        assertEq(token.balanceOf(tokenA), FACE, "value changed");
        assertEq(token.balanceOf(sup1), 0, "a token was minted");
    }

    function testSplitMaxUintAmountRevertsWithInvalidValue() public {
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableToken.ReceivableInvalidValue.selector, tokenA, FACE, type(uint256).max)
        );
        vm.prank(sup0);
        token.transferFrom(tokenA, sup1, type(uint256).max);
    }

    /// @dev 2^96 + 1 would wrap to 1 if cast to uint96 before the balance check.
    function testSplitAmountAboveUint96RevertsWithInvalidValue() public {
        uint256 amount = uint256(type(uint96).max) + 2;
        vm.expectRevert(abi.encodeWithSelector(IReceivableToken.ReceivableInvalidValue.selector, tokenA, FACE, amount));
        vm.prank(sup0);
        token.transferFrom(tokenA, sup1, amount);
    }

    function testValueTransferZeroAndExcessRevertWithInvalidValue() public {
        vm.prank(sup0);
        uint256 tokenB = token.transferFrom(tokenA, sup1, 300e6);
        vm.expectRevert(abi.encodeWithSelector(IReceivableToken.ReceivableInvalidValue.selector, tokenA, 700e6, 0));
        vm.prank(sup0);
        token.transferFrom(tokenA, tokenB, 0);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableToken.ReceivableInvalidValue.selector, tokenA, 700e6, 700e6 + 1)
        );
        vm.prank(sup0);
        token.transferFrom(tokenA, tokenB, 700e6 + 1);
        _assertConserved(slot, _maxId());
    }

    /// @dev The whole balance may be split off; the source stays, empty.
    function testSplitWholeBalanceLeavesEmptySource() public {
        vm.prank(sup0);
        uint256 tokenB = token.transferFrom(tokenA, sup1, FACE);
        assertEq(token.balanceOf(tokenA), 0, "source not emptied");
        assertEq(token.balanceOf(tokenB), FACE, "new token value");
        assertEq(token.ownerOf(tokenA), sup0, "empty source burned");
        _assertConserved(slot, _maxId());
    }

    function testFuzzSplitDebitsExactlyTheAmount(uint256 amount, uint256 toSeed) public {
        amount = bound(amount, 1, FACE);
        address[4] memory tos = [sup0, sup1, sup2, lender];
        address to = tos[toSeed % 4];
        uint256 nftBefore = token.balanceOf(to);
        vm.prank(sup0);
        uint256 newId = token.transferFrom(tokenA, to, amount);
        assertEq(token.balanceOf(newId), amount, "new token value != amount");
        assertEq(token.balanceOf(tokenA), FACE - amount, "source not debited by exactly amount");
        assertEq(token.slotOf(newId), token.slotOf(tokenA), "new token in another slot");
        assertEq(token.ownerOf(newId), to, "new token owner");
        assertEq(token.balanceOf(to), nftBefore + 1, "receiver NFT balance");
        _assertConserved(slot, _maxId());
    }

    // ----------------------------------------------------------------- issuing rules

    function testNonCoreCannotIssue() public {
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = 100e6;
        bytes32[] memory fps = _confirmedInvoices(sup1, core0, amounts);
        IReceivableToken.IssueRequest memory req = _request(sup1, 100e6, uint40(block.timestamp + 30 days), fps);
        vm.expectRevert(
            abi.encodeWithSelector(IReceivableToken.ReceivableUnauthorizedAccount.selector, sup2, Roles.CORE_ENTERPRISE)
        );
        vm.prank(sup2);
        token.issue(req);
        vm.expectRevert(
            abi.encodeWithSelector(
                IReceivableToken.ReceivableUnauthorizedAccount.selector, regulator, Roles.CORE_ENTERPRISE
            )
        );
        vm.prank(regulator);
        token.issue(req);
    }

    function testOtherCoreCannotIssueAgainstForeignInvoices() public {
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = 100e6;
        bytes32[] memory fps = _confirmedInvoices(sup1, core0, amounts);
        vm.expectRevert(abi.encodeWithSelector(IInvoiceRegistry.InvoiceMismatch.selector, fps[0]));
        vm.prank(core1);
        token.issue(_request(sup1, 100e6, uint40(block.timestamp + 30 days), fps));
    }

    function testInvoiceCannotBackTwoSlots() public {
        uint256[] memory amounts = new uint256[](1);
        amounts[0] = 100e6;
        bytes32[] memory fps = _confirmedInvoices(sup1, core0, amounts);
        vm.prank(core0);
        (uint256 first,) = token.issue(_request(sup1, 100e6, uint40(block.timestamp + 30 days), fps));
        vm.expectRevert(
            abi.encodeWithSelector(
                IInvoiceRegistry.InvoiceInvalidStatus.selector, fps[0], IInvoiceRegistry.Status.Linked
            )
        );
        vm.prank(core0);
        token.issue(_request(sup1, 50e6, uint40(block.timestamp + 30 days), fps));
        assertEq(uint256(registry.invoiceOf(fps[0]).slot), first, "invoice moved to another slot");
    }

    function testFaceAboveInvoicesReverts() public {
        uint256[] memory amounts = new uint256[](2);
        amounts[0] = 60e6;
        amounts[1] = 40e6;
        bytes32[] memory fps = _confirmedInvoices(sup1, core0, amounts);
        vm.expectRevert(abi.encodeWithSelector(IReceivableToken.ReceivableFaceNotCovered.selector, 100e6 + 1, 100e6));
        vm.prank(core0);
        token.issue(_request(sup1, 100e6 + 1, uint40(block.timestamp + 30 days), fps));
        assertTrue(registry.invoiceOf(fps[0]).status == IInvoiceRegistry.Status.Confirmed, "invoice linked anyway");
    }

    // ------------------------------------------------------ re-entrant ERC-3525 receivers

    function _receiver() internal returns (ReentrantReceiver r) {
        r = new ReentrantReceiver();
        vm.label(address(r), "ReentrantReceiver");
        _admit(address(r), Roles.SUPPLIER);
    }

    /// @dev The receiver re-splits the value it just got: legitimate, and the books still balance.
    function testReentrantReceiverSplitsReceivedValueAgain() public {
        ReentrantReceiver r = _receiver();
        uint256 incoming = _id(2);
        r.arm(
            address(token),
            abi.encodeWithSignature("transferFrom(uint256,address,uint256)", incoming, sup1, 150e6),
            true
        );
        vm.prank(sup0);
        uint256 newId = token.transferFrom(tokenA, address(r), 400e6);
        assertEq(newId, incoming, "unexpected id");
        assertTrue(r.reentrySucceeded(), "re-split refused");
        assertEq(token.balanceOf(tokenA), 600e6, "source");
        assertEq(token.balanceOf(incoming), 250e6, "receiver's token");
        assertEq(token.balanceOf(_id(3)), 150e6, "re-split token");
        assertEq(token.balanceOf(address(r)), 1, "receiver NFT balance");
        _assertConserved(slot, _maxId());
    }

    /// @dev The receiver tries to spend more than it received, or the sender's token: refused.
    function testReentrantReceiverCannotOverspendOrSpendSource() public {
        ReentrantReceiver r = _receiver();
        r.arm(
            address(token),
            abi.encodeWithSignature("transferFrom(uint256,address,uint256)", _id(2), sup1, 400e6 + 1),
            false
        );
        vm.prank(sup0);
        token.transferFrom(tokenA, address(r), 400e6);
        assertFalse(r.reentrySucceeded(), "overspend accepted");
        assertEq(
            keccak256(r.reentryResult()),
            keccak256(
                abi.encodeWithSelector(IReceivableToken.ReceivableInvalidValue.selector, _id(2), 400e6, 400e6 + 1)
            ),
            "overspend refused with another error"
        );
        _assertConserved(slot, _maxId());

        ReentrantReceiver r2 = _receiver();
        r2.arm(
            address(token),
            abi.encodeWithSignature("transferFrom(uint256,address,uint256)", tokenA, address(r2), 1),
            false
        );
        vm.prank(sup0);
        token.transferFrom(tokenA, address(r2), 100e6);
        assertFalse(r2.reentrySucceeded(), "spent the sender's token");
        assertEq(token.balanceOf(tokenA), 500e6, "source");
        _assertConserved(slot, _maxId());
    }

    /// @dev A receiver whose re-entry fails and bubbles up reverts the whole split.
    function testBubblingReentryRevertsWholeSplit() public {
        ReentrantReceiver r = _receiver();
        r.arm(address(token), abi.encodeWithSignature("transferFrom(uint256,address,uint256)", tokenA, sup1, 1), true);
        vm.expectRevert();
        vm.prank(sup0);
        token.transferFrom(tokenA, address(r), 100e6);
        assertEq(token.balanceOf(tokenA), FACE, "source changed");
        assertEq(token.balanceOf(address(r)), 0, "receiver kept a token");
        _assertConserved(slot, _maxId());
    }

    /// @dev On a value transfer into its token, the receiver moves more than that back out.
    function testReentrantReceiverMovesValueBackOnTransfer() public {
        ReentrantReceiver r = _receiver();
        vm.prank(sup0);
        uint256 rToken = token.transferFrom(tokenA, address(r), 100e6); // not armed yet
        r.arm(
            address(token),
            abi.encodeWithSignature("transferFrom(uint256,uint256,uint256)", rToken, tokenA, 130e6),
            true
        );
        vm.prank(sup0);
        token.transferFrom(tokenA, rToken, 50e6);
        assertTrue(r.reentrySucceeded(), "move back refused");
        assertEq(token.balanceOf(rToken), 20e6, "receiver's token");
        assertEq(token.balanceOf(tokenA), 980e6, "source");
        _assertConserved(slot, _maxId());
    }

    /// @dev The receiver merges the token it just received into one it already holds; the new
    /// token id returned by the split is then burned.
    function testReentrantReceiverMergesIncomingToken() public {
        ReentrantReceiver r = _receiver();
        vm.prank(sup0);
        uint256 held = token.transferFrom(tokenA, address(r), 100e6);
        uint256 incoming = _id(3);
        r.arm(address(token), abi.encodeWithSignature("merge(uint256,uint256)", incoming, held), true);
        vm.prank(sup0);
        uint256 newId = token.transferFrom(tokenA, address(r), 250e6);
        assertEq(newId, incoming, "unexpected id");
        assertTrue(r.reentrySucceeded(), "merge refused");
        vm.expectRevert(abi.encodeWithSelector(IReceivableToken.ReceivableNonexistentToken.selector, incoming));
        token.ownerOf(incoming);
        assertEq(token.balanceOf(held), 350e6, "merged value");
        assertEq(token.balanceOf(address(r)), 1, "receiver NFT balance");
        assertEq(token.balanceOf(tokenA), 650e6, "source");
        _assertConserved(slot, _maxId());
    }

    /// @dev Nested callbacks: every receipt splits half again, six levels deep.
    function testRecursiveSplitterKeepsSlotBalanced() public {
        RecursiveSplitter s = new RecursiveSplitter(token, 6);
        _admit(address(s), Roles.SUPPLIER);
        vm.prank(sup0);
        token.transferFrom(tokenA, address(s), 640e6);
        assertEq(s.receivedCount(), 7, "callbacks");
        assertEq(s.theftsRefused(), 1, "a theft from the sender succeeded");
        assertEq(token.balanceOf(address(s)), 7, "receiver NFT balance");
        assertEq(token.balanceOf(tokenA), 360e6, "source");
        uint256 held;
        for (uint256 i = 0; i < 7; ++i) {
            held += token.balanceOf(s.received(i));
        }
        assertEq(held, 640e6, "receiver's tokens do not add up to what it received");
        _assertConserved(slot, _maxId());
    }

    // ------------------------------------------------------ re-entrant ERC-721 receivers

    /// @dev During a safe whole-token transfer the receiver splits part of the token onwards.
    function testReentrantERC721ReceiverSplitsDuringSafeTransfer() public {
        ReentrantReceiver r = _receiver();
        r.arm(
            address(token), abi.encodeWithSignature("transferFrom(uint256,address,uint256)", tokenA, sup2, 300e6), true
        );
        vm.prank(sup0);
        token.safeTransferFrom(sup0, address(r), tokenA);
        assertTrue(r.reentrySucceeded(), "split refused");
        assertEq(token.ownerOf(tokenA), address(r), "owner");
        assertEq(token.balanceOf(tokenA), 700e6, "token value");
        assertEq(token.balanceOf(sup0), 0, "sender NFT balance");
        assertEq(token.balanceOf(address(r)), 1, "receiver NFT balance");
        assertEq(token.balanceOf(sup2), 1, "split receiver NFT balance");
        _assertConserved(slot, _maxId());
    }

    /// @dev During a safe transfer the receiver passes the token on (whole) to another member.
    function testReentrantERC721ReceiverForwardsTokenDuringSafeTransfer() public {
        ReentrantReceiver r = _receiver();
        r.arm(
            address(token),
            abi.encodeWithSignature("transferFrom(address,address,uint256)", address(r), sup1, tokenA),
            true
        );
        vm.prank(sup0);
        token.safeTransferFrom(sup0, address(r), tokenA);
        assertEq(token.ownerOf(tokenA), sup1, "owner");
        assertEq(token.balanceOf(address(r)), 0, "receiver NFT balance");
        assertEq(token.balanceOf(sup1), 1, "final owner NFT balance");
        assertEq(token.balanceOf(sup0), 0, "sender NFT balance");
        _assertConserved(slot, _maxId());
    }

    /// @dev During a safe transfer the receiver merges the incoming token into one it holds.
    function testReentrantERC721ReceiverMergesDuringSafeTransfer() public {
        ReentrantReceiver r = _receiver();
        vm.prank(sup0);
        uint256 held = token.transferFrom(tokenA, address(r), 100e6);
        r.arm(address(token), abi.encodeWithSignature("merge(uint256,uint256)", tokenA, held), true);
        vm.prank(sup0);
        token.safeTransferFrom(sup0, address(r), tokenA);
        assertTrue(r.reentrySucceeded(), "merge refused");
        assertEq(token.balanceOf(held), FACE, "merged value");
        assertEq(token.balanceOf(address(r)), 1, "receiver NFT balance");
        assertEq(token.balanceOf(sup0), 0, "sender NFT balance");
        _assertConserved(slot, _maxId());
    }

    /// @dev A receiver that tries to take the sender's other token during a safe transfer fails.
    function testReentrantERC721ReceiverCannotTakeSendersOtherToken() public {
        vm.prank(sup0);
        uint256 other = token.transferFrom(tokenA, sup0, 200e6);
        ReentrantReceiver r = _receiver();
        r.arm(
            address(token),
            abi.encodeWithSignature("transferFrom(address,address,uint256)", sup0, address(r), other),
            false
        );
        vm.prank(sup0);
        token.safeTransferFrom(sup0, address(r), tokenA);
        assertFalse(r.reentrySucceeded(), "took the sender's other token");
        assertEq(token.ownerOf(other), sup0, "other token moved");
        assertEq(token.balanceOf(sup0), 1, "sender NFT balance");
        _assertConserved(slot, _maxId());
    }
}
