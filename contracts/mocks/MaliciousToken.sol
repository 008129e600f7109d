// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @dev A hostile 6-decimal settlement asset for tests: anyone may mint. When armed, its first
 * balance move (a `transfer` or `transferFrom`) after arming calls `target` with `payload`
 * (e.g. a second `redeem` on the vault) and records whether that re-entrant call succeeded and what
 * it returned; `bubble` makes a failed re-entrant call revert the whole move. A non-zero `skim`
 * burns that much of every transfer to a contract, like a fee-on-transfer token.
 */
contract MaliciousToken is ERC20 {
    address public target;
    bytes public payload;
    bool public bubble;
    bool public reentered;
    bool public reentrySucceeded;
    bytes public reentryResult;
    uint256 public skim;

    constructor() ERC20("Malicious", "EVIL") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function arm(address target_, bytes calldata payload_, bool bubble_) external {
        target = target_;
        payload = payload_;
        bubble = bubble_;
        reentered = false;
        reentrySucceeded = false;
        delete reentryResult;
    }

    function setSkim(uint256 skim_) external {
        skim = skim_;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0) && skim != 0 && to.code.length != 0 && value >= skim) {
            super._update(from, address(0), skim);
            value -= skim;
        }
        super._update(from, to, value);
        if (from != address(0) && to != address(0)) _reenter();
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
