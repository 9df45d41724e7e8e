// Endorsement policy evaluation for the in-process peer: a SignaturePolicyEnvelope (as fabric-shim's
// KeyEndorsementPolicy writes for key-level policies) is satisfied by the set of organisations whose
// peers endorsed the transaction.
import { common, msp } from "@hyperledger/fabric-protos";

/** The state metadata key under which Fabric keeps a key-level endorsement policy. */
export const VALIDATION_PARAMETER = "VALIDATION_PARAMETER";

function satisfied(rule: common.SignaturePolicy, identities: string[], endorsers: ReadonlySet<string>): boolean {
  if (rule.getTypeCase() === common.SignaturePolicy.TypeCase.SIGNED_BY) {
    const mspId = identities[rule.getSignedBy()];
    return mspId !== undefined && endorsers.has(mspId);
  }
  const nOutOf = rule.getNOutOf();
  if (!nOutOf) {
    return false;
  }
  const met = nOutOf.getRulesList().filter((sub) => satisfied(sub, identities, endorsers)).length;
  return met >= nOutOf.getN();
}

/**
 * True when peers of `endorsers` (MSP ids) satisfy the serialized SignaturePolicyEnvelope. A peer of an
 * organisation satisfies its MEMBER and PEER principals; other principal kinds are not supported and
 * never satisfied.
 */
export function policySatisfied(envelopeBytes: Uint8Array, endorsers: ReadonlySet<string>): boolean {
  const envelope = common.SignaturePolicyEnvelope.deserializeBinary(envelopeBytes);
  const identities = envelope.getIdentitiesList().map((principal) => {
    if (principal.getPrincipalClassification() !== msp.MSPPrincipal.Classification.ROLE) {
      return "\u0000unsupported";
    }
    const role = msp.MSPRole.deserializeBinary(principal.getPrincipal_asU8());
    const accepted = [msp.MSPRole.MSPRoleType.MEMBER, msp.MSPRole.MSPRoleType.PEER] as number[];
    return accepted.includes(role.getRole()) ? role.getMspIdentifier() : "\u0000unsupported";
  });
  const rule = envelope.getRule();
  return rule !== undefined && satisfied(rule, identities, endorsers);
}
