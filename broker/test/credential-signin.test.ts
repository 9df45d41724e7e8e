// Credential sign-in (docs/protocol.md §6.1): a stream whose policy asks for a proven claim ("accredited
// public researchers only") is read only by subscribers that signed in with EIP-4361 and an SD-JWT VC
// presentation on the same nonce, for this broker's audience, held by the signed-in account: even when the
// stream is free (public). Configured through access.credentials, as an operator would.
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import {
  ACCREDITED_RESEARCHERS,
  CredentialIssuer,
  CredentialType,
  Holder,
  IssuerStatusList,
  createStatusListService,
  generateP256Key,
} from "@datamarket/identity";
import { BrokerClient, BrokerRequestError } from "../src/client/BrokerClient";
import { ConfigError, DEFAULT_CONFIG, parseConfig, type BrokerConfig } from "../src/config";
import { buildSiweMessage, personalMessageHash, signDigest, toHex } from "../src/wire";
import {
  ALICE,
  ALICE_KEY,
  BOB,
  BOB_KEY,
  MALLORY,
  MALLORY_KEY,
  OTHER_STREAM,
  STREAM,
  TestBroker,
  TestPublisher,
  expectBrokerError,
  startTestBroker,
} from "./helpers";

const AUDIENCE = "https://broker.datamarket.example";

describe("credential sign-in (docs/protocol.md §6.1)", () => {
  let statusServer: FastifyInstance;
  let accreditation: CredentialIssuer;
  let broker: TestBroker;
  const clients: BrokerClient[] = [];
  const holderOf = (key: Buffer) => Holder.fromEthereumKey("0x" + key.toString("hex"));
  const credentials = new Map<string, string>();
  const credentialIds = new Map<string, string>();

  /** The broker's configuration entry: STREAM needs an accredited public researcher. */
  function credentialConfig(): NonNullable<BrokerConfig["access"]["credentials"]> {
    return {
      audience: AUDIENCE,
      trustList: { issuers: [accreditation.trustListEntry()] },
      policies: { [STREAM]: ACCREDITED_RESEARCHERS as never },
      statusListMaxAgeSeconds: 1,
      allowHttpStatusLists: true,
    };
  }

  async function issue(key: Buffer, address: string, buyerType: string): Promise<string> {
    const holder = holderOf(key);
    const { credential, reference } = await accreditation.issue({
      vct: CredentialType.BuyerAccreditation,
      holder: holder.did,
      holderKey: holder.publicKey,
      claims: { buyer_type: buyerType, jurisdiction: "DE", organisation_name: "Institute", ethereum_address: address },
    });
    credentialIds.set(credential, reference.credentialId);
    return credential;
  }

  async function connect(): Promise<BrokerClient> {
    const client = await BrokerClient.connect(broker.wsUrl);
    clients.push(client);
    return client;
  }

  /** A presentation of `key`'s credential on `nonce` for `audience`, disclosing the policy's claims. */
  function present(key: Buffer, nonce: string, audience = AUDIENCE): Promise<string> {
    return holderOf(key).present(credentials.get(key.toString("hex"))!, { disclose: ["buyer_type", "jurisdiction"], nonce, audience });
  }

  before(async () => {
    const issuers: CredentialIssuer[] = [];
    statusServer = createStatusListService(issuers);
    await statusServer.listen({ host: "127.0.0.1", port: 0 });
    const base = `http://127.0.0.1:${(statusServer.server.address() as { port: number }).port}`;
    accreditation = new CredentialIssuer({
      id: "https://accreditation.example.eu",
      name: "Accreditation Agency",
      credentialTypes: [CredentialType.BuyerAccreditation],
      signingKey: { ...generateP256Key(), kid: "accreditation-2026" },
      statusList: new IssuerStatusList({ uri: `${base}/status/1`, capacity: 256 }),
    });
    issuers.push(accreditation);
    credentials.set(ALICE_KEY.toString("hex"), await issue(ALICE_KEY, ALICE, "PublicResearch"));
    credentials.set(BOB_KEY.toString("hex"), await issue(BOB_KEY, BOB, "PrivateCompany"));
    credentials.set(MALLORY_KEY.toString("hex"), await issue(MALLORY_KEY, MALLORY, "PublicResearch"));
    broker = await startTestBroker({ access: { ...structuredClone(DEFAULT_CONFIG.access), credentials: credentialConfig() } });
    // a free research stream: anyone may subscribe, as far as the registry goes
    broker.gate.makePublic(STREAM).makePublic(OTHER_STREAM).grantPublish(STREAM, ALICE);
  });
  after(async () => {
    for (const client of clients) await client.close();
    await broker.stop();
    await statusServer.close();
  });

  it("names its audience in the hello, and lets a signed-in researcher with a proven accreditation read the stream", async () => {
    const client = await connect();
    expect(client.hello).to.include({ credentialAudience: AUDIENCE });
    const reply = await client.signIn(ALICE_KEY, { presentation: await present(ALICE_KEY, String(client.hello!.nonce)) });
    expect(reply).to.deep.include({ type: "authenticated", address: ALICE });
    expect(reply.credential).to.deep.include({
      vct: CredentialType.BuyerAccreditation,
      issuer: accreditation.id,
      claims: { buyer_type: "PublicResearch", jurisdiction: "DE" },
    });
    expect((await client.subscribe(STREAM)).type).to.equal("subscribed");
    const publisher = await connect();
    await publisher.signIn(ALICE_KEY);
    const delivered = new Promise<Buffer>((resolve) => (client.onEvent = resolve));
    await publisher.publish(new TestPublisher(ALICE_KEY).next('{"beat":1}').frame);
    expect((await delivered).length).to.be.greaterThan(0);
    expect((await client.resend(STREAM, 0, { type: "last", count: 5 })).count).to.equal(1);
  });

  it("refuses a subscriber signed in with EIP-4361 alone, naming the policy; a stream without policy stays open", async () => {
    const client = await connect();
    await client.signIn(BOB_KEY);
    const refused = await expectBrokerError(() => client.subscribe(STREAM), "SUBSCRIBE_NOT_ALLOWED");
    expect(refused).to.deep.include({ reason: "credential-required", policy: ACCREDITED_RESEARCHERS });
    await expectBrokerError(() => client.resend(STREAM, 0, { type: "last", count: 1 }), "SUBSCRIBE_NOT_ALLOWED");
    await expectBrokerError(() => client.chainTip(STREAM, 0, ALICE), "SUBSCRIBE_NOT_ALLOWED");
    expect((await client.subscribe(OTHER_STREAM)).type).to.equal("subscribed");
  });

  it("refuses a proven credential whose claim the policy does not accept (a company's accreditation)", async () => {
    const client = await connect();
    const reply = await client.signIn(BOB_KEY, { presentation: await present(BOB_KEY, String(client.hello!.nonce)) });
    expect(reply.credential).to.deep.include({ claims: { buyer_type: "PrivateCompany", jurisdiction: "DE" } });
    const refused = await expectBrokerError(() => client.subscribe(STREAM), "SUBSCRIBE_NOT_ALLOWED");
    expect(refused).to.include({ reason: "credential-required", credentialCode: "POLICY_NOT_SATISFIED" });
  });

  it("refuses at sign-in a presentation of another account, for another audience, or on another connection's nonce, and leaves the session as it was", async () => {
    const client = await connect();
    const nonce = String(client.hello!.nonce);
    const failure = async (presentation: string, key = MALLORY_KEY) => {
      const error = await client.signIn(key, { presentation }).then(
        () => null,
        (e: BrokerRequestError) => e,
      );
      expect(error, "refused").to.be.instanceOf(BrokerRequestError);
      expect(error!.code).to.equal("AUTHENTICATION_FAILED");
      return error!.details!.credentialCode;
    };
    // Alice's presentation made for Mallory's session: held by another account than the one signed in
    expect(await failure(await present(ALICE_KEY, nonce))).to.equal("HOLDER_NOT_SIGNED_IN");
    expect(await failure(await present(MALLORY_KEY, nonce, "https://another-broker.example"))).to.equal("WRONG_AUDIENCE");
    const other = await connect();
    expect(await failure(await present(MALLORY_KEY, String(other.hello!.nonce)))).to.equal("NONCE_UNKNOWN");
    expect(await failure("not-a-presentation")).to.equal("MALFORMED_PRESENTATION");
    // none of them signed the connection in
    await expectBrokerError(() => client.subscribe(OTHER_STREAM), "NOT_AUTHENTICATED");
    // the nonce is still good for a correct one, and only once
    expect((await client.signIn(MALLORY_KEY, { presentation: await present(MALLORY_KEY, nonce) })).type).to.equal("authenticated");
    expect(await failure(await present(MALLORY_KEY, nonce))).to.equal("PRESENTATION_REPLAYED");
    expect((await client.subscribe(STREAM)).type).to.equal("subscribed");
  });

  it("refuses a revoked accreditation at sign-in (status list), over HTTP as over WebSocket", async () => {
    const hex = BOB_KEY.toString("hex");
    credentials.set(hex, await issue(BOB_KEY, BOB, "PublicResearch"));
    const httpSignIn = async (presentation?: (nonce: string) => Promise<string>) => {
      const { nonce, domain, chainId } = (await (await fetch(`${broker.httpUrl}/auth/nonce`)).json()) as { nonce: string; domain: string; chainId: number };
      const message = buildSiweMessage({ domain, address: BOB, uri: broker.httpUrl, chainId, nonce, issuedAt: new Date().toISOString() });
      const signature = toHex(signDigest(personalMessageHash(Buffer.from(message)), BOB_KEY));
      const body = { message, signature, ...(presentation ? { presentation: await presentation(nonce) } : {}) };
      const response = await fetch(`${broker.httpUrl}/auth/session`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    };
    const history = async (token: string) =>
      (await fetch(`${broker.httpUrl}/streams/${STREAM}/partitions/0/events?last=5`, { headers: { authorization: `Bearer ${token}` } })).status;

    const plain = await httpSignIn();
    expect(plain.status).to.equal(200);
    expect(await history(plain.body.token)).to.equal(403);
    const proven = await httpSignIn((nonce) => present(BOB_KEY, nonce));
    expect(proven.status, JSON.stringify(proven.body)).to.equal(200);
    expect(proven.body.credential.claims).to.deep.equal({ buyer_type: "PublicResearch", jurisdiction: "DE" });
    expect(await history(proven.body.token)).to.equal(200);

    accreditation.revoke(credentialIds.get(credentials.get(hex)!)!);
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the broker reuses a status list for statusListMaxAgeSeconds
    const revoked = await httpSignIn((nonce) => present(BOB_KEY, nonce));
    expect([revoked.status, revoked.body.code, revoked.body.details.credentialCode]).to.deep.equal([401, "AUTHENTICATION_FAILED", "CREDENTIAL_REVOKED"]);
    const client = await connect();
    const error = await client.signIn(BOB_KEY, { presentation: await present(BOB_KEY, String(client.hello!.nonce)) }).catch((e: BrokerRequestError) => e);
    expect((error as BrokerRequestError).details).to.include({ credentialCode: "CREDENTIAL_REVOKED" });
  });

  it("keeps a proof for the address until the session it was presented in ends, then cuts what it opened", async () => {
    const proving = await connect();
    // 4 s: the sign-in with a presentation, a second connection's sign-in and its subscribe must all
    // come before the proof ends, also on a loaded machine (1.5 s left too little for that)
    const endsAt = Date.now() + 4_000;
    await proving.signIn(MALLORY_KEY, {
      expirationTime: new Date(endsAt).toISOString(),
      presentation: await present(MALLORY_KEY, String(proving.hello!.nonce)),
    });
    // another connection of the same account, signed in without a presentation, reads on that proof
    const other = await connect();
    await other.signIn(MALLORY_KEY);
    expect((await other.subscribe(STREAM)).type).to.equal("subscribed");
    // when the proof ends, its live subscription is cut (a revoked notice), and subscribing again is refused
    const cut = new Promise<Record<string, unknown>>((resolve) => (other.onNotice = (notice) => notice.type === "revoked" && resolve(notice)));
    const notice = await cut;
    expect(Date.now()).to.be.at.least(endsAt);
    expect(notice).to.deep.include({ code: "ACCESS_REVOKED", streamId: STREAM });
    expect((notice.details as Record<string, unknown>).reason).to.equal("credential-required");
    expect(await expectBrokerError(() => other.subscribe(STREAM), "SUBSCRIBE_NOT_ALLOWED")).to.include({ reason: "credential-required" });
  });

  it("checks the configuration entry: policy keys, policies, audience, trust list", () => {
    // as an operator writes it: the file's access.credentials, no environment
    const configWith = (credentials: Record<string, unknown>) => parseConfig({ access: { credentials: { ...credentialConfig(), ...credentials } } }, {});
    expect(() => configWith({})).to.not.throw();
    expect(() => configWith({ policies: { "stream-1": ACCREDITED_RESEARCHERS } })).to.throw(ConfigError, "access.credentials.policies");
    expect(() => configWith({ policies: { [STREAM]: { credentialTypes: [], claims: {} } } })).to.throw(
      ConfigError,
      `access.credentials.policies.${STREAM}.credentialTypes`,
    );
    expect(() => configWith({ policies: { [STREAM]: { credentialTypes: ["x"], claims: { buyer_type: [] } } } })).to.throw(
      ConfigError,
      `access.credentials.policies.${STREAM}.claims.buyer_type`,
    );
    expect(() => configWith({ audience: "" })).to.throw(ConfigError, "access.credentials.audience");
    expect(() => configWith({ trustList: { issuers: [{ id: "not a url" }] } })).to.throw(ConfigError, "access.credentials.trustList");
    expect(() => configWith({ statusListMaxAgeSeconds: 0 })).to.throw(ConfigError, "access.credentials.statusListMaxAgeSeconds");
    expect(() => configWith({ audience: "", policies: {} })).to.not.throw();
  });
});
