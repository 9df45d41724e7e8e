// Self-check of eslint.config.mjs, run by `npm run lint`: each boundary rule must still fire on a
// new violation in a published package's source (a config change that silently disables one fails here).
import { ESLint } from "eslint";

const eslint = new ESLint();
const cases = [
  { file: "sdk/src/__boundary_check__.ts", code: 'import { startBroker } from "@datamarket/broker";\n', rule: "import-x/no-extraneous-dependencies" },
  { file: "sdk/src/__boundary_check__.ts", code: 'import { BrokerError } from "../../broker/src/errors";\n', rule: "import-x/no-relative-packages" },
  { file: "sdk/src/wallet/__boundary_check__.ts", code: 'import type { IStreamRegistry } from "../../../typechain-types";\n', rule: "no-restricted-imports" },
  { file: "broker/src/__boundary_check__.ts", code: 'import { DataClient } from "@datamarket/sdk/src/client/DataClient";\n', rule: "no-restricted-imports" },
  { file: "protocol/src/__boundary_check__.ts", code: 'import { WebSocket } from "ws";\n', rule: "import-x/no-extraneous-dependencies" },
];
let failed = 0;
for (const c of cases) {
  const [result] = await eslint.lintText(c.code, { filePath: c.file });
  const rules = result.messages.map((m) => m.ruleId);
  if (!rules.includes(c.rule)) {
    failed++;
    console.error(`eslint.config.mjs lets through ${JSON.stringify(c.code.trim())} in ${c.file} (expected ${c.rule}; got ${JSON.stringify(rules)})`);
  }
}
if (failed) process.exit(1);
console.log(`eslint boundary rules: ${cases.length} of ${cases.length} violations refused`);
