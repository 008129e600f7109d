// SPDX-License-Identifier: CC0-1.0
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

/**
 * @dev ERC-3525 Semi-Fungible Token, exactly as in EIP-3525 (interface id 0xd5358140).
 */
interface IERC3525 is IERC721 {
    event TransferValue(uint256 indexed _fromTokenId, uint256 indexed _toTokenId, uint256 _value);
    event ApprovalValue(uint256 indexed _tokenId, address indexed _operator, uint256 _value);
    event SlotChanged(uint256 indexed _tokenId, uint256 indexed _oldSlot, uint256 indexed _newSlot);

    function valueDecimals() external view returns (uint8);

    function balanceOf(uint256 _tokenId) external view returns (uint256);

    function slotOf(uint256 _tokenId) external view returns (uint256);

    function approve(uint256 _tokenId, address _operator, uint256 _value) external payable;

    function allowance(uint256 _tokenId, address _operator) external view returns (uint256);

    function transferFrom(uint256 _fromTokenId, uint256 _toTokenId, uint256 _value) external payable;

    function transferFrom(uint256 _fromTokenId, address _to, uint256 _value) external payable returns (uint256);
}

/**
 * @dev ERC-3525 receiver (interface id 0x009ce20b).
 */
interface IERC3525Receiver {
    function onERC3525Received(address _operator, uint256 _fromTokenId, uint256 _toTokenId, uint256 _value, bytes calldata _data)
        external
        returns (bytes4);
}
