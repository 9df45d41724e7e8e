// Preloaded into a broker process by test/cli.test.ts (NODE_OPTIONS=--require): the asynchronous write
// to stdout of a log record containing $SLOW_STDOUT_TEXT does not finish for 500 ms, as a write that
// libuv's thread pool has not got to on a loaded machine. Should the process exit first, the write
// lands after the process's exit listeners that were there before it (pino's own flush among them),
// as such a write does.
"use strict";
const fs = require("node:fs");
const write = fs.write;
fs.write = function (fd, ...args) {
  const text = process.env.SLOW_STDOUT_TEXT;
  if (fd !== 1 || !text || !String(args[0]).includes(text)) return write.call(fs, fd, ...args);
  const callback = args.pop();
  let landed = false;
  const land = (done) => {
    if (landed) return;
    landed = true;
    let written;
    try {
      written = fs.writeSync(fd, ...args);
    } catch (error) {
      if (done) done(error);
      return;
    }
    if (done) done(null, written);
  };
  process.once("exit", () => land());
  setTimeout(() => land(callback), 500);
};
