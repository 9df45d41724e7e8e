// The build of a published package (protocol/, sdk/): CommonJS (index.js) and ES module
// (index.mjs) for Node with .d.ts / .d.mts, and an ES module for browsers (browser/index.mjs) in
// which every `_nodejs/` module is replaced by its `_browser/` twin, so that no Node built-in
// reaches a browser bundle (Streamr's src/_nodejs vs src/_browser). The package's conditional
// `exports` picks the build. Used by each package's tsup.config.ts.

import type { Plugin } from "esbuild";
import type { Options } from "tsup";

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

// ESM in Node has no `require`: native addons are loaded through one made for the file.
const esmRequireBanner = {
  js: 'import { createRequire as __datamarketCreateRequire } from "node:module";\nconst require = __datamarketCreateRequire(import.meta.url);',
};

export function packageBuild(entry: Record<string, string> = { index: "src/index.ts" }): Options[] {
  const common: Options = { entry, target: "es2022", sourcemap: true, splitting: false, treeshake: true };
  return [
    { ...common, format: ["cjs"], platform: "node", dts: true, clean: true },
    { ...common, format: ["esm"], platform: "node", dts: true, banner: esmRequireBanner },
    { ...common, format: ["esm"], platform: "browser", outDir: "dist/browser", esbuildPlugins: [browserPlatform] },
  ];
}
