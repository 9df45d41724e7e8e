// The source of randomness for keys and nonces. Injectable so that the test vectors can fix
// ephemeral keys and nonces; production code always uses the default (node:crypto CSPRNG).

import { randomBytes } from "node:crypto";

/** Returns `length` random bytes. */
export type RandomSource = (length: number) => Uint8Array;

export const defaultRandom: RandomSource = (length) => randomBytes(length);

/**
 * A RandomSource that returns the given byte strings in order (each request must ask for exactly
 * the next one's length). For test vectors only: never use fixed randomness to encrypt real data.
 */
export function fixedRandom(values: Uint8Array[]): RandomSource {
  let next = 0;
  return (length) => {
    const value = values[next++];
    if (value === undefined) throw new Error(`fixedRandom: no value left for request #${next}`);
    if (value.length !== length) throw new Error(`fixedRandom: request #${next} wants ${length} bytes, the vector has ${value.length}`);
    return value;
  };
}
