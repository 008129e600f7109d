// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC3525Receiver} from "../interfaces/IERC3525.sol";

/**
 * @dev A hostile receiver for tests: when it receives value or a token it calls `target` with
 * `payload` (e.g. a split or transfer on the token contract), and records whether that re-entrant
 * call succeeded. `bubble` makes a failed re-entrant call revert the whole receipt.
 */
contract ReentrantReceiver is IERC3525Receiver, IERC721Receiver, IERC165, IERC1271 {
    address public signer; // signs for this contract (ERC-1271), e.g. as a hostile lender
    address public target;
    bytes public payload;
    bool public bubble;
    bool public reentered;
    bool public reentrySucceeded;
    bytes public reentryResult;

    function setSigner(address signer_) external {
        signer = signer_;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError error,) = ECDSA.tryRecover(hash, signature);
        bool valid = error == ECDSA.RecoverError.NoError && signer != address(0) && recovered == signer;
        return valid ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }

    function arm(address target_, bytes calldata payload_, bool bubble_) external {
        target = target_;
        payload = payload_;
        bubble = bubble_;
    }

    /// @dev Calls anything as this contract (to accept, approve, or move what it holds).
    function execute(address to, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory result) = to.call(data);
        if (!ok) {
            assembly {
                revert(add(result, 32), mload(result))
            }
        }
        return result;
    }

    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC3525Receiver).interfaceId || interfaceId == type(IERC721Receiver).interfaceId
            || interfaceId == type(IERC165).interfaceId;
    }

    function onERC3525Received(address, uint256, uint256, uint256, bytes calldata) external returns (bytes4) {
        _reenter();
        return IERC3525Receiver.onERC3525Received.selector;
    }

    function onERC721Received(address, address, uint256, bytes calldata) external returns (bytes4) {
        _reenter();
        return IERC721Receiver.onERC721Received.selector;
    }

    function _reenter() private {
        if (target == address(0) || reentered) return;
        reentered = true;
        (bool ok, bytes memory result) = target.call(payload);
        reentrySucceeded = ok;
        reentryResult = result;
        if (!ok && bubble) {
            assembly {
                revert(add(result, 32), mload(result))
            }
        }
    }
}
