// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/**
 * @dev A 6-decimal stablecoin for local chains and tests: anyone may mint. Never deploy it on a
 * consortium chain that settles real money.
 */
contract TestStablecoin is ERC20 {
    constructor() ERC20("Test Stablecoin", "tUSD") {}

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
