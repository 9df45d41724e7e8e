// Structured logs through pino, as the broker writes them: one JSON object a line on stdout (level,
// time, service, msg, fields), so one log pipeline (and pino-pretty) reads both daemons and filters
// by grantId, code or transaction hash. Errors go under `err` (pino's serializer keeps the stack).
import { type LogLevel } from "@datamarket/consent-ledger/config";
import pino, { type DestinationStream, type Logger } from "pino";

export type { Logger };
/** The levels a configuration may choose (pino's, without "silent"): the daemons' shared list. */
export { LOG_LEVELS, type LogLevel } from "@datamarket/consent-ledger/config";

/**
 * The bridge's logger: pino at `level`, to stdout unless another destination is given. Stdout is
 * written synchronously, as the broker's: a process that exits or is killed while an asynchronous write
 * is in flight prints later lines first, or loses it.
 */
export function bridgeLogger(level: LogLevel = "info", destination?: DestinationStream): Logger {
  const options = { level, base: { service: "consent-bridge" } };
  return pino(options, destination ?? pino.destination({ dest: 1, sync: true }));
}

/** A logger that keeps every record (debug and up) in memory, parsed: tests and the demo read `records`. */
export function memoryLogger(): Logger & { records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const logger = bridgeLogger("debug", { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) });
  return Object.assign(logger, { records });
}
