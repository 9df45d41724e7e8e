// The parts one by one: trust-list configuration, holder DIDs, issuance checks, the nonce store, the
// status list resolver, the status monitor's at-least-once delivery, and the fabric-ca commands.
import { expect } from "chai";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import {
  CredentialStatusMonitor,
  CredentialType,
  FabricCaEnroller,
  Holder,
  IdentityError,
  IssuerStatusList,
  MemoryNonceStore,
  StatusListResolver,
  TrustList,
  didKey,
  didPkh,
  ethereumKeyJwk,
  fabricCaEnrollArgs,
  fabricCaRegisterArgs,
  generateP256Key,
  planEnrolment,
  publicJwk,
  shellLine,
  verifyHolderBinding,
  buyerProfile,
  type EnrolmentPlan,
  type StatusChange,
  type TrustedIssuerConfig,
  type VerifiedPresentation,
} from "../src";
import { accreditationClaims, buyerHolder, useDeployment, type Deployment } from "./fixture";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(IdentityError);
    return (error as IdentityError).code;
  }
  return undefined;
}

describe("trust list configuration", () => {
  const key = { ...publicJwk(generateP256Key()), kid: "k1" };
  const entry: TrustedIssuerConfig = { id: "https://issuer.example", name: "Issuer", credentialTypes: [CredentialType.BuyerAccreditation], keys: [key] };

  it("accepts a valid list and names the wrong field of an invalid one", () => {
    expect(new TrustList({ issuers: [entry] }).issuerFor(entry.id, CredentialType.BuyerAccreditation).name).to.equal("Issuer");
    const field = (config: unknown) => {
      try {
        new TrustList(config as never);
      } catch (error) {
        expect((error as IdentityError).code).to.equal("INVALID_CONFIG");
        return (error as IdentityError).details.field;
      }
      return undefined;
    };
    expect(field({ issuers: [{ ...entry, id: "http://issuer.example" }] })).to.equal("issuers[0].id");
    expect(field({ issuers: [entry, entry] })).to.equal("issuers[1].id");
    expect(field({ issuers: [{ ...entry, credentialTypes: ["urn:other"] }] })).to.equal("issuers[0].credentialTypes");
    expect(field({ issuers: [{ ...entry, keys: [{ ...key, ...{ d: "secret" } }] }] })).to.equal("issuers[0].keys[0]");
    expect(field({ issuers: [{ ...entry, keys: [{ ...key, crv: "secp256k1" }] }] })).to.equal("issuers[0].keys[0]");
    expect(field({ issuers: [{ ...entry, keys: [{ ...key, x: key.y, y: key.x }] }] })).to.equal("issuers[0].keys[0]");
    expect(field({ issuers: [{ ...entry, keys: [key, key] }] })).to.equal("issuers[0].keys[1].kid");
    expect(field({ issuers: [{ ...entry, statusListPrefixes: ["https://x.example/status"] }] })).to.equal("issuers[0].statusListPrefixes");
    expect(field({ issuers: [{ ...entry, custodianMspId: "Hospital:MSP" }] })).to.equal("issuers[0].custodianMspId");
    expect(field({ issuers: [{ ...entry, credentialTypes: [CredentialType.PatientCustodianLink] }] })).to.equal("issuers[0].custodianMspId");
  });
});

describe("holder DIDs", () => {
  it("binds a did:pkh to its account's secp256k1 key and nothing else", async () => {
    const wallet = Wallet.createRandom();
    const did = didPkh(wallet.address, 10);
    expect(did).to.equal(`did:pkh:eip155:10:${wallet.address.toLowerCase()}`);
    const key = publicJwk(ethereumKeyJwk(wallet.privateKey));
    expect(await verifyHolderBinding(did, key)).to.deep.equal({ did, method: "pkh", ethAddress: wallet.address.toLowerCase() });
    const other = publicJwk(ethereumKeyJwk(Wallet.createRandom().privateKey));
    expect(await verifyHolderBinding(did, other).catch((e) => e.code)).to.equal("HOLDER_BINDING_MISMATCH");
    expect(await verifyHolderBinding(did, publicJwk(generateP256Key())).catch((e) => e.code)).to.equal("HOLDER_BINDING_MISMATCH");
  });

  it("builds a did:key that the did:key resolver resolves back to the same P-256 key", async () => {
    const key = publicJwk(generateP256Key());
    const did = didKey(key);
    expect(did).to.match(/^did:key:zDn[1-9A-HJ-NP-Za-km-z]+$/);
    expect(await verifyHolderBinding(did, key)).to.deep.equal({ did, method: "key" });
    expect(await verifyHolderBinding(did, publicJwk(generateP256Key())).catch((e) => e.code)).to.equal("HOLDER_BINDING_MISMATCH");
  });

  it("refuses other DID methods and malformed DIDs", async () => {
    const key = publicJwk(generateP256Key());
    expect(await verifyHolderBinding("did:web:example.com", key).catch((e) => e.code)).to.equal("UNSUPPORTED_DID");
    expect(await verifyHolderBinding("did:pkh:eip155:1:0xnothex", key).catch((e) => e.code)).to.equal("UNSUPPORTED_DID");
    expect(await verifyHolderBinding("did:key:zNotAKey", key).catch((e) => e.code)).to.equal("UNSUPPORTED_DID");
    expect(codeOf(() => didPkh("0x1234"))).to.equal("UNSUPPORTED_DID");
  });
});

describe("issuance", () => {
  let d: Deployment;
  useDeployment((deployed) => (d = deployed));

  it("refuses claims outside the schema, an address that is not the holder's, a custodian not its own, a type it does not issue", async () => {
    const { holder, address } = buyerHolder();
    const issue = (claims: Record<string, unknown>, vct: string = CredentialType.BuyerAccreditation) =>
      d.accreditation.issue({ vct, holder: holder.did, holderKey: holder.publicKey, claims }).catch((e) => e.code);
    expect(await issue({ ...accreditationClaims(address), buyer_type: "Broker" })).to.equal("INVALID_CLAIMS");
    expect(await issue({ ...accreditationClaims(address), jurisdiction: "Germany" })).to.equal("INVALID_CLAIMS");
    expect(await issue({ ...accreditationClaims(address), favourite_colour: "blue" })).to.equal("INVALID_CLAIMS");
    expect(await issue(accreditationClaims(Wallet.createRandom().address.toLowerCase()))).to.equal("INVALID_CLAIMS");
    expect(await issue({}, CredentialType.Degree)).to.equal("WRONG_CREDENTIAL_TYPE");
    const patient = Holder.withNewDidKey();
    expect(
      await d.hospital
        .issue({
          vct: CredentialType.PatientCustodianLink,
          holder: patient.did,
          holderKey: patient.publicKey,
          claims: { subject_id: "p-1", custodian: "OtherMSP", custodian_name: "x" },
        })
        .catch((e) => e.code),
    ).to.equal("INVALID_CLAIMS");
    expect(
      await d.hospital
        .issue({
          vct: CredentialType.PatientCustodianLink,
          holder: patient.did,
          holderKey: patient.publicKey,
          claims: { subject_id: "has:colon", custodian: "HospitalMSP", custodian_name: "x" },
        })
        .catch((e) => e.code),
    ).to.equal("INVALID_CLAIMS");
    // a holder key that is not the DID's
    expect(
      await d.accreditation
        .issue({
          vct: CredentialType.BuyerAccreditation,
          holder: holder.did,
          holderKey: Holder.withNewDidKey().publicKey,
          claims: accreditationClaims(undefined),
        })
        .catch((e) => e.code),
    ).to.equal("HOLDER_BINDING_MISMATCH");
  });

  it("issues degree and enrolment credentials for the education pilot", async () => {
    const student = Holder.withNewDidKey();
    const degree = await d.university.issue({
      vct: CredentialType.Degree,
      holder: student.did,
      holderKey: student.publicKey,
      claims: {
        given_name: "Ada",
        family_name: "Lovelace",
        degree: "MSc Computer Science",
        eqf_level: 7,
        field_of_study: "Computer Science",
        awarding_institution: "University",
        awarded_on: "2026-07-15",
      },
    });
    expect(degree.reference.vct).to.equal(CredentialType.Degree);
    const enrolment = await d.university.issue({
      vct: CredentialType.Enrolment,
      holder: student.did,
      holderKey: student.publicKey,
      claims: {
        subject_id: "student-0001",
        custodian: "UniversityMSP",
        student_number: "S-1",
        programme: "MSc",
        institution: "University",
        enrolled_from: "2025-10-01",
      },
    });
    expect(enrolment.reference.statusListUri).to.equal(d.university.statusList.uri);
    expect(
      await d.university
        .issue({
          vct: CredentialType.Degree,
          holder: student.did,
          holderKey: student.publicKey,
          claims: {
            ...{ given_name: "A", family_name: "L", degree: "x", eqf_level: 7, field_of_study: "x", awarding_institution: "x" },
            awarded_on: "2026-02-30",
          },
        })
        .catch((e) => e.code),
    ).to.equal("INVALID_CLAIMS");
  });

  it("draws status-list indices at random and refuses when the list is full", () => {
    const list = new IssuerStatusList({ uri: "https://issuer.example/status/1", capacity: 8 });
    const drawn = Array.from({ length: 8 }, () => list.allocate());
    expect(new Set(drawn).size).to.equal(8);
    expect(codeOf(() => list.allocate())).to.equal("STATUS_LIST_FULL");
    expect(codeOf(() => d.accreditation.revoke("urn:uuid:unknown"))).to.equal("UNKNOWN_CREDENTIAL");
  });
});

describe("nonce store", () => {
  it("tells unknown, expired and used nonces apart, and is bounded", () => {
    let now = 1_000_000;
    const store = new MemoryNonceStore({ clock: () => now, ttlSeconds: 10, maxEntries: 2 });
    const nonce = store.issue();
    expect(codeOf(() => store.check("never-issued-nonce"))).to.equal("NONCE_UNKNOWN");
    store.consume(nonce);
    expect(codeOf(() => store.consume(nonce))).to.equal("PRESENTATION_REPLAYED");
    const late = store.issue();
    expect(codeOf(() => store.issue())).to.equal("TOO_MANY_PENDING");
    now += 11_000;
    expect(codeOf(() => store.check(late))).to.equal("NONCE_UNKNOWN");
    expect(store.issue()).to.match(/^[0-9a-f]{32}$/);
  });
});

describe("status list resolver", () => {
  let d: Deployment;
  useDeployment((deployed) => (d = deployed));

  it("verifies the token against the issuer's trusted keys and its uri, and caches it for its max age", async () => {
    let fetches = 0;
    let now = Date.now();
    const accreditation = d.trustList.issuer(d.accreditation.id)!;
    const token = await d.accreditation.statusListToken();
    const resolver = new StatusListResolver({ fetcher: async () => (fetches++, token), maxAgeSeconds: 60, clock: () => now });
    expect(await resolver.status(d.accreditation.statusList.uri, 0, accreditation)).to.equal(0);
    expect(await resolver.status(d.accreditation.statusList.uri, 1, accreditation)).to.equal(0);
    expect(fetches).to.equal(1);
    now += 61_000;
    await resolver.status(d.accreditation.statusList.uri, 0, accreditation);
    expect(fetches).to.equal(2);

    // another issuer's list, a list served under another uri, a list signed by an untrusted key
    const hospital = d.trustList.issuer(d.hospital.id)!;
    const wrongSigner = new StatusListResolver({ fetcher: async () => token });
    expect(await wrongSigner.status(d.accreditation.statusList.uri, 0, hospital).catch((e) => e.code)).to.equal("STATUS_UNAVAILABLE");
    const moved = new StatusListResolver({ fetcher: async () => token });
    expect(await moved.status(d.accreditation.statusList.uri.replace(/1$/, "2"), 0, accreditation).catch((e) => e.message)).to.match(/sub/);
    const forged = new StatusListResolver({ fetcher: async () => d.impostor.statusListToken() });
    expect(await forged.status(d.impostor.statusList.uri, 0, accreditation).catch((e) => e.code)).to.equal("STATUS_UNAVAILABLE");
    expect(await resolver.status(d.accreditation.statusList.uri, 1 << 20, accreditation).catch((e) => e.code)).to.equal("STATUS_UNAVAILABLE");
  });

  it("takes a list issued by a clock somewhat ahead of its own (the tolerated skew, 60 s by default), not one further ahead", async () => {
    const accreditation = d.trustList.issuer(d.accreditation.id)!;
    const token = await d.accreditation.statusListToken();
    const issuedAt = (JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()) as { iat: number }).iat;
    // The issuer's and the relying party's clocks are two machines' (or, in one process, read a moment
    // apart across a second boundary): a list stamped a second, or 60 s, after this clock's now is valid.
    for (const behind of [1, 60]) {
      const resolver = new StatusListResolver({ fetcher: async () => token, maxAgeSeconds: 0, clock: () => (issuedAt - behind) * 1000 });
      expect(await resolver.status(d.accreditation.statusList.uri, 0, accreditation), `${behind} s behind`).to.equal(0);
    }
    const far = new StatusListResolver({ fetcher: async () => token, maxAgeSeconds: 0, clock: () => (issuedAt - 61) * 1000 });
    const refused = await far.status(d.accreditation.statusList.uri, 0, accreditation).catch((e: IdentityError) => e);
    expect([(refused as IdentityError).code, (refused as IdentityError).message]).to.deep.equal([
      "STATUS_UNAVAILABLE",
      `STATUS_UNAVAILABLE: status list ${d.accreditation.statusList.uri} does not verify: Verify Error: JWT is not yet valid`,
    ]);
    const strict = new StatusListResolver({ fetcher: async () => token, maxAgeSeconds: 0, clockSkewSeconds: 0, clock: () => (issuedAt - 1) * 1000 });
    expect(await strict.status(d.accreditation.statusList.uri, 0, accreditation).catch((e: IdentityError) => e.code)).to.equal("STATUS_UNAVAILABLE");
  });
});

describe("status monitor", () => {
  let d: Deployment;
  useDeployment((deployed) => (d = deployed));

  it("delivers a revocation at least once: a failed delivery is retried at the next run", async () => {
    const { holder, address } = buyerHolder();
    const { reference } = await d.accreditation.issue({
      vct: CredentialType.BuyerAccreditation,
      holder: holder.did,
      holderKey: holder.publicKey,
      claims: accreditationClaims(address),
    });
    let failNext = true;
    const delivered: StatusChange[] = [];
    const monitor = new CredentialStatusMonitor({
      trustList: d.trustList,
      statusLists: d.statusLists,
      onStatusChange: async (change) => {
        if (failNext) {
          failNext = false;
          throw new Error("the ledger is unreachable");
        }
        delivered.push(change);
      },
    });
    monitor.track({ credential: reference, enrollmentId: "vc-1", mspId: "ResearchMSP" });
    expect((await monitor.checkNow()).changes).to.deep.equal([]);
    d.accreditation.suspend(reference.credentialId);
    const failed = await monitor.checkNow();
    expect(failed.changes).to.deep.equal([]);
    expect(failed.errors.map((e) => e.enrollmentId)).to.deep.equal(["vc-1"]);
    const retried = await monitor.checkNow();
    expect(retried.changes.map((c) => c.status)).to.deep.equal(["suspended"]);
    d.accreditation.reinstate(reference.credentialId);
    expect((await monitor.checkNow()).changes.map((c) => [c.previous, c.status])).to.deep.equal([["suspended", "valid"]]);
    d.accreditation.revoke(reference.credentialId);
    expect((await monitor.checkNow()).changes.map((c) => c.status)).to.deep.equal(["revoked"]);
    expect(delivered.map((c) => c.status)).to.deep.equal(["suspended", "valid", "revoked"]);
  });

  it("reports an unreachable list without changing any status, and an issuer removed from the trust list as untrusted", async () => {
    const { holder, address } = buyerHolder();
    const { reference } = await d.accreditation.issue({
      vct: CredentialType.BuyerAccreditation,
      holder: holder.did,
      holderKey: holder.publicKey,
      claims: accreditationClaims(address),
    });
    const offline = new CredentialStatusMonitor({
      trustList: d.trustList,
      statusLists: new StatusListResolver({
        fetcher: async () => {
          throw new Error("down");
        },
      }),
    });
    offline.track({ credential: reference, enrollmentId: "vc-2", mspId: "ResearchMSP" });
    const report = await offline.checkNow();
    expect(report.changes).to.deep.equal([]);
    expect(report.errors.map((e) => (e.error as IdentityError).code)).to.deep.equal(["STATUS_UNAVAILABLE"]);

    const withoutAccreditation = new TrustList({ issuers: [d.hospital.trustListEntry()] });
    const monitor = new CredentialStatusMonitor({ trustList: withoutAccreditation, statusLists: d.statusLists });
    monitor.track({ credential: reference, enrollmentId: "vc-2", mspId: "ResearchMSP" });
    expect((await monitor.checkNow()).changes.map((c) => c.status)).to.deep.equal(["untrusted"]);
  });

  it("runs periodically once started, and stops", async () => {
    const monitor = new CredentialStatusMonitor({ trustList: d.trustList, statusLists: d.statusLists, intervalMs: 20 });
    let runs = 0;
    const original = monitor.checkNow.bind(monitor);
    monitor.checkNow = () => (runs++, original());
    monitor.start();
    // Two runs, however long each takes on a loaded machine (a fixed 200 ms saw one when the event loop
    // stalled); the bound is only there so that a monitor that never runs again fails the test.
    for (const deadline = Date.now() + 30_000; runs < 2 && Date.now() < deadline;) await new Promise((resolve) => setTimeout(resolve, 10));
    monitor.stop();
    const seen = runs;
    expect(seen).to.be.greaterThan(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(runs).to.equal(seen);
  });
});

describe("fabric-ca enrolment", () => {
  const plan: EnrolmentPlan = {
    enrollmentId: "vc-0123456789abcdef0123456789abcdef",
    mspId: "ResearchMSP",
    holder: "did:pkh:eip155:1:0x0000000000000000000000000000000000000001",
    attributes: { "consent.role": "buyer", "consent.buyerType": "PublicResearch", "consent.jurisdiction": "DE", "consent.credentialRef": "0xabc" },
    credential: {
      issuer: "https://a.example",
      credentialId: "urn:uuid:1",
      vct: CredentialType.BuyerAccreditation,
      statusListUri: "https://a.example/s/1",
      statusListIndex: 3,
      hash: "0xabc",
    },
  };
  const options = {
    mspId: "ResearchMSP",
    caUrl: "https://ca.research.example.com:7054",
    caName: "ca-research",
    tlsCertFile: "/etc/ca/tls.pem",
    registrarHome: "/var/onboarding/registrar",
  };

  it("registers with every attribute as :ecert and one enrollment; the holder enrolls requiring them", () => {
    const register = fabricCaRegisterArgs(plan, options, "s3cret");
    expect(shellLine("fabric-ca-client", register)).to.equal(
      "fabric-ca-client register --home /var/onboarding/registrar -u https://ca.research.example.com:7054 --caname ca-research --tls.certfiles /etc/ca/tls.pem" +
        " --id.name vc-0123456789abcdef0123456789abcdef --id.secret s3cret --id.type client --id.maxenrollments 1" +
        " --id.attrs consent.role=buyer:ecert,consent.buyerType=PublicResearch:ecert,consent.jurisdiction=DE:ecert,consent.credentialRef=0xabc:ecert",
    );
    expect(shellLine("fabric-ca-client", fabricCaEnrollArgs(plan, options, "s3cret", "/home/buyer/.fabric-ca-client"))).to.equal(
      "fabric-ca-client enroll --home /home/buyer/.fabric-ca-client -u https://vc-0123456789abcdef0123456789abcdef:s3cret@ca.research.example.com:7054 --caname ca-research" +
        " --tls.certfiles /etc/ca/tls.pem --enrollment.attrs consent.role,consent.buyerType,consent.jurisdiction,consent.credentialRef",
    );
  });

  it("refuses an attribute value fabric-ca's command line cannot carry", () => {
    const verified = {
      holder: { did: "did:key:z1", method: "key" },
      claims: { buyer_type: "PublicResearch", jurisdiction: "D:E" },
      reference: plan.credential,
    } as unknown as VerifiedPresentation;
    expect(codeOf(() => planEnrolment(buyerProfile({ mspId: "ResearchMSP" }), verified))).to.equal("INVALID_ATTRIBUTE");
  });

  it("runs the registrar's register without a shell and hands the holder its one-time secret", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "fabric-ca-"));
    try {
      const binary = path.join(dir, "fabric-ca-client");
      writeFileSync(binary, `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\necho "Password: from-ca"\n`);
      chmodSync(binary, 0o755);
      const enrolment = await new FabricCaEnroller({ ...options, binary }).enrol(plan);
      const args = readFileSync(path.join(dir, "args"), "utf8").trim().split("\n");
      expect(args).to.deep.equal(fabricCaRegisterArgs(plan, options, enrolment.fabricCa!.secret));
      expect(enrolment.fabricCa!.secret).to.match(/^[0-9a-f]{36}$/);
      expect(enrolment.fabricCa!.enroll.slice(0, 2)).to.deep.equal(["fabric-ca-client", "enroll"]);
      expect(await new FabricCaEnroller({ ...options, mspId: "HospitalMSP", binary }).enrol(plan).catch((e) => e.code)).to.equal("ENROLMENT_FAILED");
      writeFileSync(binary, "#!/bin/sh\necho 'Error: Identity already registered' >&2\nexit 1\n");
      expect(await new FabricCaEnroller({ ...options, binary }).enrol(plan).catch((e) => e.code)).to.equal("ENROLMENT_FAILED");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
