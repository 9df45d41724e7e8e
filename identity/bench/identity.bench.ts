// `npm run bench -w identity` (BENCH_QUICK=1: shorter): the identity costs on this machine, each
// beside its same-run baseline and the load average.
//  - presentations verified per second, one at a time (issuer signature, key binding, disclosures,
//    status list from cache, holder DID, claims), for did:pkh (ES256K key binding) and did:key (ES256)
//    holders; baseline: raw ES256 / ES256K signature verifications per second with node:crypto, the
//    two signatures every presentation carries;
//  - onboarding time over HTTP on 127.0.0.1: request -> present -> response (verify + enrol on the
//    in-process ledger, a P-256 key and certificate from the organisation's CA), median and p95.
import os from "node:os";
import { Wallet } from "ethers";
import { InProcessConsentLedger } from "@datamarket/consent-ledger";
import {
  CREDENTIAL_QUERY_ID,
  CredentialIssuer,
  CredentialType,
  Holder,
  InProcessLedgerEnroller,
  IssuerStatusList,
  MemoryNonceStore,
  PresentationVerifier,
  StatusListResolver,
  TrustList,
  buyerProfile,
  createVerifierService,
  ethereumKeyJwk,
  generateP256Key,
  jwsSigner,
  jwsVerifier,
  publicJwk,
} from "../src";

const quick = process.env.BENCH_QUICK === "1";
const SECONDS = quick ? 2 : 5;
const ONBOARDINGS = quick ? 30 : 100;
const AUDIENCE = "https://onboarding.bench.example";

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" / ");
const fmt = (x: number, d = 0) => x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))];

/** Operations per second of `op` over `seconds` (synchronous baseline). */
function rate(op: () => void, seconds: number): number {
  let n = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    for (let i = 0; i < 100; i++) op();
    n += 100;
  }
  return n / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  console.log(`identity bench${quick ? " (quick)" : ""}: ${os.cpus().length} cpus, node ${process.version}, load ${load()}`);
  const summary: string[] = [];

  // a trusted accreditation body whose status list is served from memory (the verifier caches it anyway)
  const accreditation = new CredentialIssuer({
    id: "https://accreditation.bench.example",
    name: "bench",
    credentialTypes: [CredentialType.BuyerAccreditation],
    signingKey: { ...generateP256Key(), kid: "k1" },
    statusList: new IssuerStatusList({ uri: "https://accreditation.bench.example/status/1", capacity: 1 << 16 }),
  });
  const trustList = new TrustList({ issuers: [accreditation.trustListEntry()] });
  const statusLists = new StatusListResolver({ fetcher: () => accreditation.statusListToken(), maxAgeSeconds: 300 });
  const nonces = new MemoryNonceStore({ maxEntries: 1_000_000 });
  const verifier = new PresentationVerifier({ trustList, audience: AUDIENCE, statusLists, nonces });
  const requirements = { credentialTypes: [CredentialType.BuyerAccreditation], requiredClaims: ["buyer_type", "jurisdiction"] };

  // baseline: the two raw signature checks of a presentation
  const data = "eyJhbGciOiJFUzI1NiJ9." + "x".repeat(600);
  const p256 = generateP256Key();
  const p256Signature = jwsSigner(p256)(data);
  const p256Verify = jwsVerifier(publicJwk(p256));
  const k1 = ethereumKeyJwk(Wallet.createRandom().privateKey);
  const k1Signature = jwsSigner(k1)(data);
  const k1Verify = jwsVerifier(publicJwk(k1));
  const es256PerSecond = rate(() => p256Verify(data, p256Signature), SECONDS);
  const es256kPerSecond = rate(() => k1Verify(data, k1Signature), SECONDS);
  console.log(`baseline: raw ES256 verifications ${fmt(es256PerSecond)}/s, raw ES256K ${fmt(es256kPerSecond)}/s (node:crypto, one thread; load ${load()})`);
  summary.push(`baseline: raw ES256 verify ${fmt(es256PerSecond)}/s, raw ES256K verify ${fmt(es256kPerSecond)}/s`);

  for (const kind of ["did:pkh (ES256K key binding)", "did:key (ES256 key binding)"] as const) {
    const holder = kind.startsWith("did:pkh") ? Holder.fromEthereumKey(Wallet.createRandom().privateKey) : Holder.withNewDidKey();
    const claims = { buyer_type: "PublicResearch", jurisdiction: "DE", organisation_name: "Bench Institute" };
    const { credential } = await accreditation.issue({ vct: CredentialType.BuyerAccreditation, holder: holder.did, holderKey: holder.publicKey, claims });
    // presentations made beforehand: the figure is the verifier's alone
    const count = Math.max(200, Math.round(SECONDS * 1_500));
    const presentations: Array<{ presentation: string; nonce: string }> = [];
    for (let i = 0; i < count; i++) {
      const nonce = nonces.issue(3600);
      presentations.push({ nonce, presentation: await holder.present(credential, { disclose: ["buyer_type", "jurisdiction"], nonce, audience: AUDIENCE }) });
    }
    await verifier.verify(presentations[0].presentation, { ...requirements, nonce: presentations[0].nonce }); // warm the status list cache
    let verified = 0;
    const started = performance.now();
    for (const { presentation, nonce } of presentations.slice(1)) {
      await verifier.verify(presentation, { ...requirements, nonce });
      verified++;
      if (performance.now() - started > SECONDS * 1000) break;
    }
    const perSecond = verified / ((performance.now() - started) / 1000);
    const baseline = 1 / (1 / es256PerSecond + 1 / (kind.startsWith("did:pkh") ? es256kPerSecond : es256PerSecond));
    console.log(
      `${kind}: ${fmt(perSecond)} presentations verified/s over ${verified} (the two raw signature checks alone: ${fmt(baseline)}/s; load ${load()})`,
    );
    summary.push(`${kind}: ${fmt(perSecond)} presentations verified/s (raw signature pair ${fmt(baseline)}/s)`);
  }

  // onboarding over HTTP, enrolment on the in-process ledger
  const ledger = await InProcessConsentLedger.create({ custodianMspIds: ["HospitalMSP"], otherMspIds: ["ResearchMSP"] });
  const service = createVerifierService({
    verifier,
    enroller: new InProcessLedgerEnroller(ledger),
    responseUri: `${AUDIENCE}/onboarding/responses`,
    profiles: { buyer: buyerProfile({ mspId: "ResearchMSP" }) },
  });
  await service.listen({ host: "127.0.0.1", port: 0 });
  const base = `http://127.0.0.1:${(service.server.address() as { port: number }).port}`;
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const json = await response.json();
    if (!response.ok) throw new Error(`${path}: ${JSON.stringify(json)}`);
    return json;
  };
  try {
    const total: number[] = [];
    const response: number[] = [];
    const enrolOnly: number[] = [];
    for (let i = 0; i < ONBOARDINGS; i++) {
      const wallet = Wallet.createRandom();
      const holder = Holder.fromEthereumKey(wallet.privateKey);
      const { credential } = await accreditation.issue({
        vct: CredentialType.BuyerAccreditation,
        holder: holder.did,
        holderKey: holder.publicKey,
        claims: { buyer_type: "PublicResearch", jurisdiction: "DE", organisation_name: "Bench", ethereum_address: wallet.address.toLowerCase() },
      });
      const t0 = performance.now();
      const request = await post("/onboarding/requests", { profile: "buyer" });
      const presentation = await holder.present(credential, {
        disclose: request.dcql_query.credentials[0].claim_sets[0],
        nonce: request.nonce,
        audience: request.client_id,
      });
      const t1 = performance.now();
      await post("/onboarding/responses", { state: request.state, vp_token: { [CREDENTIAL_QUERY_ID]: [presentation] } });
      const t2 = performance.now();
      total.push(t2 - t0);
      response.push(t2 - t1);
      const t3 = performance.now();
      await ledger.enroll("ResearchMSP", `baseline-${i}`, { "consent.role": "buyer" });
      enrolOnly.push(performance.now() - t3);
    }
    const line = (label: string, values: number[]) => `${label} median ${fmt(percentile(values, 0.5), 1)} ms, p95 ${fmt(percentile(values, 0.95), 1)} ms`;
    console.log(`onboarding over ${ONBOARDINGS} buyers (load ${load()}):`);
    for (const [label, values] of [
      ["  whole (request, present, verify, enrol):", total],
      ["  response (verify + enrol):", response],
      ["  baseline, enrol alone (key + certificate):", enrolOnly],
    ] as const) {
      console.log(line(label, values));
    }
    summary.push(line(`onboarding (request, present, verify, enrol; ${ONBOARDINGS} buyers):`, total));
    summary.push(line("onboarding response (verify + enrol):", response));
    summary.push(line("baseline, in-process enrol alone:", enrolOnly));
  } finally {
    await service.close();
  }
  summary.push(`load average at the end: ${load()}`);
  console.log(`\nsummary:\n${summary.join("\n")}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
