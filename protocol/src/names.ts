// Stream names (docs/contracts.md §7): the form in which the StreamNames contract takes an ENS name.

import { ens_normalize } from "@adraffy/ens-normalize";
import { ProtocolError, ProtocolErrorCodes } from "./errors";

/**
 * A name as StreamNames takes it: ENSIP-15 normalised (@adraffy/ens-normalize, the library ethers and
 * viem use), then ASCII labels of a-z 0-9 - only, none with "--" as 3rd and 4th characters, 255 bytes
 * at most. Throws INVALID_ARGUMENT saying what is wrong.
 */
export function normalizeStreamName(name: string): string {
  let normalized: string;
  try {
    normalized = ens_normalize(name);
  } catch (err) {
    throw new ProtocolError(ProtocolErrorCodes.INVALID_ARGUMENT, `"${name}" is not a valid ENS name: ${(err as Error).message}`, { name }, { cause: err });
  }
  if (
    !/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(normalized) ||
    normalized.length > 255 ||
    normalized.split(".").some((l) => l.length >= 4 && l.slice(2, 4) === "--")
  ) {
    throw new ProtocolError(
      ProtocolErrorCodes.INVALID_ARGUMENT,
      `"${name}" is not a stream name: ASCII labels of a-z 0-9 - only, 255 bytes at most, no "--" as 3rd and 4th characters`,
      { name },
    );
  }
  return normalized;
}
