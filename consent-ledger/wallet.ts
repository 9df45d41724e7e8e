// `@datamarket/consent-ledger/wallet`: the texts a wallet signs for the consent ledger (EIP-4361 sign-in,
// binding proof, signed operation) and canonical JSON, with no Fabric code, so that a browser bundle
// (the portal) can import them without the ledger client.
export * from "./src/wallet-texts";
