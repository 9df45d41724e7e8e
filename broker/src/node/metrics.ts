// Prometheus metrics of a broker node (one registry per node, so several nodes can share a process).

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { GateFreshness } from "../access/AccessPolicy";

const seconds = (ms: number | null | undefined) => (ms === null || ms === undefined ? Infinity : ms / 1000);

export class BrokerMetrics {
  readonly registry = new Registry();
  readonly ingressEvents = new Counter({
    name: "broker_ingress_events_total",
    help: "Events stored (durable), per stream",
    labelNames: ["stream"],
    registers: [this.registry],
  });
  readonly ingressBytes = new Counter({
    name: "broker_ingress_bytes_total",
    help: "Frame bytes stored, per stream",
    labelNames: ["stream"],
    registers: [this.registry],
  });
  readonly egressEvents = new Counter({
    name: "broker_egress_events_total",
    help: "Events delivered to subscribers (live and resent), per stream",
    labelNames: ["stream"],
    registers: [this.registry],
  });
  readonly refused = new Counter({ name: "broker_refused_total", help: "Requests refused, by error code", labelNames: ["code"], registers: [this.registry] });
  readonly verificationFailures = new Counter({
    name: "broker_verification_failures_total",
    help: "Events whose signature did not verify",
    registers: [this.registry],
  });
  readonly publishLatency = new Histogram({
    name: "broker_publish_duration_seconds",
    help: "From frame received to durable acknowledgement",
    buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });
  readonly resendQueries = new Counter({
    name: "broker_resend_queries_total",
    help: "Resend queries, by kind",
    labelNames: ["type"],
    registers: [this.registry],
  });
  readonly resendLatency = new Histogram({
    name: "broker_resend_duration_seconds",
    help: "Time to read a resend from the log",
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });
  readonly subscriptions = new Gauge({ name: "broker_subscriptions", help: "Live subscriptions", registers: [this.registry] });
  readonly connections = new Gauge({ name: "broker_connections", help: "Open WebSocket connections", registers: [this.registry] });
  readonly disconnects = new Counter({
    name: "broker_forced_disconnects_total",
    help: "Connections closed by the broker, by reason",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  readonly groupCommits = new Counter({ name: "broker_group_commits_total", help: "Group commits (batches made durable)", registers: [this.registry] });

  constructor(defaultMetrics = false) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * The access gate's staleness, read at each scrape: whether it fails closed, and the seconds since
   * the chain's last head and the consent ledger's last answer (+Inf: never), for the sources the gate
   * follows. Alert on `broker_access_gate_stale == 1`, or on an age approaching access.maxStalenessMs.
   */
  observeGate(freshness: () => GateFreshness): void {
    const registers = [this.registry];
    const sources = freshness();
    new Gauge({
      name: "broker_access_gate_stale",
      help: "1 while the access gate is stale: publish, subscribe and resend are refused with ACCESS_GATE_UNAVAILABLE (docs/protocol.md §8)",
      registers,
      collect() {
        this.set(freshness().stale ? 1 : 0);
      },
    });
    new Gauge({
      name: "broker_access_gate_sync_age_seconds",
      help: "Seconds since the access gate last synced: the older of the chain's and the consent ledger's",
      registers,
      collect() {
        this.set(seconds(freshness().ageMs));
      },
    });
    new Gauge({
      name: "broker_access_gate_max_staleness_seconds",
      help: "access.maxStalenessMs: the gate fails closed beyond this age",
      registers,
      collect() {
        this.set(freshness().maxStalenessMs / 1000);
      },
    });
    if (sources.chain) {
      new Gauge({
        name: "broker_chain_head_age_seconds",
        help: "Seconds since the chain follower last read the chain's head (and every log up to it)",
        registers,
        collect() {
          this.set(seconds(freshness().chain?.ageMs));
        },
      });
      new Gauge({
        name: "broker_chain_head_block",
        help: "Number of the last chain head read",
        registers,
        collect() {
          this.set(freshness().chain?.block ?? 0);
        },
      });
    }
    if (sources.consentLedger) {
      new Gauge({
        name: "broker_consent_ledger_age_seconds",
        help: "Seconds since the consent ledger last answered (a block of events or a probe)",
        registers,
        collect() {
          this.set(seconds(freshness().consentLedger?.ageMs));
        },
      });
      new Gauge({
        name: "broker_consent_ledger_block",
        help: "Number of the last consent-ledger block whose events were applied",
        registers,
        collect() {
          this.set(freshness().consentLedger?.block ?? 0);
        },
      });
    }
  }
}
