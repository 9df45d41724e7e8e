// `npm run bench:vouchers -w broker`: how many payment vouchers (EIP-712 secp256k1 signatures,
// docs/network.md §14) one broker core checks per second, beside the same run's raw keccak-256 +
// secp256k1 recovery rate (the baseline every broker figure is quoted against). Bar (issue 17): >= 20,000
// vouchers/s on one core. Bounded: ~20,000 vouchers a figure, a few seconds in all; no network.
//
// Figures (this process, one thread):
//   - raw recovery: keccak-256 of a 32-byte hash's EIP-191 prefix + secp256k1 recover, as the broker's
//     event verification (its "raw recover rate");
//   - vouchers, steady state: the VoucherVerifier on vouchers of payers whose key it holds (every voucher
//     after a payer's first), in batches of 64 as they come in one event-loop turn;
//   - vouchers, first of each payer: the same with a recovery (a new payer);
//   - vouchers through verify() (the broker's path: a promise per voucher, batched per turn).
// Each as wall-clock rate and as CPU time per voucher (= rate per core-second), with `uptime`'s load.

import { loadavg, cpus } from "node:os";
import { cryptoBackend, ethSignedMessageHash, keccak256, recoverAddress, signDigest, addressOfPrivateKey } from "../src/wire";
import { VoucherVerifier } from "../src/payments/VoucherVerifier";
import { channelsDomainSeparator, voucherDigest, type Voucher } from "../src/payments/voucher";

const PAYERS = 2_000;
const PER_PAYER = 10;
const BATCH = 64;
const BAR = 20_000;
const BROKER = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const domain = channelsDomainSeparator(31337, "0x5fbdb2315678afecb367f032d93f642f64180aa3");

const results: string[] = [];
function record(line: string): void {
  results.push(line);
  console.log(`  ${line}`);
}

function measure<T>(count: number, work: () => T): { perSecond: number; cpuUs: number; result: T } {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const result = work();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  return { perSecond: count / wall, cpuUs: (cpu.user + cpu.system) / count, result };
}

function fmt(m: { perSecond: number; cpuUs: number }): string {
  return `${Math.round(m.perSecond)} /s wall-clock; ${m.cpuUs.toFixed(1)} µs CPU each = ${Math.round(1e6 / m.cpuUs)} /s per core-second`;
}

function vouchers(): Voucher[][] {
  const rounds: Voucher[][] = Array.from({ length: PER_PAYER }, () => []);
  for (let p = 0; p < PAYERS; p++) {
    const key = keccak256(Buffer.from(`bench-payer-${p}`));
    const payer = addressOfPrivateKey(key);
    for (let i = 0; i < PER_PAYER; i++) {
      const v = { payer, broker: BROKER, generation: 0, amount: BigInt(i + 1) * 10n ** 15n };
      rounds[i].push({ ...v, signature: Buffer.from(signDigest(voucherDigest(domain, v), key)) });
    }
  }
  return rounds;
}

async function main(): Promise<void> {
  console.log(
    `voucher verification (${cryptoBackend.backend}; ${cpus().length} cores, ${cpus()[0]?.model ?? "?"}; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")})`,
  );
  const rounds = vouchers();
  const all = rounds.flat();

  // Baseline: the raw recovery rate of the same run, on the same signatures.
  const digests = all.map((v) => keccak256(voucherDigest(domain, v)));
  const raw = measure(all.length, () => {
    let ok = 0;
    for (let i = 0; i < all.length; i++) if (recoverAddress(ethSignedMessageHash(digests[i]), all[i].signature)) ok++;
    return ok;
  });
  record(`raw keccak-256 + secp256k1 recover, ${cryptoBackend.backend} (baseline): ${fmt(raw)}`);

  const verifier = new VoucherVerifier(domain);
  const batched = (list: Voucher[]) => {
    let ok = 0;
    for (let i = 0; i < list.length; i += BATCH) for (const r of verifier.verifyBatch(list.slice(i, i + BATCH))) if (r) ok++;
    return ok;
  };
  const first = measure(rounds[0].length, () => batched(rounds[0]));
  if (first.result !== rounds[0].length) throw new Error(`first vouchers: ${first.result} of ${rounds[0].length} verified`);
  record(`vouchers, first of each payer (key recovered), batches of ${BATCH}: ${fmt(first)}`);
  const steady = rounds.slice(1).flat();
  const warm = measure(steady.length, () => batched(steady));
  if (warm.result !== steady.length) throw new Error(`steady vouchers: ${warm.result} of ${steady.length} verified`);
  const ok = 1e6 / warm.cpuUs >= BAR;
  record(
    `vouchers, steady state (payer's key known), batches of ${BATCH}: ${fmt(warm)}  (bar >= ${BAR} /s on one core: ${ok ? "reached" : "NOT reached"}; ${((100 * raw.cpuUs) / warm.cpuUs).toFixed(0)} % of the raw recovery rate)`,
  );

  // The broker's path: verify() per voucher, batched per event-loop turn.
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const answers = await Promise.all(steady.map((v) => verifier.verify(v)));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  if (answers.some((a) => !a)) throw new Error("a voucher did not verify");
  record(
    `vouchers through verify() (a promise each, batched per turn): ${fmt({ perSecond: steady.length / wall, cpuUs: (cpu.user + cpu.system) / steady.length })}`,
  );
  console.log("summary:");
  for (const r of results) console.log(`  ${r}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
