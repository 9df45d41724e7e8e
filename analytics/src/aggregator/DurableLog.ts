// An append-only file of JSON records, one per line, made durable (fdatasync) before append() resolves.
// Appends that arrive while a write is in flight are written together by the next one (group commit).
// On open, the records are read back; a torn last line (a crash in the middle of a write) is cut off.
import { promises as fs } from "node:fs";
import path from "node:path";

interface Pending {
  lines: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class DurableLog<T> {
  private queue: Pending[] = [];
  private writing = false;
  private closed = false;

  private constructor(
    private readonly handle: fs.FileHandle,
    readonly file: string,
  ) {}

  /** Opens (creating) the log and returns it with the records it holds, oldest first. */
  static async open<T>(file: string): Promise<{ log: DurableLog<T>; records: T[] }> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    let text = "";
    try {
      text = await fs.readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    const records: T[] = [];
    let good = 0;
    for (let start = 0; start < text.length;) {
      const end = text.indexOf("\n", start);
      if (end < 0) break; // torn tail: no newline
      const line = text.slice(start, end);
      try {
        records.push(JSON.parse(line) as T);
      } catch {
        break; // torn or corrupt: everything from here on was never acknowledged
      }
      start = end + 1;
      good = start;
    }
    const goodBytes = Buffer.byteLength(text.slice(0, good), "utf8");
    const handle = await fs.open(file, "a+");
    if (goodBytes < Buffer.byteLength(text, "utf8")) {
      await handle.truncate(goodBytes);
      await handle.datasync();
    }
    return { log: new DurableLog<T>(handle, file), records };
  }

  /** Appends the records; resolves once they are on disk. */
  append(records: T[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`log ${this.file} is closed`));
    if (records.length === 0) return Promise.resolve();
    const lines = records.map((r) => JSON.stringify(r) + "\n").join("");
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ lines, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.handle.appendFile(batch.map((p) => p.lines).join(""), "utf8");
        await this.handle.datasync();
        for (const p of batch) p.resolve();
      } catch (error) {
        for (const p of batch) p.reject(error as Error);
      }
    }
    this.writing = false;
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.writing) await new Promise((r) => setTimeout(r, 5));
    await this.handle.close();
  }
}
