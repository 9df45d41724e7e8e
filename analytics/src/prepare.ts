// The CPU-bound work of clients and aggregators, written as messages so that it runs the same in a
// worker thread (PreparePool) or inline: sharding and sealing reports; opening input shares and Prio3
// preparation (leader: init then finish; helper: init, combine and finish in one step), each job
// returning its reports' results and the sum of its output shares, so only one aggregate per job
// crosses back to the aggregator.
import { AnalyticsError } from "./errors";
import { open, seal, type HpkeCiphertext, type HpkeConfig, type HpkeKeyPair } from "./hpke";
import { fromBase64Url, toBase64Url } from "./encoding";
import { vdafFor, HELPER, LEADER, type VdafParameters } from "./vdaf";
import { inputShareAad, inputShareInfo, ROLE_HELPER, ROLE_LEADER, type Report } from "./wire";
import type { Prio3Measurement } from "./study";

export interface ShardRequest {
  op: "shard";
  studyId: string;
  vdaf: VdafParameters;
  leader: HpkeConfig;
  helper: HpkeConfig;
  items: Array<{ reportId: string; measurement: string; subject: string; time: number; value: Prio3Measurement; rand: Uint8Array }>;
}

export interface PrepareItem {
  reportId: string;
  publicShare: string;
  ciphertext: HpkeCiphertext;
  aad: Uint8Array;
  /** Helper only: the leader's prep share (base64url). */
  peerPrepShare?: string;
}

/** Leader step 1: open and prepare; the states stay with the executor under `job` until `finish`. */
export interface LeaderInitRequest {
  op: "leader-init";
  job: number;
  vdaf: VdafParameters;
  verifyKey: Uint8Array;
  key: HpkeKeyPair;
  items: PrepareItem[];
}

/** Helper: open, prepare, combine with the leader's prep share, finish; sums the output shares. */
export interface HelperPrepareRequest {
  op: "helper-prepare";
  vdaf: VdafParameters;
  verifyKey: Uint8Array;
  key: HpkeKeyPair;
  items: PrepareItem[];
}

/** Leader step 2: finish with the helper's prep messages (null: the helper rejected it). */
export interface LeaderFinishRequest {
  op: "leader-finish";
  job: number;
  vdaf: VdafParameters;
  messages: Array<string | null>;
}

export type PrepareRequest = ShardRequest | LeaderInitRequest | HelperPrepareRequest | LeaderFinishRequest;

export type ItemOutcome = { ok: true; value: string } | { ok: false; code: "HPKE_DECRYPT_ERROR" | "VDAF_PREP_ERROR" | "BAD_REQUEST"; message: string };

export interface ShardResponse {
  reports: Report[];
}
export interface InitResponse {
  outcomes: ItemOutcome[];
}
export interface FinishResponse {
  /** Per item: accepted into the aggregate. */
  accepted: boolean[];
  /** The sum of the accepted output shares, encoded (base64url). */
  aggregate: string;
  count: number;
}
export type PrepareResponse = ShardResponse | InitResponse | FinishResponse;

/** The HPKE info strings of the two input shares (constant). */
const LEADER_INFO = inputShareInfo(ROLE_LEADER);
const HELPER_INFO = inputShareInfo(ROLE_HELPER);

type PrepState = Awaited<ReturnType<ReturnType<typeof vdafFor>["prepareInit"]>>["state"];

/** Runs the requests; holds the leader's preparation states between init and finish. */
export class PrepareExecutor {
  private readonly states = new Map<number, Array<PrepState | null>>();

  async run(request: PrepareRequest): Promise<PrepareResponse> {
    switch (request.op) {
      case "shard":
        return this.shard(request);
      case "leader-init":
        return this.leaderInit(request);
      case "helper-prepare":
        return this.helperPrepare(request);
      case "leader-finish":
        return this.leaderFinish(request);
    }
  }

  private async shard(request: ShardRequest): Promise<ShardResponse> {
    const vdaf = vdafFor(request.vdaf);
    const reports = await Promise.all(
      request.items.map(async (item) => {
        const { publicShare, leaderShare, helperShare } = await vdaf.shard(item.value, fromBase64Url(item.reportId), item.rand);
        const meta = { reportId: item.reportId, measurement: item.measurement, subject: item.subject, time: item.time, publicShare: toBase64Url(publicShare) };
        const aad = inputShareAad(request.studyId, meta);
        const [leader, helper] = await Promise.all([seal(request.leader, LEADER_INFO, aad, leaderShare), seal(request.helper, HELPER_INFO, aad, helperShare)]);
        return { ...meta, leaderShare: leader, helperShare: helper };
      }),
    );
    return { reports };
  }

  /** Opens and decodes one input share and runs prep_init; a failure is the item's outcome. */
  private async init(request: LeaderInitRequest | HelperPrepareRequest, aggregatorId: number, item: PrepareItem) {
    const vdaf = vdafFor(request.vdaf);
    let inputShare: Uint8Array;
    try {
      inputShare = await open(request.key, item.ciphertext, aggregatorId === LEADER ? LEADER_INFO : HELPER_INFO, item.aad);
    } catch (error) {
      return { error: { ok: false as const, code: "HPKE_DECRYPT_ERROR" as const, message: (error as Error).message } };
    }
    try {
      return { prepared: await vdaf.prepareInit(request.verifyKey, aggregatorId, fromBase64Url(item.reportId), fromBase64Url(item.publicShare), inputShare) };
    } catch (error) {
      return { error: { ok: false as const, code: "VDAF_PREP_ERROR" as const, message: (error as Error).message } };
    }
  }

  private async leaderInit(request: LeaderInitRequest): Promise<InitResponse> {
    const vdaf = vdafFor(request.vdaf);
    const states: Array<PrepState | null> = [];
    const outcomes = await Promise.all(
      request.items.map(async (item, index): Promise<ItemOutcome> => {
        const { prepared, error } = await this.init(request, LEADER, item);
        states[index] = prepared?.state ?? null;
        return prepared ? { ok: true, value: toBase64Url(vdaf.encodePrepShare(prepared.share)) } : error!;
      }),
    );
    this.states.set(request.job, states);
    return { outcomes };
  }

  private async helperPrepare(request: HelperPrepareRequest): Promise<InitResponse & FinishResponse> {
    const vdaf = vdafFor(request.vdaf);
    const outputs: bigint[][] = [];
    const accepted: boolean[] = [];
    const outcomes = await Promise.all(
      request.items.map(async (item, index): Promise<ItemOutcome> => {
        accepted[index] = false;
        const { prepared, error } = await this.init(request, HELPER, item);
        if (!prepared) return error!;
        try {
          const leaderShare = vdaf.decodePrepShare(fromBase64Url(item.peerPrepShare ?? ""));
          const message = await vdaf.prepMessage(leaderShare, prepared.share);
          outputs[index] = vdaf.prepareNext(prepared.state, message);
          accepted[index] = true;
          return { ok: true, value: toBase64Url(message.jointRand) };
        } catch (error) {
          return { ok: false, code: "VDAF_PREP_ERROR", message: (error as Error).message };
        }
      }),
    );
    const kept = outputs.filter((o) => o !== undefined);
    return { outcomes, accepted, count: kept.length, aggregate: toBase64Url(vdaf.encodeAggregateShare(vdaf.aggregate(kept))) };
  }

  private async leaderFinish(request: LeaderFinishRequest): Promise<FinishResponse> {
    const vdaf = vdafFor(request.vdaf);
    const states = this.states.get(request.job);
    this.states.delete(request.job);
    if (!states) throw new AnalyticsError("BAD_REQUEST", `no prepared job ${request.job}`);
    const outputs: bigint[][] = [];
    const accepted = request.messages.map((message, index) => {
      const state = states[index];
      if (message === null || !state) return false;
      try {
        outputs.push(vdaf.prepareNext(state, vdaf.decodePrepMessage(fromBase64Url(message))));
        return true;
      } catch {
        return false;
      }
    });
    return { accepted, count: outputs.length, aggregate: toBase64Url(vdaf.encodeAggregateShare(vdaf.aggregate(outputs))) };
  }

  /** Drops a leader job's states (the job was abandoned). */
  discard(job: number): void {
    this.states.delete(job);
  }
}
