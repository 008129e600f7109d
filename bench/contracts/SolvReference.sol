// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Solv's reference ERC-3525 (npm @solvprotocol/erc-3525), compiled as published, for gas comparisons.
import {ERC3525Mintable} from "@solvprotocol/erc-3525/ERC3525Mintable.sol";

contract SolvReference is ERC3525Mintable {
    constructor() ERC3525Mintable("Solv reference", "SOLV", 6) {}
}
