// datamarket wallet create|address|encryption-key
import { existsSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import type { Context } from "../context";
import { usage } from "../errors";
import { fields } from "../output";
import { createKeystore } from "../wallet";
import type { Action } from "../main";

export function walletCommands(program: Command, action: Action): void {
  const wallet = program.command("wallet").description("the wallet's keystore and encryption key");

  wallet
    .command("create <file>")
    .description("create a random wallet in a new encrypted JSON keystore (password from DATAMARKET_KEYSTORE_PASSWORD or asked)")
    .action(
      action(async (ctx: Context, file: string) => {
        const created = await createKeystore(file, ctx.out);
        ctx.out.result(created, (r) =>
          fields([
            ["address", r.address],
            ["keystore", r.keystore],
          ]),
        );
      }),
    );

  wallet
    .command("address")
    .description("the wallet's address")
    .action(
      action(async (ctx: Context) => {
        const address = await ctx.address();
        ctx.out.result({ address }, (r) => r.address);
      }),
    );

  wallet
    .command("encryption-key <file>")
    .description("create an encryption key pair in a new file (mode 0600) and register its public half on the registry")
    .option("--no-register", "only write the file")
    .action(
      action(async (ctx: Context, file: string, opts: { register: boolean }) => {
        if (existsSync(file)) throw usage(`${file} exists: a key file is never overwritten`);
        const { generateKeyPair } = ctx.sdk();
        const pair = generateKeyPair();
        const hex = (b: Uint8Array) => "0x" + Buffer.from(b).toString("hex");
        writeFileSync(file, JSON.stringify({ publicKey: hex(pair.publicKey), privateKey: hex(pair.privateKey) }, null, 2) + "\n", { mode: 0o600, flag: "wx" });
        let block: number | undefined;
        if (opts.register) {
          const registry = await ctx.registryClient();
          ctx.out.progress("registering the public key on the registry: waiting for confirmation");
          block = (await registry.registerEncryptionKey(pair.publicKey)).blockNumber;
        }
        ctx.out.result({ file, publicKey: hex(pair.publicKey), registered: opts.register, block }, (r) =>
          fields([
            ["file", r.file],
            ["public key", r.publicKey],
            ["registered", r.registered ? `yes, block ${r.block}` : "no"],
          ]),
        );
      }),
    );
}
