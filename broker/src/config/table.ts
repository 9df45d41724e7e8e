// The settings table of docs/broker.md ("Configuration"), generated from the schema: setting,
// environment variable, default, accepted values, meaning. `npm run docs:config -w broker` rewrites
// the block between <!-- generated:broker-config --> and <!-- /generated -->; test/config-cli.test.ts
// fails when the page and the schema disagree.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderGenerated } from "@datamarket/consent-ledger/config";
import { BROKER_CONFIG } from "./index";

export const BROKER_DOC = join(__dirname, "..", "..", "..", "docs", "broker.md");

/** The page with the generated block rewritten. */
export function renderBrokerDoc(doc: string): string {
  return renderGenerated(doc, "broker-config", BROKER_CONFIG.table(), "npm run docs:config -w broker from broker/src/config/schema.ts");
}

if (require.main === module) {
  const before = readFileSync(BROKER_DOC, "utf8");
  const after = renderBrokerDoc(before);
  writeFileSync(BROKER_DOC, after);
  process.stdout.write(after === before ? "docs/broker.md is up to date\n" : "docs/broker.md: the broker settings table was rewritten\n");
}
