// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @dev A lender's own rule, asked by the financing desk before it finances `value` of `tokenId`
 * held by `holder` (a credit gate, a limit, an allow list). Return true to allow; returning
 * false or reverting refuses the financing. It may change its own state (e.g. consume a pass).
 */
interface IFinancingPolicy {
    function check(address lender, address holder, uint256 tokenId, uint256 value) external returns (bool);
}
