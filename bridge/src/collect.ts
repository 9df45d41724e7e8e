// Collecting k-of-n attestor signatures from bridges, for buyers, the SDK, the demo and the relayer:
// @datamarket/consent-attestation's client (one implementation, the published one).
export {
  collectAttestation,
  collectRevocation,
  type CollectOptions,
  type Collected,
  type CollectedAttestation,
  type CollectedRevocation,
} from "@datamarket/consent-attestation";
