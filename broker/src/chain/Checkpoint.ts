// The chain follower's checkpoint (and the consent follower's): the (number, hash) of its last applied
// blocks and its consumers' state there, in one JSON file under the broker's dataDir, replaced
// atomically (write, fsync, rename), so a crash leaves the old checkpoint or the new one, never half of one.

import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export interface Checkpoint {
  /** The block the follower replays from without a checkpoint (the deployment block). */
  fromBlock: number;
  /** The last applied blocks, ascending; the last one is where the state was saved. */
  blocks: { number: number; hash: string }[];
  /** Each consumer's state (Snapshot.name -> Snapshot.save()). */
  state: Record<string, unknown>;
}

export interface CheckpointStore {
  load(): Checkpoint | undefined;
  save(checkpoint: Checkpoint): void | Promise<void>;
}

const VERSION = 1;

/** A checkpoint file; a file that cannot be read as one is reported, not trusted (the follower replays). */
export class FileCheckpointStore implements CheckpointStore {
  /** Why the last load found no usable checkpoint (for the start-up log). */
  loadError?: string;

  constructor(
    readonly file: string,
    /** The chain (an Ethereum chain id, or a Fabric channel and chaincode) the checkpoint belongs to. */
    readonly chainId: number | string,
  ) {}

  load(): Checkpoint | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.loadError = `cannot read ${this.file}: ${(err as Error).message}`;
      return undefined;
    }
    try {
      const parsed = JSON.parse(text) as Checkpoint & { version: number; chainId: number };
      if (parsed.version !== VERSION) throw new Error(`version ${parsed.version}, expected ${VERSION}`);
      if (parsed.chainId !== this.chainId) throw new Error(`chain ${parsed.chainId}, this node is chain ${this.chainId}`);
      if (!Array.isArray(parsed.blocks) || !parsed.blocks.every((b) => Number.isInteger(b.number) && /^0x[0-9a-f]{64}$/i.test(b.hash)))
        throw new Error("blocks is not a list of { number, hash }");
      return { fromBlock: parsed.fromBlock, blocks: parsed.blocks, state: parsed.state ?? {} };
    } catch (err) {
      this.loadError = `${this.file} is not a usable checkpoint (${(err as Error).message}): replaying from the first block (the deployment block, or the consent ledger's start block)`;
      return undefined;
    }
  }

  save(checkpoint: Checkpoint): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, JSON.stringify({ version: VERSION, chainId: this.chainId, ...checkpoint }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}
