#!/usr/bin/env node
// Runs the TypeScript CLI through ts-node (the workspace ships sources, as @datamarket/consent-ledger does).
require("ts-node").register({ transpileOnly: true, project: require("node:path").join(__dirname, "..", "tsconfig.json") });
const { main } = require("../src/cli");
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`bridge: ${(error && error.stack) || String(error)}\n`);
    process.exitCode = 1;
  },
);
