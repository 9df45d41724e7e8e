// SPDX-License-Identifier: Apache-2.0
// Test fixtures only: the ENS registry and public resolver exactly as ENS published them on npm
// (@ensdomains/ens 0.6.2, @ensdomains/resolver 0.3.1), compiled with solc 0.7.6 (npm alias solc-0.7),
// so that the StreamNames tests run against the real ENS contracts on the local chain.
// solhint-disable-next-line compiler-version
pragma solidity ^0.7.4;

// The imports are the point: Hardhat compiles, and the tests deploy, what this file names.
/* solhint-disable no-unused-import */

import {ENSRegistry} from "@ensdomains/ens/contracts/ENSRegistry.sol";
import {PublicResolver} from "@ensdomains/resolver/contracts/PublicResolver.sol";
