// The daemons' command line, parsed one way (node:util parseArgs) for the bridge and the broker:
// `NAME start [--config FILE] [--test]`, `NAME -h | --help | --version`. Help and version exit 0,
// a usage error 2 with the usage, and configuration problems 2, one line each.
import { parseArgs } from "node:util";

export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processOutput: Output = { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) };

/** What `NAME start` was asked to do. */
export interface StartCommand {
  config?: string;
  test: boolean;
}

/**
 * Parses a daemon's arguments: the start command's options, or the exit status when the command is
 * answered already (help and version: 0; a usage error: 2, the usage on stderr).
 */
export function parseStartCommand(name: string, usage: string, version: string, argv: string[], out: Output): StartCommand | number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { config: { type: "string", short: "c" }, test: { type: "boolean" }, help: { type: "boolean", short: "h" }, version: { type: "boolean" } },
    });
  } catch (error) {
    out.stderr(`${name}: ${(error as Error).message}\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out.stdout(usage);
    return 0;
  }
  if (values.version) {
    out.stdout(`${version}\n`);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== "start") {
    out.stderr(`${name}: ${positionals.length ? `unknown command "${positionals.join(" ")}"` : "no command"}\n${usage}`);
    return 2;
  }
  return { config: values.config, test: values.test ?? false };
}

/** Prints configuration problems (an error's message, one problem a line) and returns the exit status 2. */
export function configErrorExit(name: string, out: Output, error: Error): number {
  // an error of the DataMarketError base class: its message without the code prefix
  const text = (error as { shortMessage?: unknown }).shortMessage;
  for (const problem of (typeof text === "string" ? text : error.message).split("\n")) out.stderr(`${name}: config error: ${problem}\n`);
  return 2;
}

/** The first SIGINT or SIGTERM a daemon receives, listened for from the call on. */
export interface StopSignals {
  /** Resolves with the first signal's name. */
  readonly signal: Promise<"SIGINT" | "SIGTERM">;
  /** Stops listening (a daemon that failed to start exits without waiting). */
  dispose(): void;
}

/**
 * Listens for SIGINT and SIGTERM from now on. A daemon calls it before it starts: it logs its
 * readiness ("listening", "started") before its start returns, and a supervisor (or a test) that stops
 * it on reading that line must get a graceful shutdown, not the signal's default action.
 */
export function stopSignals(): StopSignals {
  let received!: (signal: "SIGINT" | "SIGTERM") => void;
  const signal = new Promise<"SIGINT" | "SIGTERM">((resolve) => (received = resolve));
  const onSigint = () => received("SIGINT");
  const onSigterm = () => received("SIGTERM");
  process.once("SIGINT", onSigint);
  process.once("SIGTERM", onSigterm);
  return {
    signal,
    dispose: () => {
      process.removeListener("SIGINT", onSigint);
      process.removeListener("SIGTERM", onSigterm);
    },
  };
}
