// The periodic status check: every interval, each status list behind an enrolled identity is fetched
// once (fresh, verified against the trust list) and every tracked credential whose status changed is
// reported through `onStatusChange` (and the "statusChange" event). The report is delivered at least
// once: if the callback throws (say, the chaincode transaction that invalidates the identity's grants
// failed), the change is reported again at the next run. An unreachable list changes nothing (the
// error is reported): a credential is never taken for revoked, or for valid, on no evidence.
import { EventEmitter } from "node:events";
import { IdentityError } from "./errors";
import type { CredentialReference } from "./reference";
import { CredentialStatus, type StatusListResolver } from "./status-list";
import type { TrustList } from "./trust-list";

/** A credential behind an enrolled identity. */
export interface MonitoredCredential {
  credential: CredentialReference;
  enrollmentId: string;
  mspId: string;
}

/** "untrusted": the issuer has been removed from the trust list, so its credentials back nothing any more. */
export type StatusName = "valid" | "revoked" | "suspended" | "untrusted";

/** The value reported with "untrusted" (status lists use 0..255). */
export const UNTRUSTED_ISSUER = -1;

export interface StatusChange extends MonitoredCredential {
  previous: StatusName;
  status: StatusName;
  /** the raw status value of the list */
  value: number;
  /** ms */
  checkedAt: number;
}

export interface StatusCheckReport {
  lists: number;
  credentials: number;
  changes: StatusChange[];
  /** lists that could not be fetched or verified, and deliveries that failed */
  errors: Array<{ uri?: string; enrollmentId?: string; error: IdentityError | Error }>;
}

export interface CredentialStatusMonitorOptions {
  trustList: TrustList;
  statusLists: StatusListResolver;
  /** called for each change; may return a promise (a ledger transaction); throwing retries at the next run */
  onStatusChange?: (change: StatusChange) => void | Promise<void>;
  /** between the end of a run and the start of the next, ms (default 60,000) */
  intervalMs?: number;
  /** most credentials tracked (default 100,000) */
  maxCredentials?: number;
  /** ms clock (default Date.now) */
  clock?: () => number;
}

function statusName(value: number): StatusName {
  if (value === UNTRUSTED_ISSUER) return "untrusted";
  return value === CredentialStatus.Valid ? "valid" : value === CredentialStatus.Suspended ? "suspended" : "revoked";
}

interface Tracked extends MonitoredCredential {
  /** the status last delivered (enrolment verified the credential valid) */
  reported: StatusName;
}

export class CredentialStatusMonitor extends EventEmitter {
  private readonly tracked = new Map<string, Tracked>();
  private readonly intervalMs: number;
  private readonly maxCredentials: number;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<StatusCheckReport> | undefined;
  private stopped = true;

  constructor(private readonly options: CredentialStatusMonitorOptions) {
    super();
    this.intervalMs = options.intervalMs ?? 60_000;
    this.maxCredentials = options.maxCredentials ?? 100_000;
    this.clock = options.clock ?? Date.now;
  }

  /** Tracks a credential (keyed by its reference hash); a credential already tracked is replaced. */
  track(item: MonitoredCredential): void {
    if (!this.tracked.has(item.credential.hash) && this.tracked.size >= this.maxCredentials) {
      throw new IdentityError("TOO_MANY_PENDING", `the status monitor already tracks ${this.maxCredentials} credentials`);
    }
    this.tracked.set(item.credential.hash, { ...item, reported: "valid" });
  }

  untrack(referenceHash: string): boolean {
    return this.tracked.delete(referenceHash);
  }

  get size(): number {
    return this.tracked.size;
  }

  /** Starts the periodic checks (the first after one interval). */
  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Stops the checks; a run in progress finishes. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One check now (joins the run in progress, if any). */
  checkNow(): Promise<StatusCheckReport> {
    if (!this.running) this.running = this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.checkNow()
        .catch((error) => this.emit("error", error))
        .finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  private async run(): Promise<StatusCheckReport> {
    const byList = new Map<string, Tracked[]>();
    for (const item of this.tracked.values()) {
      const group = byList.get(item.credential.statusListUri) ?? [];
      group.push(item);
      byList.set(item.credential.statusListUri, group);
    }
    const report: StatusCheckReport = { lists: byList.size, credentials: this.tracked.size, changes: [], errors: [] };
    for (const [uri, items] of byList) {
      const issuer = this.options.trustList.issuer(items[0].credential.issuer);
      if (!issuer) {
        // the issuer was removed from the trust list: its credentials no longer back anything
        for (const item of items) await this.deliver(item, UNTRUSTED_ISSUER, report);
        continue;
      }
      let first = true;
      for (const item of items) {
        let value: number;
        try {
          value = await this.options.statusLists.status(uri, item.credential.statusListIndex, issuer, { refresh: first });
        } catch (error) {
          report.errors.push({ uri, error: error as Error });
          this.emit("checkFailed", { uri, error });
          break;
        }
        first = false;
        await this.deliver(item, value, report);
      }
    }
    return report;
  }

  private async deliver(item: Tracked, value: number, report: StatusCheckReport): Promise<void> {
    const status = statusName(value);
    if (status === item.reported) return;
    const change: StatusChange = {
      credential: item.credential,
      enrollmentId: item.enrollmentId,
      mspId: item.mspId,
      previous: item.reported,
      status,
      value,
      checkedAt: this.clock(),
    };
    try {
      await this.options.onStatusChange?.(change);
    } catch (error) {
      report.errors.push({ enrollmentId: item.enrollmentId, error: error as Error });
      return;
    }
    item.reported = status;
    report.changes.push(change);
    this.emit("statusChange", change);
  }
}
