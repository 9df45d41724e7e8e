#!/usr/bin/env node
// The `datamarket` command: compiled JavaScript only (no TypeScript compiler at start).
"use strict";
require("../dist/main.js").run(process.argv.slice(2));
