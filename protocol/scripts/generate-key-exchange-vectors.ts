// Writes test-vectors/key-exchange.json. Run: npm run vectors:key-exchange (in protocol/).
import { writeFileSync } from "node:fs";
import path from "node:path";
import { buildKeyExchangeVectors } from "../src/keyexchange/vectors";

buildKeyExchangeVectors().then((v) => {
  const file = path.join(__dirname, "..", "..", "test-vectors", "key-exchange.json");
  writeFileSync(file, JSON.stringify(v, null, 2) + "\n");
  console.log(`wrote ${file}`);
});
