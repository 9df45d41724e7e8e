#!/usr/bin/env node
// Compiles src/**/*.ts to dist/**/*.js (CommonJS, ES2022), one file at a time with TypeScript's
// transpileModule: the command is plain JavaScript at run time. Types are checked apart, by
// `npm run typecheck` (tsc --noEmit), which `npm test` runs first.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const ts = require("typescript");

const root = path.resolve(__dirname, "..");
const src = path.join(root, "src");
const dist = path.join(root, "dist");
const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, strict: true };

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

fs.rmSync(dist, { recursive: true, force: true });
let count = 0;
for (const file of walk(src).filter((f) => f.endsWith(".ts"))) {
  const { outputText, diagnostics } = ts.transpileModule(fs.readFileSync(file, "utf8"), { compilerOptions, fileName: file, reportDiagnostics: true });
  if (diagnostics && diagnostics.length > 0) {
    process.stderr.write(ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" }));
    process.exit(1);
  }
  const out = path.join(dist, path.relative(src, file)).replace(/\.ts$/, ".js");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, outputText);
  count++;
}
process.stdout.write(`@datamarket/cli: ${count} files -> dist/\n`);
