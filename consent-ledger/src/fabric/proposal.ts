// Client side of a Fabric proposal: builds and signs a SignedProposal exactly as a Fabric SDK does
// (ChannelHeader ENDORSER_TRANSACTION, SignatureHeader with creator and nonce, txId = sha256(nonce ‖ creator)).
import { common, msp, peer } from "@hyperledger/fabric-protos";
import { Timestamp } from "google-protobuf/google/protobuf/timestamp_pb";
import { randomBytes } from "node:crypto";
import { Identity, MessageSigner, Signer } from "./identity";
import { sha256 } from "./worldstate";

export interface ProposalRequest {
  channelName: string;
  chaincodeName: string;
  /** "contract:Transaction" or "Transaction" for the default contract */
  functionName: string;
  args: Array<string | Uint8Array>;
  transientData?: Record<string, string | Uint8Array>;
  identity: Identity;
  /** proposal timestamp, milliseconds since the epoch */
  timestampMillis: number;
}

export interface UnsignedProposal {
  transactionId: string;
  /** serialized peer.Proposal */
  proposalBytes: Uint8Array;
}

const toBytes = (value: string | Uint8Array): Uint8Array => (typeof value === "string" ? Buffer.from(value, "utf8") : value);

export function serializedIdentity(identity: Identity): Uint8Array {
  const serialized = new msp.SerializedIdentity();
  serialized.setMspid(identity.mspId);
  serialized.setIdBytes(identity.credentials);
  return serialized.serializeBinary();
}

export function buildProposal(request: ProposalRequest): UnsignedProposal {
  const creator = serializedIdentity(request.identity);
  const nonce = randomBytes(24);
  const transactionId = sha256(Buffer.concat([nonce, creator])).toString("hex");

  const chaincodeId = new peer.ChaincodeID();
  chaincodeId.setName(request.chaincodeName);
  const extension = new peer.ChaincodeHeaderExtension();
  extension.setChaincodeId(chaincodeId);

  const timestamp = new Timestamp();
  timestamp.setSeconds(Math.floor(request.timestampMillis / 1000));
  timestamp.setNanos((request.timestampMillis % 1000) * 1_000_000);

  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(common.HeaderType.ENDORSER_TRANSACTION);
  channelHeader.setChannelId(request.channelName);
  channelHeader.setTxId(transactionId);
  channelHeader.setEpoch(0);
  channelHeader.setTimestamp(timestamp);
  channelHeader.setExtension$(extension.serializeBinary());

  const signatureHeader = new common.SignatureHeader();
  signatureHeader.setCreator(creator);
  signatureHeader.setNonce(nonce);

  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  header.setSignatureHeader(signatureHeader.serializeBinary());

  const input = new peer.ChaincodeInput();
  input.setArgsList([Buffer.from(request.functionName, "utf8"), ...request.args.map(toBytes)]);
  const spec = new peer.ChaincodeSpec();
  spec.setType(peer.ChaincodeSpec.Type.NODE);
  spec.setChaincodeId(chaincodeId);
  spec.setInput(input);
  const invocation = new peer.ChaincodeInvocationSpec();
  invocation.setChaincodeSpec(spec);

  const payload = new peer.ChaincodeProposalPayload();
  payload.setInput(invocation.serializeBinary());
  const transient = payload.getTransientmapMap();
  for (const [name, value] of Object.entries(request.transientData ?? {})) {
    transient.set(name, toBytes(value));
  }

  const proposal = new peer.Proposal();
  proposal.setHeader(header.serializeBinary());
  proposal.setPayload(payload.serializeBinary());
  return { transactionId, proposalBytes: proposal.serializeBinary() };
}

/** Signs sha256(proposal bytes) (or the bytes, with a message signer) and wraps it in a SignedProposal. */
export async function signProposal(proposal: UnsignedProposal, signer: Signer | { message: MessageSigner }): Promise<Uint8Array> {
  const signed = new peer.SignedProposal();
  signed.setProposalBytes(proposal.proposalBytes);
  signed.setSignature(typeof signer === "function" ? await signer(sha256(proposal.proposalBytes)) : await signer.message(proposal.proposalBytes));
  return signed.serializeBinary();
}
