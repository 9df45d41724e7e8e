// `npm run bench -w @datamarket/portal`: the JavaScript each page of the production build ships, gzip
// (level 6, as a web server sends it), from Vite's manifest of dist/: the first load (the entry and
// the page's chunk with their static imports) and the whole page (plus the code it loads on demand:
// the SDK when a button needs it, the wallet signer). Prints a table after a "summary:" line (bench/run.ts).
import { readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

interface Chunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
}

const DIST = path.join(__dirname, "..", "dist");
const manifest = JSON.parse(readFileSync(path.join(DIST, ".vite", "manifest.json"), "utf8")) as Record<string, Chunk>;
const gzip = (file: string) => gzipSync(readFileSync(path.join(DIST, file))).length;

/** Keys of the chunks `keys` load, following static imports (and dynamic ones when `deferred`). */
function closure(keys: string[], deferred: boolean, seen = new Set<string>()): Set<string> {
  for (const key of keys) {
    if (seen.has(key)) continue;
    seen.add(key);
    const c = manifest[key];
    closure([...(c.imports ?? []), ...(deferred ? (c.dynamicImports ?? []).filter((d) => !d.startsWith("src/pages/")) : [])], deferred, seen);
  }
  return seen;
}

const entry = Object.keys(manifest).find((k) => manifest[k].isEntry)!;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const rows = Object.keys(manifest)
  .filter((k) => k.startsWith("src/pages/"))
  .sort()
  .map((page) => {
    const sum = (deferred: boolean) => [...closure([entry, page], deferred)].reduce((s, k) => s + gzip(manifest[k].file), 0);
    return { page: path.basename(page, ".ts"), firstLoad: sum(false), whole: sum(true) };
  });
console.log("summary:");
console.log("| page | first load, JS gzip | with the code it loads on demand |");
console.log("| --- | -: | -: |");
for (const r of rows) console.log(`| ${r.page} | ${kib(r.firstLoad)} | ${kib(r.whole)} |`);
