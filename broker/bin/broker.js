#!/usr/bin/env node
// Runs the TypeScript CLI (the repository does not ship compiled output). Each .ts file is
// transpiled once (TypeScript's transpileModule, the broker's compiler options) and the JavaScript
// kept in node_modules/.cache/datamarket-broker, keyed by the file's content: a start after the
// first loads JavaScript only (under a second here, where ts-node took 3-19 s to transpile the
// broker and the contract bindings at every start), and a changed file is transpiled again.
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const cacheDir = path.join(__dirname, "..", "..", "node_modules", ".cache", "datamarket-broker");
let ts;
let compilerOptions;
let salt;

function options() {
  if (!compilerOptions) {
    ts = require("typescript");
    const file = path.join(__dirname, "..", "tsconfig.json");
    const { config } = ts.readConfigFile(file, ts.sys.readFile);
    compilerOptions = ts.parseJsonConfigFileContent(config, ts.sys, path.dirname(file)).options;
    Object.assign(compilerOptions, { noEmit: false, sourceMap: false, inlineSourceMap: false, declaration: false });
  }
  return compilerOptions;
}

function compile(source, filename) {
  // The key covers the compiler's version and this file's code (a change of either transpiles again).
  salt ??= fs.readFileSync(__filename, "utf8") + require("typescript/package.json").version;
  const key = crypto.createHash("sha256").update(salt).update(filename).update("\0").update(source).digest("hex");
  const cached = path.join(cacheDir, `${key}.js`);
  try {
    return fs.readFileSync(cached, "utf8");
  } catch {
    /* not cached yet */
  }
  const out =
    ts && compilerOptions
      ? ts.transpileModule(source, { compilerOptions, fileName: filename }).outputText
      : (options(), ts.transpileModule(source, { compilerOptions, fileName: filename }).outputText);
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, out);
    fs.renameSync(tmp, cached);
  } catch {
    /* a read-only tree: run without the cache */
  }
  return out;
}

require.extensions[".ts"] = (module, filename) => module._compile(compile(fs.readFileSync(filename, "utf8"), filename), filename);

require("../src/cli")
  .main(process.argv.slice(2))
  .then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`broker failed: ${(err && err.stack) || err}\n`);
      process.exit(1);
    },
  );
