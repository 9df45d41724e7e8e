// Builds dist/: CommonJS (index.js) and ES module (index.mjs) for Node, with .d.ts / .d.mts, and an
// ES module for browsers (browser/index.mjs) in which every `_nodejs/` module is replaced by its
// `_browser/` twin, so that no Node built-in reaches a browser bundle (Streamr's src/_nodejs vs
// src/_browser). The package's conditional `exports` picks the build.

import { defineConfig, type Options } from "tsup";
import type { Plugin } from "esbuild";

/** Resolves `./_nodejs/x` (relative imports) to `./_browser/x`. */
export const browserPlatform: Plugin = {
  name: "datamarket-browser-platform",
  setup(build) {
    build.onResolve({ filter: /\/_nodejs\// }, async (args) => {
      const result = await build.resolve(args.path.replace("/_nodejs/", "/_browser/"), { kind: args.kind, resolveDir: args.resolveDir });
      return { path: result.path, errors: result.errors };
    });
  },
};

// ESM in Node has no `require`: the native addons are loaded through one made for this file.
const esmRequireBanner = { js: 'import { createRequire as __datamarketCreateRequire } from "node:module";\nconst require = __datamarketCreateRequire(import.meta.url);' };

const common: Options = { entry: { index: "src/index.ts" }, target: "es2022", sourcemap: true, splitting: false, treeshake: true };

export default defineConfig([
  { ...common, format: ["cjs"], platform: "node", dts: true, clean: true },
  { ...common, format: ["esm"], platform: "node", dts: true, banner: esmRequireBanner },
  { ...common, format: ["esm"], platform: "browser", outDir: "dist/browser", esbuildPlugins: [browserPlatform] },
]);
