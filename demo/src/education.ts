// The education pilot (`npm run demo -- --pilot education`, issue 15): a university issues degree and
// enrolment credentials (IETF SD-JWT VC); its students onboard onto the consent ledger with their enrolment
// (OpenID4VP over HTTP) and record, from their own ledger identities, consent for their records in the
// university's credentials dataset to be shared with employers for recruitment; an employer onboards with
// an accreditation, is approved on Fabric for the students who consented, buys on the market with 2 of 3
// bridge attestations, and verifies a student's degree presentation against both the credential and the
// consent grant. Then the accreditation body revokes the employer's accreditation: the status monitor
// reports it to the ledger, the grant dies, the bridges relay the revocation on chain (licence ended,
// refund), and the employer's new requests are refused.
import type { AddressInfo } from "node:net";
import { JsonRpcProvider, id, keccak256, toUtf8Bytes } from "ethers";
import { Attr, type ConsentLedgerClient } from "@datamarket/consent-ledger";
import {
  CREDENTIAL_QUERY_ID,
  CredentialIssuer,
  CredentialStatusMonitor,
  CredentialType,
  Holder,
  InProcessLedgerEnroller,
  IssuerStatusList,
  MemoryNonceStore,
  PresentationVerifier,
  StatusListResolver,
  TrustList,
  buyerProfile,
  createStatusListService,
  createVerifierService,
  dataSubjectProfile,
  generateP256Key,
  httpStatusListFetcher,
  ledgerStatusReporter,
  type Enrolment,
} from "@datamarket/identity";
import { MarketClient, StreamRegistryClient, createRelease, encryptDataset, generateKeyPair, openRelease } from "@datamarket/sdk";
import { Narrator } from "./narrator";
import { DAY, fmt, hardhatAccounts, startNetwork, waitFor } from "./network";
import type { Cleanup } from "./node";

const PRICE_PER_SECOND = 10n ** 13n; // 0.00001 DATA/s = 0.864 DATA a day
const LICENSE_SECONDS = 7 * DAY; // within the grant's 30 days: the market refuses a licence outliving its attestation
const PURPOSE = "PersonnelHiring"; // DPV: recruitment (HumanResourceManagement > PersonnelManagement > PersonnelHiring)
const LICENSE_ENDED = 3n;
const UNIVERSITY = "Example University";
const ONBOARDING_AUDIENCE = "https://onboarding.university.example";
const EMPLOYER_AUDIENCE = "https://careers.employer.example";

/** The students of the pilot: who consents to recruitment (the last one refuses). */
const STUDENTS = [
  { subjectId: "edu-s-001", given: "Ana", family: "Lopes", degree: "MSc Computer Science", eqf: 7, field: "Computer Science", consents: true },
  { subjectId: "edu-s-002", given: "Bram", family: "de Vries", degree: "BSc Mechanical Engineering", eqf: 6, field: "Mechanical Engineering", consents: true },
  { subjectId: "edu-s-003", given: "Chiara", family: "Rossi", degree: "MSc Data Science", eqf: 7, field: "Data Science", consents: true },
  { subjectId: "edu-s-004", given: "Dawid", family: "Nowak", degree: "BA Economics", eqf: 6, field: "Economics", consents: false },
];

async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

export async function runEducation(rpcUrl: string, cleanup: Cleanup): Promise<Narrator> {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { pollingInterval: 50, cacheTimeout: -1 });
  cleanup.push(() => provider.destroy());
  const say = new Narrator(provider, 6);

  const { party } = hardhatAccounts(provider);
  const deployer = party("deployer (governance)", 0);
  const university = party(`${UNIVERSITY} (custodian, issuer)`, 1);
  const employer = party("employer (recruiting company)", 2);
  const relayer = party("bridge relayer", 13);
  // the students' wallets: their keys bind their credentials (did:pkh) and never touch the chain here
  const students = STUDENTS.map((s, i) => ({ ...s, holder: Holder.fromEthereumKey(party(s.subjectId, 5 + i).wallet.privateKey) }));

  // ------------------------------------------------------------------------------------------------
  const setup = await say.step("setup", "deploy with Ignition, start ledger, 3 bridges, issuers, onboarding service, status monitor", async () => {
    const network = await startNetwork({
      say,
      provider,
      rpcUrl,
      cleanup,
      deployer,
      relayer,
      name: "education",
      brokerOperators: [],
      custodianMspIds: ["UniversityMSP"],
      otherMspIds: ["EmployerMSP"],
      mint: [{ party: employer, tokens: 1_000n }],
    });
    const { ledger } = network;
    // Issuers publish their status lists over HTTP (the Token Status List); the list URIs need the port.
    const issuers: CredentialIssuer[] = [];
    const statusServer = createStatusListService(issuers);
    await statusServer.listen({ host: "127.0.0.1", port: 0 });
    cleanup.push(() => statusServer.close());
    const statusBase = `http://127.0.0.1:${(statusServer.server.address() as AddressInfo).port}/status`;
    const issuer = (slug: string, name: string, id: string, credentialTypes: string[], custodianMspId?: string) =>
      new CredentialIssuer({
        id,
        name,
        credentialTypes,
        custodianMspId,
        signingKey: { ...generateP256Key(), kid: `${slug}-2026` },
        statusList: new IssuerStatusList({ uri: `${statusBase}/${slug}/1`, capacity: 4096 }),
      });
    const universityIssuer = issuer(
      "university",
      UNIVERSITY,
      "https://credentials.university.example",
      [CredentialType.Degree, CredentialType.Enrolment],
      "UniversityMSP",
    );
    const accreditation = issuer("accreditation", "European Employer Accreditation Agency", "https://accreditation.example.eu", [
      CredentialType.BuyerAccreditation,
    ]);
    issuers.push(universityIssuer, accreditation);
    const trustList = new TrustList({ issuers: [universityIssuer.trustListEntry(), accreditation.trustListEntry()] });
    // fetched fresh each time (no cache): the demo's revocation is seen at the next check
    const statusLists = () => new StatusListResolver({ fetcher: httpStatusListFetcher({ allowHttp: true }), maxAgeSeconds: 0 });
    const verifier = new PresentationVerifier({ trustList, audience: ONBOARDING_AUDIENCE, statusLists: statusLists(), nonces: new MemoryNonceStore() });
    const enroller = new InProcessLedgerEnroller(ledger);
    // the status monitor reports to the ledger with each organisation's statuschecker identity
    const checkers: Record<string, ConsentLedgerClient> = {};
    for (const mspId of ["UniversityMSP", "EmployerMSP"])
      checkers[mspId] = ledger.client(await ledger.enroll(mspId, "status-monitor", { [Attr.role]: "statuschecker" }));
    const monitor = new CredentialStatusMonitor({ trustList, statusLists: statusLists(), onStatusChange: ledgerStatusReporter(checkers) });
    cleanup.push(() => monitor.stop());
    const onboarding = createVerifierService({
      verifier,
      enroller,
      monitor,
      responseUri: `${ONBOARDING_AUDIENCE}/onboarding/responses`,
      profiles: { "data-subject": dataSubjectProfile(), buyer: buyerProfile({ mspId: "EmployerMSP" }) },
    });
    await onboarding.listen({ host: "127.0.0.1", port: 0 });
    cleanup.push(() => onboarding.close());
    const onboardingUrl = `http://127.0.0.1:${(onboarding.server.address() as AddressInfo).port}`;
    say.say(
      `issuers ${universityIssuer.id} (degrees, enrolments) and ${accreditation.id} (buyer accreditations); status lists on ${statusBase}; onboarding (OpenID4VP) on ${onboardingUrl}`,
    );
    const custodian = ledger.client(await ledger.enroll("UniversityMSP", "registrar", { [Attr.role]: "custodian" }));
    // the employer's own verifier, for the credentials candidates present to it
    const employerVerifier = new PresentationVerifier({ trustList, audience: EMPLOYER_AUDIENCE, statusLists: statusLists(), nonces: new MemoryNonceStore() });
    return { ...network, universityIssuer, accreditation, enroller, monitor, onboardingUrl, custodian, employerVerifier };
  });
  const {
    a,
    market,
    registry,
    ledger,
    bridgeUrls,
    bridgeLogs,
    bridgeStores,
    universityIssuer,
    accreditation,
    enroller,
    monitor,
    onboardingUrl,
    custodian,
    employerVerifier,
    token,
  } = setup;

  /** A wallet answering the onboarding service's OpenID4VP request: discloses exactly what its DCQL query asks for. */
  async function onboard(holder: Holder, credential: string, profile: string): Promise<{ status: number; body: any }> {
    // eslint-disable-line @typescript-eslint/no-explicit-any
    const request = await postJson(`${onboardingUrl}/onboarding/requests`, { profile });
    const query = request.body.dcql_query.credentials[0];
    const presentation = await holder.present(credential, { disclose: query.claim_sets[0], nonce: request.body.nonce, audience: request.body.client_id });
    return postJson(`${onboardingUrl}/onboarding/responses`, { state: request.body.state, vp_token: { [CREDENTIAL_QUERY_ID]: [presentation] } });
  }
  const ledgerOf = (enrolment: Enrolment) => ledger.client(enroller.identities.get(enrolment.enrollmentId)!);

  const universityRegistry = new StreamRegistryClient(a.StreamRegistry, university.signer);
  const universityMarket = new MarketClient(a.DataLicenseMarket, a.DATAToken, university.signer);
  const productSalt = id("university/graduate-credentials/v1");
  const productId = (await market.productIdOf(university.address, productSalt)).toLowerCase() as string;
  const degrees = new Map<string, string>();
  const enrolments = new Map<string, Enrolment>();

  // ------------------------------------------------------------------------------------------------
  const one = await say.step("1", "university issues degrees and enrolments; students onboard and consent to recruitment", async () => {
    for (const s of students) {
      const common = { holder: s.holder.did, holderKey: s.holder.publicKey };
      degrees.set(
        s.subjectId,
        (
          await universityIssuer.issue({
            vct: CredentialType.Degree,
            ...common,
            claims: {
              given_name: s.given,
              family_name: s.family,
              degree: s.degree,
              eqf_level: s.eqf,
              field_of_study: s.field,
              awarding_institution: UNIVERSITY,
              awarded_on: "2026-07-03",
              subject_id: s.subjectId,
            },
          })
        ).credential,
      );
      const enrolment = await universityIssuer.issue({
        vct: CredentialType.Enrolment,
        ...common,
        claims: {
          subject_id: s.subjectId,
          custodian: "UniversityMSP",
          student_number: `s${4_100_000 + students.indexOf(s)}`,
          programme: "Graduate School",
          institution: UNIVERSITY,
          enrolled_from: "2026-09-01",
        },
      });
      const answer = await onboard(s.holder, enrolment.credential, "data-subject");
      if (answer.status !== 200) say.expect(false, `${s.subjectId} onboards with its enrolment credential`, JSON.stringify(answer.body));
      enrolments.set(s.subjectId, answer.body.enrolment as Enrolment);
    }
    say.expect(
      [...enrolments].every(
        ([subjectId, e]) => e.mspId === "UniversityMSP" && e.attributes[Attr.role] === "subject" && e.attributes[Attr.subject] === subjectId,
      ),
      `${enrolments.size} students onboarded with their enrolment credentials (issuer, signature, status list, key binding verified); each ledger identity carries exactly role subject and its subject id, in the university's MSP`,
      JSON.stringify([...enrolments.values()].map((e) => e.attributes)),
    );

    // the credentials dataset: each student's record, encrypted per student; its content hash on the registry
    const records = students.map((s) => ({
      subjectId: s.subjectId,
      data: toUtf8Bytes(
        JSON.stringify({ subjectId: s.subjectId, degree: s.degree, eqfLevel: s.eqf, gpa: 3 + students.indexOf(s) / 4, thesis: `${s.field} thesis` }),
      ),
    }));
    const datasetPath = "/university/graduate-credentials/2026";
    const datasetId = StreamRegistryClient.resourceId(university.address, datasetPath).toLowerCase();
    const dataset = encryptDataset(datasetId, records);
    await universityRegistry.createDataset(datasetPath, dataset.contentHash, "https://university.example/graduates-2026.dmds");
    await custodian.registerResource(datasetId, "dataset", [productId]);
    await custodian.addResourceSubjects(
      datasetId,
      students.map((s) => s.subjectId),
    );

    // dynamic consent: the university asks, each student answers from its own ledger identity
    for (const s of students) {
      const asked = await custodian.requestConsent({
        subjectId: s.subjectId,
        controller: UNIVERSITY,
        resources: [datasetId],
        purposes: [PURPOSE],
        dataCategories: ["EducationQualification", "Credential"],
        buyerTypes: ["PrivateCompany", "PublicResearch"],
        jurisdictions: ["EU"],
        legalBasis: "A6-1-a",
        validUntil: ledger.clock.nowSeconds() + 365 * DAY,
        noticeHash: keccak256(toUtf8Bytes("Graduate recruitment notice v1")),
      });
      const student = ledgerOf(enrolments.get(s.subjectId)!);
      const answered = s.consents ? await student.acceptConsentRequest(asked.consentId) : await student.refuseConsent(asked.consentId);
      say.expect(
        answered.status === (s.consents ? "ConsentGiven" : "ConsentRefused"),
        `${s.subjectId} ${s.consents ? "consented to" : "refused"} recruitment use, signed with its own ledger identity`,
        answered.status,
      );
    }
    return { datasetId, dataset };
  });
  const { datasetId, dataset } = one;
  const consenting = students.filter((s) => s.consents).map((s) => s.subjectId);

  // ------------------------------------------------------------------------------------------------
  await say.step("2", "university lists the credentials dataset: consent-gated, sold for recruitment", async () => {
    await universityRegistry.setSubscribeDelegate(datasetId, a.DataLicenseMarket);
    const listed = await universityMarket.listProduct(productSalt, {
      beneficiary: university.address,
      pricePerSecond: PRICE_PER_SECOND,
      minSeconds: 3_600,
      maxSeconds: 365 * DAY,
      requiresConsent: true,
      requiresKyc: false,
      termsHash: keccak256(toUtf8Bytes("Graduate credentials terms v1")),
      termsUri: "https://university.example/terms",
      resources: [datasetId],
    });
    say.expect(listed.productId.toLowerCase() === productId, "the product id is productIdOf(university, salt), as registered on Fabric");
    await (await universityMarket.market.setPurposes(productId, [id(PURPOSE)], true)).wait();
    say.expect((await market.getProduct(productId)).requiresConsent === true, `the product requires a consent attestation and is sold for ${PURPOSE} only`);
  });

  // ------------------------------------------------------------------------------------------------
  const employerHolder = Holder.fromEthereumKey(employer.wallet.privateKey);
  const employerEncryption = generateKeyPair();
  const three = await say.step("3", "employer onboards with its accreditation, is approved for the consenting students, buys, downloads", async () => {
    const accredited = await accreditation.issue({
      vct: CredentialType.BuyerAccreditation,
      holder: employerHolder.did,
      holderKey: employerHolder.publicKey,
      claims: { buyer_type: "PrivateCompany", jurisdiction: "NL", ethereum_address: employer.address, organisation_name: "Talent Recruiting B.V." },
    });
    const answer = await onboard(employerHolder, accredited.credential, "buyer");
    say.expect(
      answer.status === 200,
      "the employer onboarded: buyer type, jurisdiction and its account proven by the accreditation, nothing else disclosed",
      JSON.stringify(answer.body),
    );
    const enrolment = answer.body.enrolment as Enrolment;
    say.expect(
      enrolment.attributes[Attr.buyerType] === "PrivateCompany" &&
        enrolment.attributes[Attr.ethAddress] === employer.address &&
        enrolment.attributes["consent.credentialRef"] === accredited.reference.hash,
      "its ledger identity carries the proven claims and the credential that backs them (consent.credentialRef)",
      JSON.stringify(enrolment.attributes),
    );
    const recorded = await setup.auditor.getCredential(accredited.reference.hash);
    say.expect(
      recorded.status === "valid" && recorded.mspId === "EmployerMSP",
      "the consent ledger records which credential backs the employer's identity",
      JSON.stringify(recorded),
    );
    const employerLedger = ledgerOf(enrolment);

    const decision = await employerLedger.requestAccess({ productId, purpose: PURPOSE, ethAddress: employer.address, ttlSeconds: 30 * DAY });
    say.expect(
      decision.decision === "approved" && decision.grant?.credentialRef === accredited.reference.hash,
      `Fabric approves ${PURPOSE}; the grant names the credential it rests on`,
      decision.reasons.join(", "),
    );
    say.expect(
      JSON.stringify(decision.approvedSubjects) === JSON.stringify(consenting),
      `${consenting.length} of ${students.length} students released (the one who refused is left out)`,
      JSON.stringify(decision.deniedByReason),
    );
    const grantId = decision.grant!.grantId;
    await waitFor(() => bridgeStores.filter((store) => store.attestations.has(grantId)).length >= 2, "two bridges to sign the grant");
    const buyer = new MarketClient(a.DataLicenseMarket, a.DATAToken, employer.signer, bridgeUrls);
    const { cost, receipt } = await buyer.buyWithPermit({ productId, duration: LICENSE_SECONDS, grantId, encryptionKey: employerEncryption.publicKey });
    say.expect(
      receipt.status === 1 && (await market.hasValidLicense(employer.address, datasetId)),
      `the employer holds a licence (permit + 2-of-3 attestation, one transaction, ${fmt(cost)})`,
    );
    const release = createRelease(dataset, decision, { address: employer.address, publicKey: (await universityRegistry.encryptionKeyOf(employer.address))! });
    const opened = openRelease(release, await universityRegistry.datasetContentHash(datasetId), employerEncryption.privateKey);
    say.expect(
      JSON.stringify(opened.subjects.map((x) => x.subjectId).sort()) === JSON.stringify(consenting),
      `the download decrypts exactly the ${consenting.length} consenting students' records`,
    );
    const records = new Map(opened.subjects.map((x) => [x.subjectId, JSON.parse(new TextDecoder().decode(x.records[0])) as { degree: string }]));
    return { accredited, employerLedger, decision, grantId, cost, records };
  });
  const { accredited, employerLedger, decision, grantId, cost, records } = three;

  // ------------------------------------------------------------------------------------------------
  await say.step("4", "a candidate presents her degree: the employer verifies the credential and the consent grant", async () => {
    const verifyCandidate = async (s: (typeof students)[number]) => {
      const nonce = employerVerifier.nonces.issue();
      const presentation = await s.holder.present(degrees.get(s.subjectId)!, {
        disclose: ["degree", "eqf_level", "awarding_institution", "awarded_on", "subject_id"],
        nonce,
        audience: EMPLOYER_AUDIENCE,
      });
      return employerVerifier.verify(presentation, {
        credentialTypes: [CredentialType.Degree],
        requiredClaims: ["degree", "eqf_level", "awarding_institution", "awarded_on", "subject_id"],
        nonce,
      });
    };
    const ana = students[0];
    const verified = await verifyCandidate(ana);
    say.say(
      `verified: ${verified.claims.degree} (EQF ${verified.claims.eqf_level}) from ${verified.issuerName}, awarded ${verified.claims.awarded_on}; names not disclosed`,
    );
    say.expect(
      verified.issuer === universityIssuer.id && verified.claims.degree === ana.degree && verified.claims.given_name === undefined,
      "the degree verifies: the university's signature, in the trust list for degrees, not revoked, bound to the candidate's key and to the employer's nonce",
      JSON.stringify(verified.claims),
    );
    // the consent side: the grant is open, covers this subject, and licences the data on chain
    const grant = await employerLedger.getGrant(grantId);
    say.expect(
      grant.status === "Open" &&
        decision.approvedSubjects.includes(String(verified.claims.subject_id)) &&
        (await market.hasValidLicense(employer.address, datasetId)),
      `the consent grant is open on Fabric, released ${verified.claims.subject_id}, and the licence is valid on chain`,
      `${grant.status}`,
    );
    say.expect(records.get(ana.subjectId)?.degree === verified.claims.degree, "the released record and the presented degree agree");
    const dawid = await verifyCandidate(students[3]);
    say.expect(
      !decision.approvedSubjects.includes(String(dawid.claims.subject_id)) && !records.has(dawid.claims.subject_id as string),
      `${dawid.claims.subject_id}'s degree verifies too, but no consent covers its record: the employer holds none of it`,
    );
  });

  // ------------------------------------------------------------------------------------------------
  await say.step("5", "the employer's accreditation is revoked: grant invalidated, licence ended on chain, new requests refused", async () => {
    // A day of licensed use passes: the ledger's clock and the chain's move together.
    const chainNow = (await provider.getBlock("latest"))!.timestamp;
    const target = Math.max(chainNow, ledger.clock.nowSeconds()) + DAY;
    ledger.clock.advance(target - ledger.clock.nowSeconds());
    await provider.send("evm_mine", [target]);
    const revokedAt = performance.now();
    accreditation.revoke(accredited.reference.credentialId);
    say.say("the accreditation body revokes the employer's accreditation in its status list (it misrepresented itself)");
    const report = await monitor.checkNow();
    say.expect(
      report.errors.length === 0 && report.changes.length === 1 && report.changes[0].status === "revoked" && report.changes[0].mspId === "EmployerMSP",
      "the status monitor's next check finds it and reports it to the ledger (ReportCredentialStatus, EmployerMSP's statuschecker)",
      JSON.stringify(report.errors.map((e) => e.error.message)),
    );
    const credential = await setup.auditor.getCredential(accredited.reference.hash);
    const grant = await employerLedger.getGrant(grantId);
    say.expect(
      credential.status === "revoked" && grant.status === "Invalidated" && grant.invalidatedBy === "CredentialRevoked",
      "the ledger marks the credential revoked and the employer's grant invalidated (CredentialRevoked), as a withdrawal would",
      `${credential.status} ${grant.status} ${grant.invalidatedBy}`,
    );
    await waitFor(
      () => bridgeLogs[0].records.some((r) => r.msg === "revocation relayed" && r.grantId === grantId),
      "the bridges to relay the revocation",
      30_000,
    );
    say.say(`revocation signed by the bridges and relayed on chain ${(performance.now() - revokedAt).toFixed(0)} ms after the status-list change`);
    const license = await market.getLicense(productId, employer.address);
    say.expect(
      license.status === LICENSE_ENDED &&
        !(await market.hasValidLicense(employer.address, datasetId)) &&
        !(await registry.canSubscribe(datasetId, employer.address)),
      "the licence has ended on chain and the registry no longer lets the employer read the dataset",
      `status ${license.status}`,
    );
    const refund: bigint = await market.claimableOf(employer.address);
    say.expect(refund > 0n && refund < cost, `the unearned ${fmt(refund)} of ${fmt(cost)} is refundable to the employer`);
    const before: bigint = await token.balanceOf(employer.address);
    await (await market.connect(employer.signer).getFunction("withdraw")()).wait();
    say.expect((await token.balanceOf(employer.address)) === before + refund, "the employer withdrew its refund");
    const again = await employerLedger.requestAccess({ productId, purpose: PURPOSE, ethAddress: employer.address });
    say.expect(
      again.decision === "denied" && JSON.stringify(again.reasons) === '["CREDENTIAL_REVOKED"]' && again.grant === null,
      "a new request is denied with the typed reason CREDENTIAL_REVOKED",
      JSON.stringify(again.reasons),
    );
    const reonboard = await onboard(employerHolder, accredited.credential, "buyer");
    say.expect(
      reonboard.status === 403 && reonboard.body.code === "CREDENTIAL_REVOKED",
      "and the revoked accreditation no longer onboards (CREDENTIAL_REVOKED)",
      JSON.stringify(reonboard.body),
    );
  });
  return say;
}
