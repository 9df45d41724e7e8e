// @datamarket/protocol: the wire format and everything both ends share (docs/protocol.md).
// No server dependency and no Node built-ins on the browser path.
export * from "./errors";
export * from "./bytes";
export * from "./crypto";
export * from "./event";
export * from "./checksum";
export * from "./partitioning";
export * from "./siwe";
export * from "./signer";
export * from "./wire";
export * from "./keyexchange";
export * from "./payments";
export * from "./names";
