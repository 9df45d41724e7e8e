// The bridge's persistent state: every signature it gave (append-only JSON lines, fsynced) and its
// checkpoint in the consent ledger (written atomically after each whole event batch).
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { DataMarketError } from "@datamarket/protocol";
import type { ConsentAttestation, ConsentRevocation } from "./eip712";

/** An attestation this bridge signed, with what the ledger said about it. */
export interface AttestationRecord {
  kind: "attestation";
  attestation: ConsentAttestation;
  /** DPV purpose term the grant names */
  purposeName: string;
  /** the struct hash the chaincode recorded (equal to the recomputed one, or nothing was signed) */
  structHash: string;
  signature: string;
  /** Fabric block and transaction of the GrantIssued event */
  blockNumber: string;
  transactionId: string;
}

export interface RevocationRecord {
  kind: "revocation";
  revocation: ConsentRevocation;
  /** ConsentWithdrawn, ConsentRevoked or ConsentUpdated */
  cause: string;
  signature: string;
  blockNumber: string;
  transactionId: string;
}

/** A GrantIssued event this bridge refused to sign, and why. */
export interface RefusalRecord {
  kind: "refusal";
  grantId: string;
  code: string;
  detail: string;
  blockNumber: string;
  transactionId: string;
}

/**
 * A revocation's relay: `sent` (a revokeConsent this bridge sent, recorded before it waits for its
 * confirmations, so that a restart waits for it instead of sending another), `relayed` (the revoking
 * transaction, this bridge's or anyone's, is `chain.confirmations` deep) or `failed` (given up on).
 */
export interface RelayRecord {
  kind: "relay";
  grantId: string;
  status: "sent" | "relayed" | "failed";
  transactionHash?: string;
  /** the sent transaction's nonce (status `sent`): a new relay after a reorg reuses it */
  nonce?: number;
  detail?: string;
}

export type StoreRecord = AttestationRecord | RevocationRecord | RefusalRecord | RelayRecord;

/**
 * Where to resume: the last block of which some transactions were processed, and those transactions.
 * A Fabric block may hold several transactions, so the bridge re-reads that block and skips them.
 */
export interface Checkpoint {
  blockNumber: string;
  transactionIds: string[];
}

/** The identity the state belongs to: a state directory never mixes markets, chains or keys. */
export interface StoreIdentity {
  chainId: string;
  market: string;
  attestor: string;
}

/** The state directory cannot be used: another bridge's (STATE_MISMATCH) or a damaged log (STATE_CORRUPT). */
export class StoreError extends DataMarketError<"STATE_MISMATCH" | "STATE_CORRUPT"> {
  override name = "StoreError";

  constructor(code: "STATE_MISMATCH" | "STATE_CORRUPT", message: string, details: Record<string, unknown> = {}, options: { cause?: unknown } = {}) {
    super(code, message, { details, cause: options.cause, docsPath: "market.md" });
  }
}

export class BridgeStore {
  readonly attestations = new Map<string, AttestationRecord>();
  readonly revocations = new Map<string, RevocationRecord>();
  readonly refusals = new Map<string, RefusalRecord>();
  readonly relays = new Map<string, RelayRecord>();
  private checkpointValue: Checkpoint | null = null;
  private logFd: number | null = null;

  private constructor(private readonly directory: string | null) {}

  /** A store that keeps nothing across restarts (tests, throw-away demos). */
  static inMemory(): BridgeStore {
    return new BridgeStore(null);
  }

  /** Opens (or creates) the state in `directory`; refuses a directory of another chain, market or key. */
  static open(directory: string, identity: StoreIdentity): BridgeStore {
    mkdirSync(directory, { recursive: true });
    const store = new BridgeStore(directory);
    const identityPath = join(directory, "identity.json");
    if (existsSync(identityPath)) {
      const stored = JSON.parse(readFileSync(identityPath, "utf8")) as StoreIdentity;
      for (const key of ["chainId", "market", "attestor"] as const) {
        if (stored[key] !== identity[key]) {
          throw new StoreError("STATE_MISMATCH", `state directory ${directory} belongs to ${key} ${stored[key]}, not ${identity[key]}`, {
            directory,
            field: key,
            stored: stored[key],
            expected: identity[key],
          });
        }
      }
    } else {
      writeAtomically(identityPath, JSON.stringify(identity, null, 2));
    }
    const logPath = join(directory, "signatures.jsonl");
    if (existsSync(logPath)) {
      const lines = readFileSync(logPath, "utf8").split("\n");
      lines.forEach((line, index) => {
        if (line.trim() === "") {
          return;
        }
        try {
          store.apply(JSON.parse(line) as StoreRecord);
        } catch (error) {
          // only a torn last line (a crash mid-append) is tolerated; it is re-derived from the ledger
          if (index < lines.length - 1 && lines.slice(index + 1).some((rest) => rest.trim() !== "")) {
            throw new StoreError(
              "STATE_CORRUPT",
              `${logPath} line ${index + 1} is not a record: ${(error as Error).message}`,
              { file: logPath, line: index + 1 },
              { cause: error },
            );
          }
        }
      });
    }
    const checkpointPath = join(directory, "checkpoint.json");
    if (existsSync(checkpointPath)) {
      store.checkpointValue = JSON.parse(readFileSync(checkpointPath, "utf8")) as Checkpoint;
    }
    store.logFd = openSync(logPath, "a");
    return store;
  }

  get checkpoint(): Checkpoint | null {
    return this.checkpointValue;
  }

  /** Appends a record durably (fsync) before it is served. */
  append(record: StoreRecord): void {
    if (this.logFd !== null) {
      writeSync(this.logFd, JSON.stringify(record) + "\n");
      fsyncSync(this.logFd);
    }
    this.apply(record);
  }

  saveCheckpoint(checkpoint: Checkpoint): void {
    if (this.directory !== null) {
      writeAtomically(join(this.directory, "checkpoint.json"), JSON.stringify(checkpoint));
    }
    this.checkpointValue = checkpoint;
  }

  close(): void {
    if (this.logFd !== null) {
      closeSync(this.logFd);
      this.logFd = null;
    }
  }

  private apply(record: StoreRecord): void {
    switch (record.kind) {
      case "attestation":
        this.attestations.set(record.attestation.grantId, record);
        break;
      case "revocation":
        this.revocations.set(record.revocation.grantId, record);
        break;
      case "refusal":
        this.refusals.set(record.grantId, record);
        break;
      case "relay":
        this.relays.set(record.grantId, record);
        break;
      default:
        throw new Error(`unknown record kind ${(record as { kind: string }).kind}`);
    }
  }
}

function writeAtomically(path: string, contents: string): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, "w");
  try {
    writeSync(fd, contents);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}
