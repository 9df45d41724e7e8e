// Typed errors of the bridge, each extending the protocol's error base class (DataMarketError: a
// `code`, `shortMessage`, `details`, the original error as `cause`). Its HTTP API answers
// { statusCode, code, message } with HttpErrorCode; the client helper throws BridgeClientError
// (documented in docs/market.md). Both come from @datamarket/consent-attestation, the published
// client, so that a bridge and a buyer see one class and one set of codes.
import { DataMarketError } from "@datamarket/protocol";
import { problemText, type ConfigProblem } from "@datamarket/consent-ledger/config";

export { BridgeClientError, ClientErrorCode, HttpErrorCode, type BridgeFailure } from "@datamarket/consent-attestation";

/** One thing wrong with a configuration: the setting, the environment variable it came from (if any), what is wrong. */
export type { ConfigProblem };

/**
 * Configuration errors name every setting that was wrong (the CLI exits with status 2): code
 * INVALID_CONFIG, `shortMessage` one `field (ENV): problem` line per problem, `problems` (also in
 * `details.problems`) the list.
 */
export class BridgeConfigError extends DataMarketError<"INVALID_CONFIG"> {
  override name = "BridgeConfigError";

  constructor(
    readonly problems: ConfigProblem[],
    options: { cause?: unknown } = {},
  ) {
    super("INVALID_CONFIG", problems.map(problemText).join("\n"), { details: { problems }, cause: options.cause, docsPath: "market.md" });
  }

  /** A single problem (`cause`: the error that revealed it, kept). */
  static of(field: string, message: string, env?: string, options: { cause?: unknown } = {}): BridgeConfigError {
    return new BridgeConfigError([{ field, env, message }], options);
  }
}
