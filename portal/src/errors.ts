// Errors in words: a reverted call's custom error decoded with @datamarket/contracts' combined error
// ABI (every protocol contract's errors, and OpenZeppelin's they raise), a wallet's refusal, or the
// message of anything else.
import { Interface, isError } from "ethers";
import { protocolErrorsAbi } from "@datamarket/contracts";

const errors = new Interface(protocolErrorsAbi);

/** The revert data (0x…) an ethers or EIP-1193 error carries, if any. */
function revertData(error: unknown): string | undefined {
  const e = error as { data?: unknown; error?: { data?: unknown }; info?: { error?: { data?: unknown } } };
  for (const candidate of [e?.data, e?.error?.data, e?.info?.error?.data]) {
    if (typeof candidate === "string" && /^0x[0-9a-fA-F]{8}/.test(candidate)) return candidate;
    if (typeof candidate === "object" && candidate !== null && typeof (candidate as { data?: unknown }).data === "string")
      return (candidate as { data: string }).data;
  }
  return undefined;
}

/** "ErrorName: arg1 = value, arg2 = value" for a protocol custom error; undefined for other data. */
export function decodeCustomError(data: string): string | undefined {
  try {
    const parsed = errors.parseError(data);
    if (!parsed) return undefined;
    const args = parsed.fragment.inputs.map((input, i) => `${input.name || `arg${i}`} = ${String(parsed.args[i])}`);
    return args.length ? `${parsed.name}: ${args.join(", ")}` : parsed.name;
  } catch {
    return undefined;
  }
}

export function describeError(error: unknown): string {
  const data = revertData(error);
  if (data) {
    const decoded = decodeCustomError(data);
    if (decoded) return `the contract refused: ${decoded}`;
    return `the contract refused with unknown error data ${data.slice(0, 10)}`;
  }
  if ((error as { code?: unknown })?.code === 4001) return "you declined the request in your wallet";
  if (isError(error, "ACTION_REJECTED")) return "you declined the request in your wallet";
  if (isError(error, "NETWORK_ERROR") || isError(error, "SERVER_ERROR")) return `the chain's RPC endpoint did not answer: ${error.shortMessage}`;
  const e = error as { shortMessage?: string; message?: string };
  return e?.shortMessage ?? e?.message ?? String(error);
}
