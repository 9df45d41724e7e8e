// What the command prints. Results go to stdout: text for people, or one JSON document (--json), or
// one JSON document a line for streams of events (subscribe). Progress and warnings go to stderr, so
// that stdout stays parseable; on a terminal a progress line is rewritten in place.

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
}

/** bigint -> decimal string, Uint8Array -> 0x-hex: what JSON output holds. */
export function toJsonValue(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === "bigint") return v.toString(10);
      if (v instanceof Uint8Array) return "0x" + Buffer.from(v).toString("hex");
      if (v && typeof v === "object" && (v as { type?: string }).type === "Buffer" && Array.isArray((v as { data?: unknown }).data)) {
        return "0x" + Buffer.from((v as { data: number[] }).data).toString("hex");
      }
      return v;
    }),
  );
}

export class Output {
  private progressShown = false;
  private readonly tty: boolean;

  constructor(
    readonly options: OutputOptions,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream | NodeJS.WritableStream = process.stderr,
  ) {
    this.tty = (stderr as NodeJS.WriteStream).isTTY === true;
  }

  /** The command's result: `value` as JSON with --json, else the text of `human(value)`. */
  result<T>(value: T, human: (value: T) => string): void {
    this.endProgress();
    this.stdout.write(this.options.json ? JSON.stringify(toJsonValue(value), null, 2) + "\n" : human(value) + "\n");
  }

  /** One item of a stream of results (subscribe, resend): a JSON line with --json. */
  item<T>(value: T, human: (value: T) => string): void {
    this.endProgress();
    this.stdout.write(this.options.json ? JSON.stringify(toJsonValue(value)) + "\n" : human(value) + "\n");
  }

  /** A progress line on stderr (rewritten in place on a terminal); nothing with --quiet. */
  progress(message: string): void {
    if (this.options.quiet) return;
    if (this.tty) {
      this.stderr.write(`\r\x1b[2K${message}`);
      this.progressShown = true;
    } else {
      this.stderr.write(message + "\n");
    }
  }

  /** A line on stderr that stays (a warning, a hint). */
  note(message: string): void {
    if (this.options.quiet) return;
    this.endProgress();
    this.stderr.write(message + "\n");
  }

  endProgress(): void {
    if (this.progressShown) {
      this.stderr.write("\r\x1b[2K");
      this.progressShown = false;
    }
  }

  error(code: string, message: string, details: Record<string, unknown>, exitCode: number): void {
    this.endProgress();
    if (this.options.json) {
      this.stdout.write(JSON.stringify(toJsonValue({ error: { code, message, exitCode, details } }), null, 2) + "\n");
    }
    this.stderr.write(`datamarket: ${message}${code !== "FAILURE" ? ` [${code}]` : ""}\n`);
  }
}

/** A table of rows, the columns padded (for people; --json prints the objects). */
export function table(rows: string[][]): string {
  if (rows.length === 0) return "";
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** key: value lines. */
export function fields(entries: [string, unknown][]): string {
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${(k + ":").padEnd(width + 1)} ${String(toJsonValue(v) ?? "-")}`).join("\n");
}
