// The combined custom errors of the protocol, and a helper that adds them to a contract's ABI so that
// a revert raised by a contract it calls (the token's ERC20InsufficientAllowance under the market, the
// registry's InvalidEncryptionKey) decodes instead of showing as an unknown custom error.
import { protocolErrorsAbi } from "./generated/protocolErrors.js";

export { protocolErrorsAbi };

interface AbiParameterLike {
  readonly type: string;
  readonly components?: readonly AbiParameterLike[];
}
interface AbiItemLike {
  readonly type: string;
  readonly name?: string;
  readonly inputs?: readonly AbiParameterLike[];
}

function canonicalType(parameter: AbiParameterLike): string {
  if (!parameter.type.startsWith("tuple")) return parameter.type;
  return `(${(parameter.components ?? []).map(canonicalType).join(",")})${parameter.type.slice("tuple".length)}`;
}

/** `Name(type1,type2)`: the text whose keccak-256 gives the error's selector. */
export function errorSignature(item: AbiItemLike): string {
  return `${item.name ?? ""}(${(item.inputs ?? []).map(canonicalType).join(",")})`;
}

/**
 * `abi` followed by every protocol error it does not already declare (same signature): pass the
 * result to ethers' `Interface`/`Contract` or viem's `decodeErrorResult`/`getContract`.
 */
export function withProtocolErrors<const A extends readonly unknown[]>(abi: A): readonly [...A, ...typeof protocolErrorsAbi] {
  const declared = new Set((abi as readonly AbiItemLike[]).filter((item) => item.type === "error").map(errorSignature));
  const missing = protocolErrorsAbi.filter((item) => !declared.has(errorSignature(item)));
  return [...abi, ...missing] as unknown as readonly [...A, ...typeof protocolErrorsAbi];
}
