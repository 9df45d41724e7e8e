// Exit codes and the mapping of every error the command can meet (its own, the SDK's, ethers', the
// deployment record's, the consent ledger's) to one code a script can act on. docs/cli.md lists them.
import { DataMarketError, isDataMarketError } from "@datamarket/protocol";

/** The process exit codes of `datamarket` (docs/cli.md, "Exit codes"). */
export const ExitCode = {
  /** Done. */
  OK: 0,
  /** An unexpected failure (a bug, or an error no other code describes); the message says what. */
  FAILURE: 1,
  /** Wrong usage: unknown command or option, missing or malformed argument. */
  USAGE: 2,
  /** Missing or wrong configuration: no wallet, a keystore that does not open, no deployment record for the chain. */
  CONFIG: 3,
  /** A service did not answer: the JSON-RPC node, a broker, a consent bridge, the consent ledger. */
  UNAVAILABLE: 4,
  /** Refused: a contract reverted (the custom error is named), a broker or the ledger said no, no licence. */
  REFUSED: 5,
  /** What was named does not exist: stream, dataset, product, consent, grant. */
  NOT_FOUND: 6,
  /** A check failed: `deployment verify` found a mismatch, a dataset does not match its registered hash. */
  CHECK_FAILED: 7,
  /** Stopped by SIGINT (Ctrl-C) or SIGTERM before it finished. */
  INTERRUPTED: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error the command reports: a stable code, a message, details for --json, the exit code. Extends
 * the protocol's error base class: the command prints `shortMessage` (`datamarket: <message> [CODE]`),
 * `message` is `"CODE: <message>"`, the error it was made from is kept as `cause`.
 */
export class CliError extends DataMarketError<string> {
  override name = "CliError";

  constructor(
    readonly exitCode: ExitCodeValue,
    code: string,
    message: string,
    details: Record<string, unknown> = {},
    options: { cause?: unknown } = {},
  ) {
    super(code, message, { details, cause: options.cause, docsPath: "cli.md#exit-codes" });
  }
}

export const usage = (message: string, details: Record<string, unknown> = {}) => new CliError(ExitCode.USAGE, "USAGE", message, details);
export const config = (message: string, details: Record<string, unknown> = {}) => new CliError(ExitCode.CONFIG, "CONFIG", message, details);
export const notFound = (message: string, details: Record<string, unknown> = {}) => new CliError(ExitCode.NOT_FOUND, "NOT_FOUND", message, details);

const SDK_EXIT: Record<string, ExitCodeValue> = {
  INVALID_ARGUMENT: ExitCode.USAGE,
  INVALID_KEY: ExitCode.USAGE,
  INVALID_DEPLOYMENT: ExitCode.CONFIG,
  CHAIN_UNAVAILABLE: ExitCode.UNAVAILABLE,
  BROKER_ERROR: ExitCode.REFUSED,
  NOT_LICENSED: ExitCode.REFUSED,
  PUBLISHER_NOT_ALLOWED: ExitCode.REFUSED,
  CONTENT_HASH_MISMATCH: ExitCode.CHECK_FAILED,
  DECRYPTION_FAILED: ExitCode.CHECK_FAILED,
  INVALID_SIGNATURE: ExitCode.CHECK_FAILED,
  MALFORMED_MESSAGE: ExitCode.CHECK_FAILED,
};
const BROKER_UNAVAILABLE = new Set(["DISCONNECTED", "TIMEOUT", "SHUTTING_DOWN"]);
/** The consent ledger's codes (chaincode and client); any other is a refusal (FORBIDDEN, INVALID_TRANSITION, ...). */
const LEDGER_EXIT: Record<string, ExitCodeValue> = {
  NOT_FOUND: ExitCode.NOT_FOUND,
  INVALID_ARGUMENT: ExitCode.USAGE,
  BAD_JSON: ExitCode.USAGE,
  UNKNOWN_PURPOSE: ExitCode.USAGE,
  EMPTY_LIST: ExitCode.USAGE,
  ARGUMENT_TOO_LARGE: ExitCode.USAGE,
  ENDORSEMENT_FAILED: ExitCode.UNAVAILABLE,
};

interface Coded {
  code?: unknown;
  details?: Record<string, unknown>;
  data?: unknown;
  reason?: unknown;
  shortMessage?: unknown;
  info?: { error?: { message?: string } };
  cause?: unknown;
}

/** The custom error in revert data, decoded with every error of the protocol (@datamarket/contracts). */
function decodeRevert(data: unknown): { name: string; args: string[]; signature: string } | null {
  if (typeof data !== "string" || data.length < 10) return null;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Interface } = require("ethers") as typeof import("ethers");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { protocolErrorsAbi } = require("@datamarket/contracts") as typeof import("@datamarket/contracts");
  const parsed = new Interface(protocolErrorsAbi).parseError(data);
  return parsed ? { name: parsed.name, args: parsed.args.map((a: unknown) => String(a)), signature: parsed.signature } : null;
}

function isConnectionRefused(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as Coded).cause, depth++) {
    const code = (e as Coded).code;
    if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "ECONNRESET" || code === "UND_ERR_CONNECT_TIMEOUT") return true;
    if (e instanceof Error && /ECONNREFUSED|fetch failed|connect ETIMEDOUT/.test(e.message)) return true;
  }
  return false;
}

/** Any thrown value as a CliError (the original kept as `cause`). */
export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  const e = (error ?? {}) as Coded & Error;
  // an error of an @datamarket package says its code apart: its message without the code prefix
  const message = isDataMarketError(error) ? error.shortMessage : e instanceof Error ? e.message : String(error);
  const name = e instanceof Error ? e.name : "";
  // the deployment record (@datamarket/contracts)
  if (name === "DeploymentRecordError") return new CliError(ExitCode.CONFIG, "INVALID_DEPLOYMENT", message, {}, { cause: error });
  // ethers: a revert, with the custom error decoded through the protocol's combined errors
  if (e.code === "CALL_EXCEPTION") {
    const decoded = decodeRevert(e.data);
    const reason = decoded ? `${decoded.name}(${decoded.args.join(", ")})` : typeof e.reason === "string" ? e.reason : "no reason given";
    return new CliError(
      ExitCode.REFUSED,
      "REVERTED",
      `the contract reverted: ${reason}`,
      { error: decoded?.name ?? null, args: decoded?.args ?? [], data: e.data ?? null },
      { cause: error },
    );
  }
  if (e.code === "INSUFFICIENT_FUNDS") return new CliError(ExitCode.REFUSED, "INSUFFICIENT_FUNDS", "the wallet cannot pay for gas", {}, { cause: error });
  if (e.code === "NONCE_EXPIRED" || e.code === "REPLACEMENT_UNDERPRICED") return new CliError(ExitCode.REFUSED, String(e.code), message, {}, { cause: error });
  if (isConnectionRefused(error) || e.code === "NETWORK_ERROR" || e.code === "TIMEOUT") {
    return new CliError(ExitCode.UNAVAILABLE, "UNAVAILABLE", `a service did not answer: ${message.split("\n")[0]}`, {}, { cause: error });
  }
  // the SDK's errors (SdkError: code, details)
  if (name === "SdkError" && typeof e.code === "string") {
    const brokerCode = e.details?.brokerCode;
    const exit =
      e.code === "BROKER_ERROR" && typeof brokerCode === "string" && BROKER_UNAVAILABLE.has(brokerCode)
        ? ExitCode.UNAVAILABLE
        : (SDK_EXIT[e.code] ?? ExitCode.FAILURE);
    return new CliError(exit, e.code, message, e.details ?? {}, { cause: error });
  }
  // the consent ledger's client errors (ConsentClientError: code, chaincode's details)
  if (name === "ConsentClientError" && typeof e.code === "string") {
    const transactionId = (error as { transactionId?: string }).transactionId;
    return new CliError(LEDGER_EXIT[e.code] ?? ExitCode.REFUSED, e.code, message, transactionId ? { transactionId } : {}, { cause: error });
  }
  return new CliError(ExitCode.FAILURE, "FAILURE", message, {}, { cause: error });
}
