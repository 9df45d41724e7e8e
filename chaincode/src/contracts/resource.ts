// ResourceContract: the streams and datasets consent is given for, the market products that license
// them, and the data subjects each one holds (the membership a dataset request iterates over).
import { Info, Returns, Transaction } from "fabric-contract-api";
import { canonicalJson } from "../canonical";
import { ConsentContext, Role } from "../context";
import { ErrorCode, fail } from "../errors";
import { KeyType, key } from "../keys";
import { MemberEntry, mayHaveGrants, readMember, summarize, voidGrants, writeMember } from "../membership";
import { ConsentRecord, ResourceRecord, SubjectRecord } from "../model";
import { ConsentLedgerContract, pageJson, readJson, readRange, writeJson } from "../store";
import { BYTES32, SUBJECT_ID, pageArguments, parseJsonObject, requireList, requireString } from "../validation";

/** Largest number of data subjects a resource may hold: the largest dataset one access request handles. */
export const MAX_SUBJECTS_PER_RESOURCE = 10_000;
/** Largest number of subjects one AddResourceSubjects call adds. */
export const MAX_SUBJECTS_PER_CALL = 1_000;

export async function requireResource(ctx: ConsentContext, resourceId: string): Promise<ResourceRecord> {
  const resource = await readJson<ResourceRecord>(ctx, key(ctx, KeyType.Resource, resourceId));
  if (!resource) {
    fail(ErrorCode.NOT_FOUND, `resource ${resourceId} is not registered`);
  }
  return resource;
}

@Info({ title: "ResourceContract", description: "Streams and datasets, their market products and their data subjects" })
export class ResourceContract extends ConsentLedgerContract {
  constructor() {
    super("resource");
  }

  /**
   * Registers a stream (one data subject) or a dataset (up to MAX_SUBJECTS_PER_RESOURCE subjects)
   * with the market products that license it. Custodian only; the caller's MSP becomes its controller.
   * @param resourceJson `{"resourceId": bytes32, "kind": "stream"|"dataset", "productIds": [bytes32, ...]}`
   */
  @Transaction()
  @Returns("string")
  async RegisterResource(ctx: ConsentContext, resourceJson: string): Promise<string> {
    const caller = ctx.requireRole(Role.Custodian);
    const input = parseJsonObject(resourceJson, "resource");
    const resourceId = requireString(input, "resourceId", BYTES32);
    const kind = requireString(input, "kind", /^(stream|dataset)$/);
    const productIds = input.productIds === undefined ? [] : requireList(input, "productIds", (entry) => BYTES32.test(entry));
    const resourceKey = key(ctx, KeyType.Resource, resourceId);
    if (await readJson<ResourceRecord>(ctx, resourceKey)) {
      fail(ErrorCode.ALREADY_EXISTS, `resource ${resourceId} is already registered`);
    }
    for (const productId of productIds) {
      const productKey = key(ctx, KeyType.Product, productId);
      const existing = await ctx.stub.getState(productKey);
      if (existing && existing.length > 0) {
        fail(ErrorCode.ALREADY_EXISTS, `product ${productId} already licenses resource ${Buffer.from(existing).toString("utf8")}`);
      }
      await ctx.stub.putState(productKey, Buffer.from(resourceId, "utf8"));
    }
    const resource: ResourceRecord = {
      resourceId,
      kind,
      controllerMsp: caller.mspId,
      productIds,
      subjectCount: 0,
      nextSlot: 0,
      createdAt: ctx.now(),
    };
    await writeJson(ctx, resourceKey, resource);
    ctx.emit({ type: "ResourceRegistered", resourceId, kind, productIds, controllerMsp: caller.mspId });
    return canonicalJson(resource);
  }

  /**
   * Adds data subjects to a resource (idempotent per subject). The controller's custodians only. Each
   * new member gets the next access-log slot and its covering consent for the resource, if any.
   * @param membersJson `{"resourceId": bytes32, "subjectIds": [pseudonymous ids, at most 1000]}`
   */
  @Transaction()
  @Returns("string")
  async AddResourceSubjects(ctx: ConsentContext, membersJson: string): Promise<string> {
    const { resource, subjectIds } = await this.membershipChange(ctx, membersJson, "members");
    const added: string[] = [];
    for (const subjectId of subjectIds) {
      if (!(await readMember(ctx, resource.resourceId, subjectId))) {
        added.push(subjectId);
      }
    }
    const limit = resource.kind === "stream" ? 1 : MAX_SUBJECTS_PER_RESOURCE;
    if (resource.subjectCount + added.length > limit) {
      fail(
        ErrorCode.DATASET_TOO_LARGE,
        `resource ${resource.resourceId} (${resource.kind}) holds ${resource.subjectCount} subjects; adding ${added.length} exceeds the limit of ${limit}`,
      );
    }
    for (const subjectId of added) {
      const slot = resource.nextSlot;
      resource.nextSlot += 1;
      const subject = await readJson<SubjectRecord>(ctx, key(ctx, KeyType.Subject, subjectId));
      const entry: MemberEntry = { slot, controllerMsp: resource.controllerMsp, consent: await this.coveringConsent(ctx, subjectId, resource.resourceId) };
      await writeMember(ctx, resource.resourceId, subjectId, entry, subject?.custodianMsp ?? null);
      const placesKey = key(ctx, KeyType.SubjectResource, subjectId, resource.resourceId);
      const places = (await readJson<{ slots: number[] }>(ctx, placesKey)) ?? { slots: [] };
      await writeJson(ctx, placesKey, { slots: [...places.slots, slot] });
    }
    resource.subjectCount += added.length;
    await writeJson(ctx, key(ctx, KeyType.Resource, resource.resourceId), resource);
    ctx.emit({ type: "ResourceSubjectsAdded", resourceId: resource.resourceId, added: added.length, subjectCount: resource.subjectCount });
    return canonicalJson(resource);
  }

  /**
   * Removes data subjects from a resource (subjects not in it are ignored). The controller's custodians
   * only. Grants that may have released a removed subject's data are voided (cause SubjectRemoved).
   * @param membersJson `{"resourceId": bytes32, "subjectIds": [pseudonymous ids, at most 1000]}`
   */
  @Transaction()
  @Returns("string")
  async RemoveResourceSubjects(ctx: ConsentContext, membersJson: string): Promise<string> {
    const { resource, subjectIds } = await this.membershipChange(ctx, membersJson, "members");
    const removed: string[] = [];
    for (const subjectId of subjectIds) {
      const member = await readMember(ctx, resource.resourceId, subjectId);
      if (member) {
        await ctx.stub.deleteState(key(ctx, KeyType.Member, resource.resourceId, subjectId));
        removed.push(subjectId);
        if (mayHaveGrants(member.consent)) {
          ctx.voidedBy = { subjectIds: removed };
          await voidGrants(ctx, resource.resourceId, "SubjectRemoved", member.slot);
        }
      }
    }
    resource.subjectCount -= removed.length;
    await writeJson(ctx, key(ctx, KeyType.Resource, resource.resourceId), resource);
    ctx.emit({ type: "ResourceSubjectsRemoved", resourceId: resource.resourceId, removed: removed.length, subjectCount: resource.subjectCount });
    return canonicalJson(resource);
  }

  @Transaction(false)
  @Returns("string")
  async GetResource(ctx: ConsentContext, resourceId: string): Promise<string> {
    return canonicalJson(await requireResource(ctx, resourceId));
  }

  /** A page of the resource's subject ids. Custodians of the controller MSP and auditors only. */
  @Transaction(false)
  @Returns("string")
  async ListResourceSubjects(ctx: ConsentContext, resourceId: string, pageSize: string, bookmark: string): Promise<string> {
    const page = pageArguments(pageSize, bookmark);
    const caller = ctx.requireRole(Role.Custodian, Role.Auditor);
    const resource = await requireResource(ctx, resourceId);
    if (caller.role === Role.Custodian && caller.mspId !== resource.controllerMsp) {
      fail(ErrorCode.FORBIDDEN, `resource ${resourceId} is controlled by ${resource.controllerMsp}, not ${caller.mspId}`);
    }
    return pageJson(await readRange(ctx, KeyType.Member, [resourceId], ({ attributes }) => attributes[1], page));
  }

  /** The resource and subject ids of an Add/RemoveResourceSubjects call, after the caller is checked. */
  private async membershipChange(ctx: ConsentContext, membersJson: string, what: string): Promise<{ resource: ResourceRecord; subjectIds: string[] }> {
    const caller = ctx.requireRole(Role.Custodian);
    const input = parseJsonObject(membersJson, what);
    const resourceId = requireString(input, "resourceId", BYTES32);
    const subjectIds = requireList(input, "subjectIds", (entry) => SUBJECT_ID.test(entry), ErrorCode.INVALID_ARGUMENT, MAX_SUBJECTS_PER_CALL);
    const resource = await requireResource(ctx, resourceId);
    if (resource.controllerMsp !== caller.mspId) {
      fail(ErrorCode.FORBIDDEN, `resource ${resourceId} is controlled by ${resource.controllerMsp}, not ${caller.mspId}`);
    }
    return { resource, subjectIds };
  }

  /** The subject's covering consent for the resource in summary, or null (coverage~S~R, then the consent). */
  private async coveringConsent(ctx: ConsentContext, subjectId: string, resourceId: string) {
    const pointer = await ctx.stub.getState(key(ctx, KeyType.Coverage, subjectId, resourceId));
    if (!pointer || pointer.length === 0) {
      return null;
    }
    const record = await readJson<ConsentRecord>(ctx, key(ctx, KeyType.Consent, Buffer.from(pointer).toString("utf8")));
    return record ? summarize(record) : null;
  }
}
