// `datamarket`: one commander program, git-style subcommands. Loading this file loads commander and
// the command definitions only: ethers, the SDK and the consent ledger are loaded by the command that
// needs them, so `--help` answers at once.
import { Command, CommanderError, Option } from "commander";
import { Context, DEFAULT_RPC, type GlobalOptions } from "./context";
import { CliError, ExitCode, toCliError } from "./errors";
import { Output } from "./output";
import { streamCommands } from "./commands/stream";
import { datasetCommands } from "./commands/dataset";
import { productCommands } from "./commands/product";
import { consentCommands } from "./commands/consent";
import { deploymentCommands } from "./commands/deployment";
import { walletCommands } from "./commands/wallet";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION = (require("../package.json") as { version: string }).version;

/** Wraps a command's body: builds its Context, maps any error to an exit code, closes what it opened. */
export type Action = <A extends unknown[]>(body: (ctx: Context, ...args: A) => Promise<void>) => (...args: unknown[]) => Promise<void>;

const ENVIRONMENT = `
Environment:
  DATAMARKET_PRIVATE_KEY        the wallet's private key (hex), or:
  DATAMARKET_KEYSTORE           an encrypted JSON keystore (datamarket wallet create)
  DATAMARKET_KEYSTORE_PASSWORD  its password (asked on the terminal when unset)
  DATAMARKET_ENCRYPTION_KEY     the private half of your registered encryption key (hex)
  DATAMARKET_RPC_URL, DATAMARKET_DEPLOYMENT, DATAMARKET_BROKER, DATAMARKET_LEDGER   defaults of the options

Exit codes: 0 done, 1 unexpected failure, 2 usage, 3 configuration (wallet, keystore, deployment
record), 4 a service did not answer (node, broker, bridge, ledger), 5 refused (revert, broker,
ledger, no licence), 6 not found, 7 a check failed (verify, content hash), 130 interrupted.
Docs: docs/cli.md`;

export function buildProgram(exit: { code: number }): Command {
  const program = new Command("datamarket")
    .description("The DATA marketplace from the command line: streams, datasets, products, consent, deployments.")
    .version(VERSION, "-V, --version")
    .addOption(new Option("--rpc <url>", "JSON-RPC node").env("DATAMARKET_RPC_URL").default(DEFAULT_RPC))
    .addOption(
      new Option("--deployment <file>", "deployment record (default ./deployments/<chainId>.json, else the one @datamarket/contracts ships)").env(
        "DATAMARKET_DEPLOYMENT",
      ),
    )
    .addOption(new Option("--broker <url>", "one broker's WebSocket URL (default: the brokers the coordinator assigns)").env("DATAMARKET_BROKER"))
    .option("--keystore <file>", "encrypted JSON keystore of the wallet (or DATAMARKET_KEYSTORE)")
    .option("--confirmations <n>", "blocks to wait for after each transaction", "1")
    .option("--json", "print results as JSON (errors too, on stdout, with the exit code)")
    .option("-q, --quiet", "no progress on stderr")
    .addHelpText("after", ENVIRONMENT)
    .showHelpAfterError("(datamarket --help lists the commands)")
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  const action: Action =
    (body) =>
    async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const global = command.optsWithGlobals() as Record<string, unknown>;
      const options: GlobalOptions = {
        rpc: String(global.rpc ?? DEFAULT_RPC),
        deployment: global.deployment as string | undefined,
        broker: global.broker as string | undefined,
        keystore: global.keystore as string | undefined,
        json: Boolean(global.json),
        quiet: Boolean(global.quiet),
        confirmations: Number(global.confirmations ?? 1),
      };
      const out = new Output({ json: options.json, quiet: options.quiet });
      const ctx = new Context(options, out);
      const interrupted = new Promise<number>((resolve) => {
        const onSignal = () => {
          const handler = ctx.interruptHandler;
          if (handler) handler();
          else resolve(ExitCode.INTERRUPTED);
        };
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
      });
      try {
        if (!Number.isSafeInteger(options.confirmations) || options.confirmations < 1)
          throw new CliError(ExitCode.USAGE, "USAGE", "--confirmations must be a positive integer");
        const code = await Promise.race([
          (body as (ctx: Context, ...rest: unknown[]) => Promise<void>)(ctx, ...args.slice(0, -1)).then(() => ctx.exitCode ?? (ExitCode.OK as number)),
          interrupted,
        ]);
        exit.code = code;
        if (code === ExitCode.INTERRUPTED) out.note("interrupted");
      } catch (error) {
        const e = toCliError(error);
        out.error(e.code, e.shortMessage, e.details, e.exitCode);
        if (process.env.DATAMARKET_DEBUG && e.cause) process.stderr.write(`${(e.cause as Error).stack ?? e.cause}\n`);
        exit.code = e.exitCode;
      } finally {
        await ctx.close();
      }
    };

  streamCommands(program, action);
  datasetCommands(program, action);
  productCommands(program, action);
  consentCommands(program, action);
  deploymentCommands(program, action);
  walletCommands(program, action);
  return program;
}

/** Runs the command line; sets the exit code and ends the process when the command is done. */
export async function run(argv: string[]): Promise<void> {
  const exit = { code: ExitCode.OK as number };
  const program = buildProgram(exit);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      process.exit(ExitCode.USAGE);
    }
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with code 0; a usage error with 2 (commander printed the message)
      process.exit(error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE);
    }
    process.stderr.write(`datamarket: ${(error as Error).stack ?? error}\n`);
    process.exit(ExitCode.FAILURE);
  }
  // Open handles (a WebSocket's timers, a provider's polling) must not keep a finished command alive.
  process.exit(exit.code);
}
