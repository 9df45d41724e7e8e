#!/usr/bin/env bash
# The chaincode package on its own, as a Fabric peer's Node builder (or a CCaaS host) gets it: built,
# copied outside the repository, `npm install --omit=dev`, then its contracts loaded (their generated
# metadata printed) and the chaincode server started and stopped.
#   scripts/standalone.sh            check in a temporary folder, removed afterwards (what CI runs)
#   scripts/standalone.sh DIR        leave the installable package in DIR (with its package-lock.json)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -ge 1 ]; then
  out="$1"
  rm -rf "$out"
  mkdir -p "$out"
  keep=1
else
  out="$(mktemp -d)"
  keep=0
fi
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ "$keep" -eq 0 ]; then rm -rf "$out"; fi
}
trap cleanup EXIT

(cd "$here" && npm run --silent build)
cp -R "$here/dist" "$here/package.json" "$here/README.md" "$here/collections_config.json" "$out/"
cd "$out"
echo "chaincode package copied to $out"
npm install --omit=dev --no-audit --no-fund

# the class-transformer pin (docs/consent.md §11): 0.4.1 has no classToPlain, which GetMetadata needs
node -e '
const version = require("class-transformer/package.json").version;
if (version !== "0.4.0") { console.error(`class-transformer ${version} installed, the pin is 0.4.0`); process.exit(1); }
console.log(`class-transformer ${version} (pinned)`);'

CORE_CHAINCODE_LOGGING_LEVEL=WARNING npx --no-install fabric-chaincode-node metadata generate --file metadata.json
node -e '
const metadata = require("./metadata.json");
const contracts = Object.entries(metadata.contracts);
for (const [name, contract] of contracts) {
  const transactions = contract.transactions.map((t) => t.name + ((t.tag || []).includes("SUBMIT") ? "" : " (evaluate)"));
  console.log(`${name}: ${transactions.join(", ")}`);
}
console.log(`schemas: ${Object.keys(metadata.components.schemas).join(", ")}`);
for (const expected of ["consent", "resource", "access", "credential", "org.hyperledger.fabric"]) {
  if (!metadata.contracts[expected]) { console.error(`contract ${expected} missing from the metadata`); process.exit(1); }
}'

# chaincode as a service: bind to a free port on the loopback, wait until it listens, stop it
log="$out/server.log"
# started directly (not through npx, whose child would outlive a kill of npx's pid)
CORE_CHAINCODE_LOGGING_LEVEL=DEBUG ./node_modules/.bin/fabric-chaincode-node server \
  --chaincode-address=127.0.0.1:0 --chaincode-id=consent_standalone:0 >"$log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  if grep -q 'ChaincodeServer started' "$log"; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$log"; echo "the chaincode server exited"; exit 1; fi
  sleep 0.1
done
grep -q 'ChaincodeServer started' "$log" || { cat "$log"; echo "the chaincode server did not start within 10 s"; exit 1; }
echo "chaincode server: $(grep -o 'successfully bound to [0-9]*' "$log" | head -1)"
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
rm -f "$log" metadata.json
echo "the chaincode package installs and starts on its own"
