import hre from "hardhat";

/**
 * The number of fast-check runs of a property: `n` under `hardhat test` (`npm test` checks every property
 * in full), a quarter of it (at least 5) under `hardhat coverage`, whose job is to measure which lines and
 * branches the tests reach, not to search for counterexamples again on an instrumented EVM four times slower.
 */
export function propertyRuns(n: number): number {
  const coverage = (hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING === true;
  return coverage ? Math.max(5, Math.ceil(n / 4)) : n;
}
