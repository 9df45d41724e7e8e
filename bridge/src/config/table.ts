// The settings table of docs/market.md §10.2, generated from the schema: setting, environment
// variable, default, accepted values, meaning. `npm run docs:config -w bridge` rewrites the block
// between <!-- generated:bridge-config --> and <!-- /generated -->; test/config.test.ts fails when
// the page and the schema disagree.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderGenerated } from "@datamarket/consent-ledger/config";
import { BRIDGE_CONFIG } from "./index";

export const MARKET_DOC = join(__dirname, "..", "..", "..", "docs", "market.md");

/** The markdown table of every setting. */
export function configTable(): string {
  return BRIDGE_CONFIG.table();
}

/** The page with the generated block rewritten. */
export function renderMarketDoc(doc: string): string {
  return renderGenerated(doc, "bridge-config", configTable(), "npm run docs:config -w bridge from bridge/src/config/schema.ts");
}

if (require.main === module) {
  const before = readFileSync(MARKET_DOC, "utf8");
  const after = renderMarketDoc(before);
  writeFileSync(MARKET_DOC, after);
  process.stdout.write(after === before ? "docs/market.md is up to date\n" : "docs/market.md: the bridge settings table was rewritten\n");
}
