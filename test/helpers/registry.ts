// Helpers for the StreamRegistry tests: enum values, permission records, the id derivation and the
// storage layout that the docs (docs/contracts.md) describe, computed independently of the contract.
import { ethers } from "hardhat";

/** IStreamRegistry.Capability, in declaration order. */
export const Capability = { Owner: 0, Grant: 1, GrantSubscribe: 2, Edit: 3, Delete: 4 } as const;
/** IStreamRegistry.ResourceKind, in declaration order. */
export const Kind = { Stream: 0, Dataset: 1 } as const;

export const KEY_REGISTRAR_ROLE = ethers.id("KEY_REGISTRAR_ROLE");
export const PERMISSIONS_NAMESPACE = ethers.id("datamarket.StreamRegistry.permissions");
/** Storage slot of the `_resources` mapping (slot 0 is AccessControl's `_roles`). */
export const RESOURCES_SLOT = 1n;
export const NEVER = 2n ** 64n - 1n;

export interface PermissionRecord {
  publishExpiry: bigint;
  subscribeExpiry: bigint;
  canGrant: boolean;
  canEdit: boolean;
  canDelete: boolean;
  canGrantSubscribe: boolean;
}

/** A full permission record, all empty unless given. */
export function permission(fields: Partial<PermissionRecord> = {}): PermissionRecord {
  return {
    publishExpiry: 0n,
    subscribeExpiry: 0n,
    canGrant: false,
    canEdit: false,
    canDelete: false,
    canGrantSubscribe: false,
    ...fields,
  };
}

/** The record as the contract returns it, for deep equality. */
export function asTuple(p: PermissionRecord): [bigint, bigint, boolean, boolean, boolean, boolean] {
  return [p.publishExpiry, p.subscribeExpiry, p.canGrant, p.canEdit, p.canDelete, p.canGrantSubscribe];
}

/** PermissionUpdated's arguments after the indexed (id, user). */
export function eventArgs(id: string, user: string, p: PermissionRecord): unknown[] {
  return [id, user, ...asTuple(p)];
}

/** keccak256(abi.encodePacked(creator, path)) computed off chain. */
export function resourceIdOf(creator: string, path: string): string {
  return ethers.solidityPackedKeccak256(["address", "string"], [creator, path]);
}

/** The storage slot of the permission record of (id, generation, user). */
export function permissionSlot(id: string, generation: bigint | number, user: string): string {
  return ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "uint32", "address", "bytes32"], [id, generation, user, PERMISSIONS_NAMESPACE]));
}

/** The storage slot of the Resource record of `id` (a Solidity mapping entry). */
export function resourceSlot(id: string): string {
  return ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "uint256"], [id, RESOURCES_SLOT]));
}

/** The 32-byte word a Permission packs into (lowest-order bytes first). */
export function permissionWord(p: PermissionRecord): bigint {
  return (
    p.publishExpiry |
    (p.subscribeExpiry << 64n) |
    (BigInt(p.canGrant) << 128n) |
    (BigInt(p.canEdit) << 136n) |
    (BigInt(p.canDelete) << 144n) |
    (BigInt(p.canGrantSubscribe) << 152n)
  );
}

/** The 32-byte word a Resource packs into. */
export function resourceWord(r: {
  owner: string;
  generation: bigint | number;
  partitions: bigint | number;
  kind: number;
  publicPublish: boolean;
  publicSubscribe: boolean;
}): bigint {
  return (
    BigInt(r.owner) |
    (BigInt(r.generation) << 160n) |
    (BigInt(r.partitions) << 192n) |
    (BigInt(r.kind) << 208n) |
    (BigInt(r.publicPublish) << 216n) |
    (BigInt(r.publicSubscribe) << 224n)
  );
}

/** n distinct deterministic addresses that are not signers. */
export function addresses(n: number, base = 0x1000): string[] {
  return Array.from({ length: n }, (_, i) => ethers.getAddress(ethers.toBeHex(base + i, 20)));
}
