// A deployment for the tests: three trusted issuers (an accreditation body, a hospital, a university)
// publishing their status lists over HTTP on 127.0.0.1, the trust list naming them, a verifier for
// the onboarding audience, and an untrusted issuer. Everything binds port 0 and is closed by close().
import type { FastifyInstance } from "fastify";
import { Wallet } from "ethers";
import {
  CREDENTIAL_QUERY_ID,
  CredentialIssuer,
  CredentialType,
  Holder,
  IssuerStatusList,
  MemoryNonceStore,
  PresentationVerifier,
  StatusListResolver,
  TrustList,
  createStatusListService,
  generateP256Key,
  httpStatusListFetcher,
  type PresentationRequirements,
} from "../src";

export const AUDIENCE = "https://onboarding.datamarket.example";

export interface Deployment {
  accreditation: CredentialIssuer;
  hospital: CredentialIssuer;
  university: CredentialIssuer;
  /** claims the trusted accreditation body's id, but signs with its own key */
  impostor: CredentialIssuer;
  /** an accreditation body the deployment does not trust */
  untrusted: CredentialIssuer;
  /** the trusted university (its id, key and list) issuing patient links, which it is not trusted for */
  universityOutsideRemit: CredentialIssuer;
  trustList: TrustList;
  statusLists: StatusListResolver;
  nonces: MemoryNonceStore;
  verifier: PresentationVerifier;
  statusServer: FastifyInstance;
  /** lets a test move the verifier's clock, seconds */
  advance(seconds: number): void;
  now(): number;
  close(): Promise<void>;
}

export async function deployment(): Promise<Deployment> {
  let offset = 0;
  const clock = () => Date.now() + offset;
  // the status server listens first: the issuers' list URIs need its port
  const issuers: CredentialIssuer[] = [];
  const statusServer = createStatusListService(issuers);
  await statusServer.listen({ host: "127.0.0.1", port: 0 });
  const base = `http://127.0.0.1:${(statusServer.server.address() as { port: number }).port}`;
  const keys = new Map<string, ReturnType<typeof generateP256Key> & { kid: string }>();
  const issuer = (name: string, id: string, credentialTypes: string[], custodianMspId?: string) => {
    keys.set(name, { ...generateP256Key(), kid: `${name}-2026` });
    return new CredentialIssuer({
      id,
      name,
      credentialTypes,
      custodianMspId,
      clock,
      signingKey: keys.get(name)!,
      statusList: new IssuerStatusList({ uri: `${base}/status/${name}/1`, capacity: 1024 }),
    });
  };
  const accreditation = issuer("accreditation", "https://accreditation.example.eu", [CredentialType.BuyerAccreditation]);
  const hospital = issuer("hospital", "https://hospital.example.org", [CredentialType.PatientCustodianLink], "HospitalMSP");
  const university = issuer("university", "https://university.example.edu", [CredentialType.Degree, CredentialType.Enrolment], "UniversityMSP");
  const impostor = new CredentialIssuer({
    id: accreditation.id,
    name: "impostor",
    credentialTypes: [CredentialType.BuyerAccreditation],
    clock,
    signingKey: { ...generateP256Key(), kid: "accreditation-2026" },
    statusList: new IssuerStatusList({ uri: `${base}/status/impostor/1`, capacity: 64 }),
  });
  const untrusted = issuer("untrusted", "https://accreditation.untrusted.example", [CredentialType.BuyerAccreditation]);
  const universityOutsideRemit = new CredentialIssuer({
    id: university.id,
    name: "university",
    credentialTypes: [CredentialType.PatientCustodianLink],
    clock,
    signingKey: keys.get("university")!,
    statusList: university.statusList,
  });
  issuers.push(accreditation, hospital, university, impostor, untrusted);

  const trustList = new TrustList({ issuers: [accreditation.trustListEntry(), hospital.trustListEntry(), university.trustListEntry()] });
  const statusLists = new StatusListResolver({ fetcher: httpStatusListFetcher({ allowHttp: true }), maxAgeSeconds: 0, clock });
  const nonces = new MemoryNonceStore({ clock });
  const verifier = new PresentationVerifier({ trustList, audience: AUDIENCE, statusLists, nonces, clock });
  return {
    accreditation,
    hospital,
    university,
    impostor,
    untrusted,
    universityOutsideRemit,
    trustList,
    statusLists,
    nonces,
    verifier,
    statusServer,
    advance: (seconds) => (offset += seconds * 1000),
    now: () => Math.floor(clock() / 1000),
    close: () => statusServer.close(),
  };
}

/** Registers before/after hooks of the enclosing describe: a fresh deployment, closed afterwards whatever happens. */
export function useDeployment(set: (deployment: Deployment) => void): void {
  let current: Deployment | undefined;
  before(async () => {
    current = await deployment();
    set(current);
  });
  after(async () => {
    await current?.close();
  });
}

export function buyerHolder(): { holder: Holder; address: string } {
  const wallet = Wallet.createRandom();
  return { holder: Holder.fromEthereumKey(wallet.privateKey), address: wallet.address.toLowerCase() };
}

export function accreditationClaims(address: string | undefined, buyerType = "PublicResearch"): Record<string, unknown> {
  return {
    buyer_type: buyerType,
    jurisdiction: "DE",
    organisation_name: "Charité Research Institute",
    ...(address ? { ethereum_address: address } : {}),
  };
}

/** The requirements of a buyer onboarding, with a fresh nonce from the verifier. */
export function buyerRequest(d: Deployment): PresentationRequirements {
  return {
    credentialTypes: [CredentialType.BuyerAccreditation],
    requiredClaims: ["buyer_type", "jurisdiction"],
    optionalClaims: ["ethereum_address"],
    nonce: d.nonces.issue(),
  };
}

export interface HttpAnswer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A client of a verifier service listening on `base`: JSON (or form-urlencoded) POSTs and a wallet answering onboarding requests. */
export function onboardingClient(base: string) {
  async function post(path: string, body: unknown, form = false): Promise<HttpAnswer> {
    const response = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": form ? "application/x-www-form-urlencoded" : "application/json" },
      body: form ? new URLSearchParams(body as Record<string, string>).toString() : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  }

  /** A wallet answering an onboarding request: it discloses what the DCQL query asks for, nothing else. */
  async function onboard(holder: Holder, credential: string, profile: string, form = false): Promise<HttpAnswer> {
    const request = await post("/onboarding/requests", { profile });
    if (request.status !== 201) throw new Error(`onboarding request refused: ${JSON.stringify(request.body)}`);
    const query = request.body.dcql_query.credentials[0];
    const disclose = query.claim_sets[0] as string[];
    const presentation = await holder.present(credential, { disclose, nonce: request.body.nonce, audience: request.body.client_id });
    const vpToken = { [CREDENTIAL_QUERY_ID]: [presentation] };
    return post("/onboarding/responses", { state: request.body.state, vp_token: form ? JSON.stringify(vpToken) : vpToken }, form);
  }
  return { post, onboard };
}
