// The `datamarket` command run as a user runs it: the compiled bin in a child process, against a
// Hardhat node process with the protocol deployed and a `broker start` process (test/stack.ts).
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Contract, JsonRpcProvider, Wallet, ZeroHash, id as labelhash, namehash } from "ethers";
import { DATAToken__factory } from "@datamarket/contracts/typechain";
import { ACCOUNTS, startStack, type Stack } from "./stack";

const BIN = path.join(__dirname, "..", "bin", "datamarket.js");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe("datamarket (the CLI, as a process)", function () {
  let stack: Stack;
  let work: string;
  const children: ChildProcess[] = [];

  const start = (args: string[], options: { key?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): { child: ChildProcess; done: Promise<Run> } => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATAMARKET_PRIVATE_KEY: options.key,
      DATAMARKET_RPC_URL: stack?.rpcUrl,
      DATAMARKET_DEPLOYMENT: stack?.deployment,
      DATAMARKET_BROKER: stack?.wsUrl,
      ...options.env,
    };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: work, env, stdio: ["pipe", "pipe", "pipe"] });
    children.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (c: Buffer) => (stdout += c));
    child.stderr!.on("data", (c: Buffer) => (stderr += c));
    child.stdin!.end(options.input ?? "");
    const done = new Promise<Run>((resolve) =>
      // "close", not "exit": the output of a process that just exited may still be in the pipes
      child.once("close", (code) => {
        let json;
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
        resolve({ code: code ?? -1, stdout, stderr, json });
      }),
    );
    return { child, done };
  };
  const run = (args: string[], options: { key?: string; env?: NodeJS.ProcessEnv; input?: string } = {}) => start(args, options).done;
  const ok = async (args: string[], options: { key?: string; env?: NodeJS.ProcessEnv; input?: string } = {}) => {
    const r = await run(args, options);
    expect(r.code, `datamarket ${args.join(" ")}\n${r.stderr}\n${r.stdout}`).to.equal(0);
    return r;
  };

  before(async function () {
    this.timeout(600_000);
    work = mkdtempSync(path.join(tmpdir(), "datamarket-cli-test-"));
    stack = await startStack();
  });

  after(async function () {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await stack?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describe("without a chain", function () {
    it("prints its help with exit 0, and lists every command group", async function () {
      const r = await ok(["--help"]);
      for (const group of ["stream", "dataset", "product", "consent", "deployment", "wallet"]) expect(r.stdout).to.contain(group);
      const sub = await ok(["stream", "--help"]);
      for (const command of ["create", "show", "grant", "revoke", "publish", "subscribe", "resend"]) expect(sub.stdout).to.contain(command);
    });

    it("exits 2 on wrong usage, and has no option that takes a private key", async function () {
      expect((await run(["stream", "create"])).code).to.equal(2);
      const r = await run(["stream", "create", "/x", "--private-key", ACCOUNTS[0]]);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.contain("unknown option '--private-key'");
      expect((await run(["product", "buy", "0x1234", "--duration", "1h"], { key: ACCOUNTS[1] })).code).to.equal(2);
      expect((await run(["product", "buy", `0x${"11".repeat(32)}`, "--duration", "7x"], { key: ACCOUNTS[1] })).stderr).to.contain(
        '--duration: "7x" is not a duration',
      );
    });

    it("exits 3 naming what to set when there is no wallet, and 4 when no node answers", async function () {
      const none = await run(["stream", "create", "/x"], { env: { DATAMARKET_RPC_URL: stack.rpcUrl } });
      expect(none.code).to.equal(3);
      expect(none.stderr).to.contain("DATAMARKET_PRIVATE_KEY");
      const down = await run(["--json", "product", "list"], { env: { DATAMARKET_RPC_URL: "http://127.0.0.1:9" } });
      expect(down.code).to.equal(4);
      expect(down.json.error).to.include({ code: "UNAVAILABLE", exitCode: 4 });
    });

    it("creates an encrypted keystore and signs with it; a wrong password exits 3", async function () {
      const file = path.join(work, "wallet.json");
      const created = await ok(["--json", "wallet", "create", file], { env: { DATAMARKET_KEYSTORE_PASSWORD: "correct horse" } });
      expect(created.json.address).to.match(/^0x[0-9a-fA-F]{40}$/);
      const keystore = JSON.parse(readFileSync(file, "utf8"));
      expect((keystore.crypto ?? keystore.Crypto).kdf).to.equal("scrypt");
      const address = await ok(["--json", "--keystore", file, "wallet", "address"], { env: { DATAMARKET_KEYSTORE_PASSWORD: "correct horse" } });
      expect(address.json.address).to.equal(created.json.address);
      const wrong = await run(["--keystore", file, "wallet", "address"], { env: { DATAMARKET_KEYSTORE_PASSWORD: "wrong horse" } });
      expect(wrong.code).to.equal(3);
      expect(wrong.stderr).to.contain("wrong password");
      expect((await run(["wallet", "create", file], { env: { DATAMARKET_KEYSTORE_PASSWORD: "correct horse" } })).code).to.equal(2);
    });
  });

  describe("a walkthrough on a node and a broker", function () {
    const seller = ACCOUNTS[1];
    const buyer = ACCOUNTS[2];
    let streamId: string;
    let productId: string;
    const buyerAddress = new Wallet(buyer).address;

    before(async function () {
      const provider = new JsonRpcProvider(stack.rpcUrl, undefined, { cacheTimeout: -1 });
      const token = DATAToken__factory.connect(stack.record.contracts.DATAToken.address, new Wallet(ACCOUNTS[0], provider));
      await (await token.mint(buyerAddress, 10n ** 21n)).wait();
      provider.destroy();
    });

    it("shows and verifies the deployment record", async function () {
      const shown = await ok(["--json", "deployment", "show"]);
      expect(shown.json.contracts.DataLicenseMarket.address).to.equal(stack.record.contracts.DataLicenseMarket.address);
      const verified = await ok(["--json", "deployment", "verify"]);
      expect(verified.json.failed).to.equal(0);
      // the 14 contracts of the protocol against the package's build; the development ENS (registry, resolver) present
      const code = (c: { check: string }) => c.check.startsWith("runtime code");
      expect(verified.json.checks.filter((c: { check: string }) => c.check.startsWith("runtime code = @datamarket/contracts"))).to.have.length(14);
      expect(
        verified.json.checks
          .filter(code)
          .filter((c: { check: string }) => c.check.includes("development ENS"))
          .map((c: { contract: string }) => c.contract),
      ).to.deep.equal(["ENSRegistry", "PublicResolver"]);
      expect(verified.json.checks.filter(code)).to.have.length(16);
    });

    it("fails deployment verify (exit 7) when the record points a contract at another one's code", async function () {
      const forged = JSON.parse(readFileSync(stack.deployment, "utf8"));
      forged.contracts.Karma.address = forged.contracts.DATAToken.address;
      const file = path.join(work, "forged.json");
      writeFileSync(file, JSON.stringify(forged));
      const r = await run(["--json", "--deployment", file, "deployment", "verify"]);
      expect(r.code).to.equal(7);
      expect(r.json.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { contract: string }) => c.contract)).to.deep.equal(["Karma"]);
    });

    it("creates a public stream, shows it, and delivers published events to a subscriber", async function () {
      const created = await ok(["--json", "stream", "create", "/cli/walkthrough", "--public"], { key: seller });
      streamId = created.json.streamId;
      expect(streamId).to.match(/^0x[0-9a-f]{64}$/);
      const shown = await ok(["--json", "stream", "show", `${new Wallet(seller).address}/cli/walkthrough`]);
      expect(shown.json).to.include({ id: streamId, kind: "stream", publicSubscribe: true, partitions: 1 });

      const subscriber = start(["--json", "stream", "subscribe", streamId, "--count", "2"], { key: buyer });
      await new Promise<void>((resolve) => {
        const onData = (c: Buffer) => c.toString().includes("subscribed to") && resolve();
        subscriber.child.stderr!.on("data", onData);
      });
      await ok(["--json", "stream", "publish", streamId, '{"bpm": 61}'], { key: seller });
      await ok(["stream", "publish", streamId], { key: seller, input: "plain text event\n" });
      const received = await subscriber.done;
      expect(received.code, received.stderr).to.equal(0);
      const lines = received.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(lines.map((l) => l.content)).to.deep.equal([{ bpm: 61 }, "plain text event"]);
      expect(lines.every((l) => l.publisher === new Wallet(seller).address.toLowerCase())).to.equal(true);

      const resent = await ok(["--json", "stream", "resend", streamId, "--last", "2"], { key: buyer });
      expect(resent.json.map((m: { content: unknown }) => m.content)).to.deep.equal([{ bpm: 61 }, "plain text event"]);
    });

    it("takes a stream's ENS name wherever it takes a stream; a name with no record exits 6, a malformed one 2", async function () {
      const provider = new JsonRpcProvider(stack.rpcUrl, undefined, { cacheTimeout: -1 });
      try {
        // The development ENS of the deployment (Names.ens "local"): its deployer owns the root; it gives
        // walkthrough.eth to the seller, who names its stream with StreamNames (checked on chain).
        const contracts = stack.record.contracts as Record<string, { address: string }>;
        const ensAbi = ["function setSubnodeOwner(bytes32 node, bytes32 label, address owner) returns (bytes32)"];
        const ens = new Contract(contracts.ENSRegistry.address, ensAbi, new Wallet(ACCOUNTS[0], provider));
        await (await ens.setSubnodeOwner(ZeroHash, labelhash("eth"), new Wallet(ACCOUNTS[0]).address)).wait();
        await (await ens.setSubnodeOwner(namehash("eth"), labelhash("walkthrough"), new Wallet(seller).address)).wait();
        const names = new Contract(
          contracts.StreamNames.address,
          ["function setName(string name, bytes32 resourceId) returns (bytes32 node)"],
          new Wallet(seller, provider),
        );
        await (await names.setName("walkthrough.eth", streamId)).wait();
      } finally {
        provider.destroy();
      }
      const shown = await ok(["--json", "stream", "show", "Walkthrough.eth"]);
      expect(shown.json).to.include({ id: streamId, kind: "stream" });
      const unset = await run(["--json", "stream", "show", "nobody.eth"]);
      expect(unset.code, unset.stderr).to.equal(6);
      expect(unset.json.error).to.deep.include({ code: "NOT_FOUND" });
      expect(unset.json.error.details).to.include({ reason: "NameNotSet" });
      const malformed = await run(["--json", "stream", "show", "a_b.eth"]);
      expect(malformed.code, malformed.stderr).to.equal(2);
    });

    it("grants and revokes the publish permission", async function () {
      const other = new Wallet(ACCOUNTS[3]).address;
      await ok(["stream", "grant", streamId, other, "--publish", "--until", "+1d"], { key: seller });
      expect((await ok(["--json", "stream", "show", streamId], { key: ACCOUNTS[3] })).json.you.canPublish).to.equal(true);
      await ok(["stream", "revoke", streamId, other], { key: seller });
      expect((await ok(["--json", "stream", "show", streamId], { key: ACCOUNTS[3] })).json.you.canPublish).to.equal(false);
    });

    it("lists a product, buys and extends a licence; a buyer without DATA gets the token's error decoded (exit 5)", async function () {
      const created = await ok(
        ["--json", "product", "create", "--resource", streamId, "--price", "8.64", "--terms-uri", "https://seller.example/terms", "--salt", "walkthrough"],
        { key: seller },
      );
      productId = created.json.productId;
      expect(created.json.pricePerSecond).to.equal("100000000000000");
      const listed = await ok(["--json", "product", "list", "--seller", new Wallet(seller).address]);
      expect(listed.json.map((p: { productId: string }) => p.productId)).to.include(productId);
      const bought = await ok(["--json", "product", "buy", productId, "--duration", "1h"], { key: buyer });
      expect(bought.json.cost).to.equal(String(3600n * 10n ** 14n));
      const before = (await ok(["--json", "product", "show", productId], { key: buyer })).json.yourLicense;
      expect(before.status).to.equal("active");
      const extended = await ok(["--json", "product", "extend", productId, "--duration", "1h"], { key: buyer });
      expect(extended.json.end).to.equal(before.end + 3600);

      const poor = await run(["--json", "product", "buy", productId, "--duration", "1h"], { key: ACCOUNTS[3] });
      expect(poor.code, poor.stderr).to.equal(5);
      expect(poor.json.error.code).to.equal("REVERTED");
      expect(poor.json.error.details.error).to.equal("ERC20InsufficientBalance");
    });

    it("uploads a dataset, releases it to a licensed buyer, who downloads the consented subjects only", async function () {
      const records = path.join(work, "records.jsonl");
      writeFileSync(records, ['{"subjectId":"s1","data":{"hr":61}}', '{"subjectId":"s1","data":{"hr":62}}', '{"subjectId":"s2","data":"x"}'].join("\n") + "\n");
      const out = path.join(work, "lab.dmds");
      const uploaded = await ok(["--json", "dataset", "upload", "/cli/lab", records, "--out", out, "--location", "https://seller.example/lab.dmds"], {
        key: seller,
      });
      expect(uploaded.json).to.include({ records: 3, subjects: 2 });
      const datasetId = uploaded.json.datasetId;
      const keyFile = path.join(work, "buyer-key.json");
      await ok(["wallet", "encryption-key", keyFile], { key: buyer });
      const product = await ok(
        ["--json", "product", "create", "--resource", datasetId, "--price-per-second", "1000", "--terms-uri", "https://seller.example/terms"],
        { key: seller },
      );
      await ok(["product", "buy", product.json.productId, "--duration", "1h"], { key: buyer });
      const decision = path.join(work, "decision.json");
      writeFileSync(decision, JSON.stringify({ decision: "approved", approvedSubjects: ["s1"], deniedByReason: { NO_CONSENT: 1 } }));
      const release = path.join(work, "release.json");
      const released = await ok(
        [
          "--json",
          "dataset",
          "release",
          datasetId,
          "--file",
          out,
          "--key-file",
          `${out}.key.json`,
          "--buyer",
          buyerAddress,
          "--decision",
          decision,
          "--out",
          release,
        ],
        { key: seller },
      );
      expect(released.json.released).to.equal(1);
      const downloaded = await ok(["dataset", "download", datasetId, "--release", release, "--encryption-key-file", keyFile], { key: buyer });
      expect(
        downloaded.stdout
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l)),
      ).to.deep.equal([
        { subjectId: "s1", data: '{"hr":61}' },
        { subjectId: "s1", data: '{"hr":62}' },
      ]);
      // a release whose body was changed fails the content-hash check
      const tampered = JSON.parse(readFileSync(release, "utf8"));
      const body = Buffer.from(tampered.bodies[0].$bytes, "base64");
      body[body.length - 1] ^= 1;
      tampered.bodies[0].$bytes = body.toString("base64");
      writeFileSync(release, JSON.stringify(tampered));
      expect((await run(["dataset", "download", datasetId, "--release", release, "--encryption-key-file", keyFile], { key: buyer })).code).to.equal(7);
      // a seller cannot release to someone without a licence
      expect(
        (
          await run(
            [
              "dataset",
              "release",
              datasetId,
              "--file",
              out,
              "--key-file",
              `${out}.key.json`,
              "--buyer",
              new Wallet(ACCOUNTS[3]).address,
              "--decision",
              decision,
              "--out",
              release,
            ],
            { key: seller },
          )
        ).code,
      ).to.equal(5);
    });
  });

  describe("consent on the in-process ledger", function () {
    it("records a consent, refuses unknown ids (exit 6) and decides a request", async function () {
      const notice = path.join(work, "notice.txt");
      writeFileSync(notice, "notice v1");
      const given = await ok([
        "--json",
        "consent",
        "give",
        "--subject",
        "p-001",
        "--resource",
        `0x${"ab".repeat(32)}`,
        "--purpose",
        "ScientificResearch",
        "--data-category",
        "PhysicalHealth",
        "--buyer-type",
        "PublicResearch",
        "--jurisdiction",
        "EU",
        "--legal-basis",
        "A9-2-a",
        "--controller",
        "Hospital",
        "--notice-file",
        notice,
      ]);
      expect(given.json).to.include({ subjectId: "p-001", status: "ConsentGiven" });
      expect(given.json.purposes).to.deep.equal(["ScientificResearch"]);
      const missing = await run(["--json", "consent", "show", `0x${"00".repeat(32)}`]);
      expect(missing.code, missing.stderr).to.equal(6);
      const decided = await ok(["--json", "consent", "request", "--product", `0x${"cd".repeat(32)}`, "--purpose", "ScientificResearch"], { key: ACCOUNTS[2] });
      expect(decided.json.decision).to.equal("denied");
    });
  });
});
