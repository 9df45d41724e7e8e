// Structured logs: one JSON object a line on stderr (level, time, msg, fields), so an operator's log
// pipeline can filter by grantId, code or transaction hash.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
    debug(msg: string, fields?: Record<string, unknown>): void;
    info(msg: string, fields?: Record<string, unknown>): void;
    warn(msg: string, fields?: Record<string, unknown>): void;
    error(msg: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function serialize(value: unknown): unknown {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error) return { name: value.name, message: value.message, code: (value as { code?: unknown }).code };
    return value;
}

/** A JSON-lines logger writing records at or above `level` to `write` (stderr by default). */
export function jsonLogger(level: LogLevel = 'info', write: (line: string) => void = (line) => process.stderr.write(line + '\n'), base: Record<string, unknown> = {}): Logger {
    const emit = (at: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
        if (ORDER[at] < ORDER[level]) return;
        write(JSON.stringify({ level: at, time: new Date().toISOString(), msg, ...base, ...fields }, (_key, value) => serialize(value)));
    };
    return {
        debug: (msg, fields) => emit('debug', msg, fields),
        info: (msg, fields) => emit('info', msg, fields),
        warn: (msg, fields) => emit('warn', msg, fields),
        error: (msg, fields) => emit('error', msg, fields),
    };
}

/** Collects records in memory (tests assert on what was logged). */
export function memoryLogger(): Logger & { records: Array<Record<string, unknown>> } {
    const records: Array<Record<string, unknown>> = [];
    const logger = jsonLogger('debug', (line) => records.push(JSON.parse(line) as Record<string, unknown>));
    return Object.assign(logger, { records });
}
