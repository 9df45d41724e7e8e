// The packages as a user gets them: every publishable workspace packed with `npm pack`, the tarballs
// installed into a fresh project in a temporary folder outside the repository, an app type-checked
// against them, the READMEs' and docs/sdk.md's examples run, and a walkthrough of the installed
// `datamarket` command against a Hardhat node process and a `broker start` process.
//
// A package that depends on another @datamarket package that is not publishable yet cannot be
// installed from tarballs (the registry has none): its checks are skipped and say which one.
import { expect } from "chai";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { HDNodeWallet, JsonRpcProvider, Mnemonic, Wallet } from "ethers";
import { DATAToken__factory } from "@datamarket/contracts/typechain";
import { startStack, type Stack } from "../cli/test/stack";

const ROOT = path.resolve(__dirname, "..");
const run = promisify(execFile);
const QUICKSTART_RUNS = 10;
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";
const account = (i: number) => HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(HARDHAT_MNEMONIC), `m/44'/60'/0'/0/${i}`).privateKey;

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  main?: string;
  bin?: Record<string, string>;
  exports?: unknown;
  dependencies?: Record<string, string>;
}
interface Packed {
  name: string;
  dir: string;
  manifest: Manifest;
  tarball: string;
  files: string[];
}

function workspaces(): { dir: string; manifest: Manifest }[] {
  const root = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { workspaces: string[] };
  return root.workspaces.map((w) => ({ dir: path.join(ROOT, w), manifest: JSON.parse(readFileSync(path.join(ROOT, w, "package.json"), "utf8")) as Manifest }));
}

/** Every file an `exports` map (or `main`, `bin`) points at. */
function entryFiles(manifest: Manifest): string[] {
  const targets: string[] = [];
  const walk = (value: unknown) => {
    if (typeof value === "string") targets.push(value);
    else if (value && typeof value === "object") Object.values(value).forEach(walk);
  };
  walk(manifest.exports);
  if (manifest.main) targets.push(manifest.main);
  if (manifest.bin) walk(manifest.bin);
  return targets.filter((t) => !t.includes("*")).map((t) => t.replace(/^\.\//, ""));
}

/** The ```ts block following `heading` in a Markdown file (the first one when no heading is given). */
function codeBlock(file: string, after = ""): string {
  const text = readFileSync(file, "utf8");
  const from = after ? text.indexOf(after) : 0;
  const match = /```ts\n([\s\S]*?)```/.exec(text.slice(from));
  if (!match) throw new Error(`${file}: no \`\`\`ts block${after ? ` after "${after}"` : ""}`);
  return match[1];
}

describe("the published packages, installed from their tarballs outside the repository", function () {
  this.timeout(900_000);
  let work: string;
  let app: string;
  const packed: Packed[] = [];
  const installed = new Set<string>();
  /** Package -> why it is not installed. */
  const waiting = new Map<string, string>();
  let npmLs: { dependencies?: Record<string, unknown> } = {};

  const skipUnless = (ctx: Mocha.Context, name: string) => {
    if (!installed.has(name)) {
      console.log(`      (skipped: ${name} ${waiting.get(name) ?? "is not a publishable workspace"})`);
      ctx.skip();
    }
  };

  before(async function () {
    work = mkdtempSync(path.join(tmpdir(), "datamarket-packed-"));
    const tarballs = path.join(work, "tarballs");
    mkdirSync(tarballs);
    const all = workspaces();
    for (const { dir, manifest } of all.filter((w) => !w.manifest.private)) {
      // npm pack runs the package's prepack (its build) first
      const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", tarballs], { cwd: dir, maxBuffer: 64 << 20 });
      const [info] = JSON.parse(stdout.slice(stdout.indexOf("["))) as { filename: string; files: { path: string }[] }[];
      packed.push({ name: manifest.name, dir, manifest, tarball: path.join(tarballs, info.filename), files: info.files.map((f) => f.path) });
    }
    // A tarball installs only if every @datamarket dependency is one of the tarballs that install.
    const names = new Set(packed.map((p) => p.name));
    for (let changed = true; changed;) {
      changed = false;
      for (const p of packed) {
        if (waiting.has(p.name)) continue;
        const missing = Object.keys(p.manifest.dependencies ?? {}).find((d) => d.startsWith("@datamarket/") && (!names.has(d) || waiting.has(d)));
        if (missing) {
          waiting.set(
            p.name,
            `waits for ${missing}, which is ${all.some((w) => w.manifest.name === missing) ? "not publishable yet (private)" : "no workspace"}`,
          );
          changed = true;
        }
      }
    }
    app = path.join(work, "app");
    mkdirSync(app);
    writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "datamarket-user-app", version: "1.0.0", private: true }, null, 2));
    const toInstall = packed.filter((p) => !waiting.has(p.name));
    await run(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        ...toInstall.map((p) => p.tarball),
        "typescript@5.9.3",
        "@types/node@20",
        "viem@2",
        "ethers@6",
      ],
      { cwd: app, maxBuffer: 64 << 20 },
    );
    for (const p of toInstall) installed.add(p.name);
    npmLs = JSON.parse((await run("npm", ["ls", "--all", "--json"], { cwd: app, maxBuffer: 256 << 20 }).catch((e: { stdout: string }) => e)).stdout);
    console.log(`      packed: ${packed.map((p) => `${p.name}@${p.manifest.version}`).join(", ")}; installed in ${app}`);
    for (const [name, why] of waiting) console.log(`      not installed: ${name} ${why}`);
  });

  after(function () {
    if (work && !process.env.KEEP_PACKED) rmSync(work, { recursive: true, force: true });
  });

  it("packs every publishable workspace with its LICENSE, README, and built entry points (no TypeScript source)", function () {
    expect(packed.map((p) => p.name)).to.include.members([
      "@datamarket/contracts",
      "@datamarket/protocol",
      "@datamarket/consent-attestation",
      "@datamarket/sdk",
      "@datamarket/cli",
    ]);
    expect([...waiting], "every packed package installs").to.deep.equal([]);
    for (const p of packed) {
      expect(p.files, p.name).to.include.members(["LICENSE", "README.md", "package.json"]);
      expect(readFileSync(path.join(p.dir, "LICENSE"), "utf8")).to.equal(readFileSync(path.join(ROOT, "LICENSE"), "utf8"));
      for (const entry of entryFiles(p.manifest)) {
        if (entry.endsWith(".json") && !entry.startsWith("dist")) continue;
        expect(p.files, `${p.name}: ${entry}`).to.include(entry);
        expect(entry.endsWith(".ts") && !entry.endsWith(".d.ts") && !entry.endsWith(".d.mts"), `${p.name}: ${entry} is TypeScript source`).to.equal(false);
      }
      expect(p.manifest.version, p.name).to.match(/^0\.\d+\.\d+$/);
    }
  });

  it("installs in a project outside the repository", function () {
    expect(path.relative(ROOT, app).startsWith("..")).to.equal(true);
    expect(installed.size).to.be.greaterThan(0);
    for (const name of installed) expect(existsSync(path.join(app, "node_modules", name, "package.json")), name).to.equal(true);
  });

  it("loads @datamarket/contracts as CommonJS and as an ES module", async function () {
    const cjs = await run(
      process.execPath,
      [
        "-e",
        'const c = require("@datamarket/contracts"); require("@datamarket/contracts/typechain"); console.log(c.contractNames.length, c.protocolErrorsAbi.length)',
      ],
      { cwd: app },
    );
    const esm = await run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'const c = await import("@datamarket/contracts"); await import("@datamarket/contracts/typechain"); console.log(c.contractNames.length, c.protocolErrorsAbi.length)',
      ],
      { cwd: app },
    );
    expect(esm.stdout).to.equal(cjs.stdout);
    expect(Number(cjs.stdout.split(" ")[0])).to.be.greaterThan(12);
  });

  it("type-checks an app against the packages with zero errors (viem infers types from the ABIs)", async function () {
    const files = ["contracts-app.ts"];
    cpSync(path.join(__dirname, "app"), app, { recursive: true });
    if (installed.has("@datamarket/sdk")) {
      writeFileSync(path.join(app, "quickstart.ts"), codeBlock(path.join(ROOT, "docs", "sdk.md"), "## Quick start"));
      files.push("quickstart.ts");
    } else {
      console.log(`      (the docs/sdk.md quick start is not type-checked: @datamarket/sdk ${waiting.get("@datamarket/sdk") ?? "is not packed"})`);
    }
    writeFileSync(
      path.join(app, "tsconfig.json"),
      JSON.stringify(
        {
          compilerOptions: {
            target: "es2022",
            module: "node16",
            moduleResolution: "node16",
            strict: true,
            noEmit: false,
            outDir: "out",
            types: ["node"],
            skipLibCheck: false,
          },
          files,
        },
        null,
        2,
      ),
    );
    const result = await run("npx", ["tsc", "-p", "tsconfig.json"], { cwd: app }).catch((e: { stdout: string; code: number }) => e);
    expect(result.stdout, result.stdout).to.equal("");
  });

  it("runs the README example of @datamarket/contracts", async function () {
    writeFileSync(path.join(app, "readme-example.mjs"), codeBlock(path.join(ROOT, "packages", "contracts", "README.md")));
    const { stdout } = await run(process.execPath, ["readme-example.mjs"], { cwd: app });
    expect(stdout).to.match(/^ERC20InsufficientAllowance \[\s*'0x5FbDB2315678afecb367f032d93F642f64180aa3',\s*0n,\s*360000000000000000n\s*\]/);
  });

  it("keeps servers and build tools out of the SDK: no fastify, fabric-shim or hardhat under it", function () {
    skipUnless(this, "@datamarket/sdk");
    const under = (node: unknown, found: string[] = [], trail = ""): string[] => {
      for (const [name, child] of Object.entries((node as { dependencies?: Record<string, unknown> }).dependencies ?? {})) {
        if (["fastify", "fabric-shim", "hardhat"].includes(name)) found.push(`${trail}${name}`);
        under(child, found, `${trail}${name} > `);
      }
      return found;
    };
    const sdk = npmLs.dependencies?.["@datamarket/sdk"];
    expect(sdk, "npm ls shows @datamarket/sdk").to.not.equal(undefined);
    expect(under(sdk)).to.deep.equal([]);
  });

  describe("against npm run node (a JSON-RPC process) and broker start", function () {
    let stack: Stack;
    const children: ChildProcess[] = [];

    before(async function () {
      if (!installed.has("@datamarket/sdk")) return;
      stack = await startStack();
      mkdirSync(path.join(app, "deployments"), { recursive: true });
      cpSync(stack.deployment, path.join(app, "deployments", "31337.json"));
    });

    after(async function () {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await stack?.stop();
    });

    /** Runs `node file` until `done(stdout)` or the timeout; returns whether it got there. */
    const runUntil = (args: string[], env: NodeJS.ProcessEnv, done: (out: string) => boolean, timeoutMs: number): Promise<{ ok: boolean; out: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, args, { cwd: app, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
        children.push(child);
        let out = "";
        const finish = (ok: boolean) => {
          clearTimeout(timer);
          child.kill("SIGKILL");
          resolve({ ok, out });
        };
        const timer = setTimeout(() => finish(false), timeoutMs);
        child.stdout!.on("data", (c: Buffer) => {
          out += c;
          if (done(out)) finish(true);
        });
        child.stderr!.on("data", (c: Buffer) => (out += c));
        child.once("close", () => finish(done(out)));
      });

    it(`runs the docs/sdk.md quick start ${QUICKSTART_RUNS} times, each publish received by its subscription`, async function () {
      skipUnless(this, "@datamarket/sdk");
      const source = readFileSync(path.join(app, "quickstart.ts"), "utf8")
        .replaceAll("http://127.0.0.1:8545", stack.rpcUrl)
        .replaceAll("ws://127.0.0.1:7170", stack.wsUrl);
      writeFileSync(path.join(app, "quickstart.ts"), source);
      await run("npx", ["tsc", "-p", "tsconfig.json"], { cwd: app });
      const results: boolean[] = [];
      for (let i = 0; i < QUICKSTART_RUNS; i++) {
        // a fresh wallet each run (the stream path is per creator), accounts 10-19 of the node
        const { ok, out } = await runUntil([path.join("out", "quickstart.js")], { PRIVATE_KEY: account(10 + i) }, (o) => /hello: 'world'/.test(o), 90_000);
        if (!ok) console.log(`      run ${i + 1} failed:\n${out.slice(-2000)}`);
        results.push(ok);
      }
      console.log(`      quick start: ${results.filter(Boolean).length} of ${QUICKSTART_RUNS} runs passed`);
      expect(results.filter(Boolean).length).to.equal(QUICKSTART_RUNS);
    });

    it("walks through the installed datamarket command", async function () {
      skipUnless(this, "@datamarket/cli");
      const bin = path.join(app, "node_modules", ".bin", "datamarket");
      const [seller, buyer] = [account(5), account(6)];
      const provider = new JsonRpcProvider(stack.rpcUrl, undefined, { cacheTimeout: -1 });
      await (
        await DATAToken__factory.connect(stack.record.contracts.DATAToken.address, new Wallet(account(0), provider)).mint(new Wallet(buyer).address, 10n ** 21n)
      ).wait();
      provider.destroy();
      const dm = async (args: string[], key?: string) => {
        const env = { ...process.env, DATAMARKET_RPC_URL: stack.rpcUrl, DATAMARKET_BROKER: stack.wsUrl, ...(key ? { DATAMARKET_PRIVATE_KEY: key } : {}) };
        const r = await run(bin, ["--json", ...args], { cwd: app, env }).catch((e: { stdout: string; stderr: string; code: number }) => e);
        expect((r as { code?: number }).code ?? 0, `datamarket ${args.join(" ")}: ${r.stderr}`).to.equal(0);
        return JSON.parse(r.stdout);
      };
      expect((await dm(["deployment", "verify"])).failed).to.equal(0);
      const { streamId } = await dm(["stream", "create", "/packed/walkthrough", "--public"], seller);
      await dm(["stream", "publish", streamId, '{"step": 1}'], seller);
      expect((await dm(["stream", "resend", streamId, "--last", "1"], buyer)).map((m: { content: unknown }) => m.content)).to.deep.equal([{ step: 1 }]);
      const { productId } = await dm(["product", "create", "--resource", streamId, "--price", "8.64", "--terms-uri", "https://seller.example/terms"], seller);
      const bought = await dm(["product", "buy", productId, "--duration", "1d"], buyer);
      expect(bought.cost).to.equal(String(86_400n * 10n ** 14n));
      expect((await dm(["product", "show", productId], buyer)).yourLicense.status).to.equal("active");
    });
  });
});
