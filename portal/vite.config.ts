// The portal's build: static files in dist/ (index.html, hashed assets), relative URLs so any web
// server can host it at any path; config.json is served beside index.html at run time.
import { defineConfig } from "vite";
import { codeFingerprints } from "./plugins/code-fingerprints";

export default defineConfig({
  base: "./",
  plugins: [codeFingerprints()],
  // manifest: the chunk graph scripts/js-size.ts reads for the bench report
  build: { outDir: "dist", emptyOutDir: true, manifest: true, target: "es2022", reportCompressedSize: false, chunkSizeWarningLimit: 1024 },
});
