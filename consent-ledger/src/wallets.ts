// What a ledger party's wallet signs to be bound to it (WalletContract.BindWallet), computed from the
// party's enrolled identity: its party name and the exact binding text, and the binding itself for a
// wallet whose key is at hand (the demo's and the tests' wallets; a person's wallet signs the text).
import { sha256Hex } from "@datamarket/consent-chaincode/src/canonical";
import { partyName, walletBindingText } from "@datamarket/consent-chaincode/src/walletauth";
import type { ConsentLedgerClient, WalletBinding } from "./client/client";
import { fabricClientId, type EnrolledIdentity } from "./fabric/identity";

/** The party name an identity binds a wallet to: `subject:<id>` for a subject identity, `buyer:<key>` / `custodian:<key>` for a buyer's or a custodian's. */
export function partyOf(identity: Pick<EnrolledIdentity, "mspId" | "certificatePem" | "attributes">): string {
  const role = identity.attributes["consent.role"];
  if (role === "subject") return partyName("subject", identity.attributes["consent.subject"] ?? "");
  if (role === "buyer" || role === "custodian") return partyName(role, sha256Hex(`${identity.mspId}\n${fabricClientId(identity.certificatePem)}`));
  throw new Error(`an identity of role ${role ?? "(none)"} binds no wallet: only subjects, buyers and custodians do`);
}

/** The exact text the wallet signs (personal_sign) so that `identity` can bind it on channel `ledger`. */
export function bindingTextFor(
  identity: Pick<EnrolledIdentity, "mspId" | "certificatePem" | "attributes">,
  address: string,
  expires: number,
  ledger: string,
): string {
  return walletBindingText({
    ledger,
    address: address.toLowerCase(),
    party: partyOf(identity),
    mspId: identity.mspId,
    clientId: fabricClientId(identity.certificatePem),
    expires,
  });
}

/**
 * Binds the wallet of `sign` (an EIP-191 signer, e.g. ethers' Wallet.signMessage) to `identity`'s party,
 * submitted by `client` acting as that identity. `now` is the ledger clock in unix seconds.
 */
export async function bindWallet(
  client: ConsentLedgerClient,
  identity: Pick<EnrolledIdentity, "mspId" | "certificatePem" | "attributes">,
  wallet: { address: string; signMessage(text: string): Promise<string> },
  o: { ledger: string; now: number },
): Promise<WalletBinding> {
  const expires = o.now + 300;
  const signature = await wallet.signMessage(bindingTextFor(identity, wallet.address, expires, o.ledger));
  return client.bindWallet({ address: wallet.address, expires, signature });
}
