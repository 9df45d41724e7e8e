// Key-exchange messages (request, response, error): exact byte layouts, EIP-191 signatures.
// Specification: docs/protocol.md, section "Key exchange"; vectors: test-vectors/key-exchange.json.

import { ByteReader, ByteWriter, bytesToUtf8, concatBytes, equalBytes, hexOf, hexToBytes, toHex, utf8ToBytes } from "../bytes";
import { assertCompressedPublicKey, defaultRandom, ethSignedMessageHash, keccak256, recoverAddress, type RandomSource } from "../crypto";
import { ProtocolError, ProtocolErrorCodes } from "../errors";
import { normalizeSignature, type MessageSigner } from "../signer";
import { unwrapEntry, wrapForRecipients, type EciesRecipient, type WrappedEntry } from "./ecies";
import { GCM_NONCE_LENGTH, GCM_TAG_LENGTH, GroupKey } from "./groupKey";

export const KX_MAGIC = utf8ToBytes("DMKX");
export const KX_VERSION = 1;
export const KxType = { REQUEST: 1, RESPONSE: 2, ERROR: 3 } as const;
/** Error codes carried by a key-exchange error message (uint8). */
export const KxErrorCode = {
  /** The requester has neither the subscribe permission nor a valid licence (and consent grant). */
  NOT_AUTHORIZED: 1,
  /** The publisher does not hold (or no longer serves) a requested group key. */
  UNKNOWN_GROUP_KEY: 2,
  /** The requester's key differs from the one registered for its address in the stream registry. */
  ENCRYPTION_KEY_MISMATCH: 3,
  /** The requester has no encryption key registered. */
  NO_REGISTERED_KEY: 4,
} as const;

export const MAX_KEYS_PER_MESSAGE = 256;
export const MAX_RECIPIENTS_PER_MESSAGE = 65535;
const SIGNATURE_LENGTH = 65;
const ZERO_REQUEST_ID = "0x" + "00".repeat(16);

export interface GroupKeyRequest {
  type: "request";
  /** 0x + 32 hex, random, non-zero. */
  requestId: string;
  streamId: string;
  /** The publisher whose group keys are asked for. */
  publisher: string;
  /** The requester; the signature must recover to it. */
  subscriber: string;
  /** Unix ms. */
  timestamp: number;
  /** The requester's 33-byte compressed key; the publisher only uses it if it equals the registered one. */
  subscriberPublicKey: Uint8Array;
  groupKeyIds: string[];
}

export interface GroupKeyResponse {
  type: "response";
  /** Zero for an unsolicited response (a rekey or announcement). */
  requestId: string;
  streamId: string;
  publisher: string;
  timestamp: number;
  ephemeralPublicKey: Uint8Array;
  groupKeyIds: string[];
  entries: WrappedEntry[];
}

export interface GroupKeyError {
  type: "error";
  requestId: string;
  streamId: string;
  publisher: string;
  subscriber: string;
  timestamp: number;
  code: number;
  groupKeyIds: string[];
  message: string;
}

export type KeyExchangeMessage = GroupKeyRequest | GroupKeyResponse | GroupKeyError;
/** A decoded message with its signer checked (`signer` = the recovered address). */
export type SignedKeyExchangeMessage = KeyExchangeMessage & { signer: string; bytes: Uint8Array };

function malformed(message: string, details: Record<string, unknown> = {}): ProtocolError {
  return new ProtocolError(ProtocolErrorCodes.MALFORMED_MESSAGE, message, details);
}

function writeHeader(w: ByteWriter, type: number): void {
  w.bytes(KX_MAGIC).u8(KX_VERSION).u8(type);
}

function writeKeyIds(w: ByteWriter, ids: string[]): void {
  if (ids.length < 1 || ids.length > MAX_KEYS_PER_MESSAGE) throw malformed(`a message carries 1..${MAX_KEYS_PER_MESSAGE} group-key ids, got ${ids.length}`);
  w.u16(ids.length);
  for (const id of ids) w.bytes(hexToBytes(id, 32, "groupKeyId"));
}

function readKeyIds(r: ByteReader): string[] {
  const n = r.u16("keyCount");
  if (n < 1 || n > MAX_KEYS_PER_MESSAGE) throw malformed(`keyCount must be 1..${MAX_KEYS_PER_MESSAGE}, got ${n}`, { field: "keyCount", value: n });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(toHex(r.bytes(32, "groupKeyId")));
  return ids;
}

/** Bytes of a request without its signature. */
export function encodeRequestBody(m: Omit<GroupKeyRequest, "type">): Uint8Array {
  const w = new ByteWriter();
  writeHeader(w, KxType.REQUEST);
  if (m.requestId === ZERO_REQUEST_ID) throw malformed("a request's requestId must be non-zero");
  assertCompressedPublicKey(m.subscriberPublicKey, "subscriberPublicKey");
  w.bytes(hexToBytes(m.requestId, 16, "requestId"))
    .bytes(hexToBytes(m.streamId, 32, "streamId"))
    .bytes(hexToBytes(m.publisher, 20, "publisher"))
    .bytes(hexToBytes(m.subscriber, 20, "subscriber"))
    .u64(m.timestamp)
    .bytes(m.subscriberPublicKey);
  writeKeyIds(w, m.groupKeyIds);
  return w.finish();
}

/** The part of a response that every entry's AAD starts with: from the magic to the last group-key id. */
function encodeResponseHeader(m: Omit<GroupKeyResponse, "type" | "entries">): Uint8Array {
  const w = new ByteWriter();
  writeHeader(w, KxType.RESPONSE);
  assertCompressedPublicKey(m.ephemeralPublicKey, "ephemeralPublicKey");
  w.bytes(hexToBytes(m.requestId, 16, "requestId"))
    .bytes(hexToBytes(m.streamId, 32, "streamId"))
    .bytes(hexToBytes(m.publisher, 20, "publisher"))
    .u64(m.timestamp)
    .bytes(m.ephemeralPublicKey);
  writeKeyIds(w, m.groupKeyIds);
  return w.finish();
}

/** AAD of a response entry = response header ‖ recipient address (20). */
export function entryAad(header: Uint8Array, address: string): Uint8Array {
  return concatBytes(header, hexToBytes(address, 20, "recipient address"));
}

export function encodeResponseBody(m: Omit<GroupKeyResponse, "type">): Uint8Array {
  if (m.entries.length < 1 || m.entries.length > MAX_RECIPIENTS_PER_MESSAGE)
    throw malformed(`a response has 1..${MAX_RECIPIENTS_PER_MESSAGE} recipients, got ${m.entries.length}`);
  const sealedLength = 32 * m.groupKeyIds.length + GCM_TAG_LENGTH;
  const w = new ByteWriter().bytes(encodeResponseHeader(m)).u16(m.entries.length);
  for (const e of m.entries) {
    if (e.nonce.length !== GCM_NONCE_LENGTH || e.sealed.length !== sealedLength) throw malformed(`entry for ${e.address} has the wrong nonce or sealed length`);
    w.bytes(hexToBytes(e.address, 20, "recipient address"))
      .bytes(e.nonce)
      .bytes(e.sealed);
  }
  return w.finish();
}

export function encodeErrorBody(m: Omit<GroupKeyError, "type">): Uint8Array {
  const text = utf8ToBytes(m.message);
  if (text.length > 1024) throw malformed(`error message of ${text.length} bytes exceeds 1024`);
  const w = new ByteWriter();
  writeHeader(w, KxType.ERROR);
  w.bytes(hexToBytes(m.requestId, 16, "requestId"))
    .bytes(hexToBytes(m.streamId, 32, "streamId"))
    .bytes(hexToBytes(m.publisher, 20, "publisher"))
    .bytes(hexToBytes(m.subscriber, 20, "subscriber"))
    .u64(m.timestamp)
    .u8(m.code);
  writeKeyIds(w, m.groupKeyIds);
  w.u16(text.length).bytes(text);
  return w.finish();
}

/** digest = EIP-191 personal-message hash of keccak256(body): what `Signer.signMessage(bodyHash)` signs. */
export function messageDigest(body: Uint8Array): string {
  return toHex(ethSignedMessageHash(keccak256(body)));
}

/** Appends the sender's signature: message = body ‖ signature (r ‖ s ‖ v, v ∈ {27, 28}, low s). */
export async function signBody(body: Uint8Array, signer: MessageSigner): Promise<Uint8Array> {
  return concatBytes(body, normalizeSignature(await signer.signMessage(keccak256(body))));
}

function recoverSigner(body: Uint8Array, signature: Uint8Array): string {
  const recovered = recoverAddress(ethSignedMessageHash(keccak256(body)), signature);
  if (recovered === null) throw new ProtocolError(ProtocolErrorCodes.INVALID_SIGNATURE, "signature is malformed, high-s or does not recover");
  return "0x" + hexOf(recovered);
}

/** Quick test: do these bytes start like a key-exchange message? */
export function isKeyExchangeMessage(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && equalBytes(bytes.subarray(0, 4), KX_MAGIC);
}

/**
 * Decodes any key-exchange message and checks its signature recovers to the sender it names
 * (request: subscriber; response and error: publisher). Throws MALFORMED_MESSAGE or INVALID_SIGNATURE.
 */
export function decodeKeyExchangeMessage(input: Uint8Array): SignedKeyExchangeMessage {
  const bytes = input;
  if (bytes.length < 6 + SIGNATURE_LENGTH) throw malformed(`key-exchange message of ${bytes.length} bytes is too short`);
  const body = bytes.subarray(0, bytes.length - SIGNATURE_LENGTH);
  const signature = bytes.subarray(bytes.length - SIGNATURE_LENGTH);
  const r = new ByteReader(body, "key-exchange message");
  if (!equalBytes(r.bytes(4, "magic"), KX_MAGIC)) throw malformed('magic must be "DMKX"', { field: "magic" });
  const version = r.u8("version");
  if (version !== KX_VERSION) throw malformed(`unsupported key-exchange version ${version}`, { field: "version", value: version });
  const type = r.u8("type");
  let msg: KeyExchangeMessage;
  let sender: string;
  if (type === KxType.REQUEST) {
    const requestId = toHex(r.bytes(16, "requestId"));
    if (requestId === ZERO_REQUEST_ID) throw malformed("a request's requestId must be non-zero", { field: "requestId" });
    const streamId = toHex(r.bytes(32, "streamId"));
    const publisher = toHex(r.bytes(20, "publisher"));
    const subscriber = toHex(r.bytes(20, "subscriber"));
    const timestamp = r.u64("timestamp");
    const subscriberPublicKey = new Uint8Array(r.bytes(33, "subscriberPublicKey"));
    const groupKeyIds = readKeyIds(r);
    msg = { type: "request", requestId, streamId, publisher, subscriber, timestamp, subscriberPublicKey, groupKeyIds };
    sender = subscriber;
  } else if (type === KxType.RESPONSE) {
    const requestId = toHex(r.bytes(16, "requestId"));
    const streamId = toHex(r.bytes(32, "streamId"));
    const publisher = toHex(r.bytes(20, "publisher"));
    const timestamp = r.u64("timestamp");
    const ephemeralPublicKey = new Uint8Array(r.bytes(33, "ephemeralPublicKey"));
    const groupKeyIds = readKeyIds(r);
    const count = r.u16("recipientCount");
    if (count < 1) throw malformed("recipientCount must be at least 1", { field: "recipientCount" });
    const sealedLength = 32 * groupKeyIds.length + GCM_TAG_LENGTH;
    const entries: WrappedEntry[] = [];
    for (let i = 0; i < count; i++) {
      entries.push({
        address: toHex(r.bytes(20, "recipient address")),
        nonce: r.bytes(GCM_NONCE_LENGTH, "nonce"),
        sealed: r.bytes(sealedLength, "sealed keys"),
      });
    }
    msg = { type: "response", requestId, streamId, publisher, timestamp, ephemeralPublicKey, groupKeyIds, entries };
    sender = publisher;
  } else if (type === KxType.ERROR) {
    const requestId = toHex(r.bytes(16, "requestId"));
    const streamId = toHex(r.bytes(32, "streamId"));
    const publisher = toHex(r.bytes(20, "publisher"));
    const subscriber = toHex(r.bytes(20, "subscriber"));
    const timestamp = r.u64("timestamp");
    const code = r.u8("code");
    const groupKeyIds = readKeyIds(r);
    const length = r.u16("messageLength");
    const message = bytesToUtf8(r.bytes(length, "message"));
    msg = { type: "error", requestId, streamId, publisher, subscriber, timestamp, code, groupKeyIds, message };
    sender = publisher;
  } else {
    throw malformed(`unknown key-exchange message type ${type}`, { field: "type", value: type });
  }
  r.end();
  const signer = recoverSigner(body, signature);
  if (signer !== sender)
    throw new ProtocolError(ProtocolErrorCodes.INVALID_SIGNATURE, `signature recovers to ${signer}, the message names ${sender}`, { signer, sender });
  return { ...msg, signer, bytes };
}

export interface BuildResponseArgs {
  requestId?: string;
  streamId: string;
  publisher: string;
  timestamp: number;
  keys: GroupKey[];
  recipients: readonly EciesRecipient[];
}

/** Wraps `keys` for every recipient and signs: one message, one ephemeral key, one signature. */
export async function buildResponse(args: BuildResponseArgs, signer: MessageSigner, random: RandomSource = defaultRandom): Promise<Uint8Array> {
  const fields = {
    requestId: args.requestId ?? ZERO_REQUEST_ID,
    streamId: args.streamId.toLowerCase(),
    publisher: args.publisher.toLowerCase(),
    timestamp: args.timestamp,
    groupKeyIds: args.keys.map((k) => k.id),
  };
  const payload = concatBytes(...args.keys.map((k) => k.key));
  let header: Uint8Array | undefined;
  const wrapped = wrapForRecipients(
    payload,
    args.recipients.map((r) => ({ address: r.address.toLowerCase(), publicKey: r.publicKey })),
    (ephemeralPublicKey, address) => entryAad((header ??= encodeResponseHeader({ ...fields, ephemeralPublicKey })), address),
    random,
  );
  return signBody(encodeResponseBody({ ...fields, ephemeralPublicKey: wrapped.ephemeralPublicKey, entries: wrapped.entries }), signer);
}

/** Opens this recipient's entry of a (verified) response and returns the group keys, checked against their ids. */
export function openResponse(response: GroupKeyResponse, recipientAddress: string, privateKey: Uint8Array): GroupKey[] {
  const address = recipientAddress.toLowerCase();
  const entry = response.entries.find((e) => e.address === address);
  if (!entry)
    throw new ProtocolError(ProtocolErrorCodes.NOT_A_RECIPIENT, `${address} is not a recipient of this key-exchange response`, {
      address,
      groupKeyIds: response.groupKeyIds,
    });
  const header = encodeResponseHeader(response);
  const payload = unwrapEntry(privateKey, response.ephemeralPublicKey, entry, entryAad(header, address));
  return response.groupKeyIds.map((id, i) => GroupKey.fromReceived(response.streamId, payload.subarray(32 * i, 32 * i + 32), id));
}
