// What a wallet signs for a ledger-changing operation of the consent API: the consent ledger's own
// signed-operation text (chaincode/src/walletauth.ts), which the ledger checks; the API only relays it.
// The text names the ledger, the wallet's binding, the operation and its exact (canonical JSON)
// arguments, a single-use nonce and an expiry: nothing of what the ledger acts on is left unsigned.
import { canonicalJson, signedOperationText, type SignedOperationRequest } from "@datamarket/consent-ledger/wallet";

/** How long a signed operation stays good, seconds (the ledger accepts at most 600). */
export const OPERATION_LIFETIME_SECONDS = 300;

/** A signed operation as POST /v1/operations and POST /v1/access-requests take it (the ledger's SubmitSigned argument). */
export type SignedOperationBody = SignedOperationRequest;

/** 16 random bytes as 32 hex characters. */
export function newNonce(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Builds the operation's text, has `sign` (the wallet's personal_sign) sign it, and returns the body to send. */
export async function signOperation(
  sign: (text: string) => Promise<string>,
  o: { ledger: string; bindingId: string; address: string; party: string; operation: string; args: Record<string, unknown>; now?: number },
): Promise<SignedOperationBody> {
  const address = o.address.toLowerCase();
  const nonce = newNonce();
  const expires = Math.floor((o.now ?? Date.now()) / 1000) + OPERATION_LIFETIME_SECONDS;
  const text = signedOperationText({
    ledger: o.ledger,
    binding: o.bindingId,
    address,
    party: o.party,
    operation: o.operation,
    arguments: canonicalJson(o.args),
    nonce,
    expires,
  });
  return { address, party: o.party, operation: o.operation, arguments: o.args, nonce, expires, signature: await sign(text) };
}
