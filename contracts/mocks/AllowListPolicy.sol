// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IFinancingPolicy} from "../interfaces/IFinancingPolicy.sol";

/// @dev A test financing policy: allows holders on its list, up to a value cap per financing.
contract AllowListPolicy is IFinancingPolicy {
    mapping(address holder => bool) public allowed;
    uint256 public immutable maxValue;
    uint256 public checks;

    constructor(uint256 maxValue_) {
        maxValue = maxValue_;
    }

    function setAllowed(address holder, bool allowed_) external {
        allowed[holder] = allowed_;
    }

    function check(address, address holder, uint256, uint256 value) external returns (bool) {
        ++checks;
        return allowed[holder] && value <= maxValue;
    }
}
