// solidity-coverage: test helpers under contracts/test are not protocol code.
module.exports = {
  skipFiles: ["test/"],
  configureYulOptimizer: false,
};
