// The chaincode's clock. Every rule that depends on time (validity windows, expiry, grant lifetimes, the
// order of the access logs) reads the proposal timestamp, which the submitting client chooses; so before a
// transaction runs, the endorsing peer's own clock bounds it.
//
// Why honest peers' endorsements stay identical: the peer's clock decides one thing only, whether the
// proposal is refused before anything is read or written. Everything a transaction reads, writes, returns or
// emits depends on the proposal timestamp alone, which is the same bytes on every peer. An honest client's
// timestamp is its clock at signing, a few seconds at most from any honest peer's clock (NTP keeps servers
// within a second; the skew is minutes), so every honest peer accepts and computes the same read/write set.
// Only a timestamp near the bound can split peers (some accept, some refuse); then the gateway cannot gather
// matching endorsements and the transaction fails: it is never committed with a read/write set that a peer
// disagrees with.
import { ErrorCode, fail } from "./errors";

/** Default bound (seconds) on |proposal timestamp - endorsing peer's clock|. */
export const DEFAULT_MAX_CLOCK_SKEW_SECONDS = 300;
/** Environment variable of the chaincode process that sets the bound (seconds, 1..86400). */
export const CLOCK_SKEW_ENV = "CONSENT_MAX_CLOCK_SKEW_SECONDS";

/** What the chaincode reads from the machine it runs on: the peer host's clock and its environment. */
export interface ChaincodeHost {
  /** milliseconds since the epoch */
  clock: () => number;
  env: Record<string, string | undefined>;
}

export interface ClockPolicy {
  /** the endorsing peer's clock, milliseconds since the epoch */
  peerMillis: () => number;
  maxSkewSeconds: number;
}

/** The clock policy of a chaincode process on `host`; throws (so the chaincode does not start) on a bad setting. */
export function clockPolicy(host: ChaincodeHost): ClockPolicy {
  const setting = host.env[CLOCK_SKEW_ENV];
  let maxSkewSeconds = DEFAULT_MAX_CLOCK_SKEW_SECONDS;
  if (setting !== undefined && setting !== "") {
    maxSkewSeconds = Number(setting);
    if (!/^[0-9]+$/.test(setting) || maxSkewSeconds < 1 || maxSkewSeconds > 86_400) {
      throw new Error(`${CLOCK_SKEW_ENV} must be a whole number of seconds in 1..86400, got "${setting}"`);
    }
  }
  return { peerMillis: host.clock, maxSkewSeconds };
}

/** The process the chaincode runs in: the machine's clock and environment (what a peer or CCaaS host gives). */
export const PROCESS_HOST: ChaincodeHost = { clock: () => Date.now(), env: process.env };

/**
 * Refuses (TIMESTAMP_SKEW) a proposal whose timestamp is further than the bound from the peer's clock.
 * @param timestampMillis the proposal timestamp, milliseconds since the epoch
 */
export function requireTimestampWithinSkew(policy: ClockPolicy, timestampMillis: number): void {
  const peerMillis = policy.peerMillis();
  const skewMillis = timestampMillis - peerMillis;
  if (Math.abs(skewMillis) > policy.maxSkewSeconds * 1000) {
    fail(
      ErrorCode.TIMESTAMP_SKEW,
      `the proposal timestamp ${new Date(timestampMillis).toISOString()} is ${(Math.abs(skewMillis) / 1000).toFixed(0)} s ` +
        `${skewMillis > 0 ? "ahead of" : "behind"} the endorsing peer's clock (${new Date(peerMillis).toISOString()}); ` +
        `the limit is ${policy.maxSkewSeconds} s (${CLOCK_SKEW_ENV})`,
    );
  }
}
