#!/usr/bin/env node
// Runs the TypeScript CLI through ts-node (the repository does not ship compiled output).
require("ts-node").register({ transpileOnly: true, project: require("path").join(__dirname, "..", "tsconfig.json") });
require("../src/cli").main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`broker failed: ${(err && err.stack) || err}\n`);
    process.exit(1);
  },
);
