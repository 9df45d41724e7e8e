// dist/: CommonJS, ES module and a browser ES module (see ../scripts/tsup-package.ts).
import { defineConfig } from "tsup";
import { packageBuild } from "../scripts/tsup-package";

export default defineConfig(packageBuild());
