// ResourceContract: the streams and datasets consent is given for, the market products that license
// them, and the data subjects each one holds (the membership a dataset request iterates over).
import { Info, Returns, Transaction } from 'fabric-contract-api';
import { canonicalJson } from '../canonical';
import { ConsentContext, Role } from '../context';
import { ErrorCode, fail } from '../errors';
import { KeyType, key } from '../keys';
import { ResourceRecord } from '../model';
import { ConsentLedgerContract, INDEX_MARKER, Page, pageJson, readJson, writeJson } from '../store';
import { BYTES32, SUBJECT_ID, pageArguments, parseJsonObject, requireList, requireString } from '../validation';

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

@Info({ title: 'ResourceContract', description: 'Streams and datasets, their market products and their data subjects' })
export class ResourceContract extends ConsentLedgerContract {
    constructor() {
        super('resource');
    }

    /**
     * Registers a stream (one data subject) or a dataset (up to MAX_SUBJECTS_PER_RESOURCE subjects)
     * with the market products that license it. Custodian only; the caller's MSP becomes its controller.
     * @param resourceJson `{"resourceId": bytes32, "kind": "stream"|"dataset", "productIds": [bytes32, ...]}`
     */
    @Transaction()
    @Returns('string')
    async RegisterResource(ctx: ConsentContext, resourceJson: string): Promise<string> {
        const caller = ctx.requireRole(Role.Custodian);
        const input = parseJsonObject(resourceJson, 'resource');
        const resourceId = requireString(input, 'resourceId', BYTES32);
        const kind = requireString(input, 'kind', /^(stream|dataset)$/);
        const productIds = input.productIds === undefined ? [] : requireList(input, 'productIds', (entry) => BYTES32.test(entry));
        const resourceKey = key(ctx, KeyType.Resource, resourceId);
        if (await readJson<ResourceRecord>(ctx, resourceKey)) {
            fail(ErrorCode.ALREADY_EXISTS, `resource ${resourceId} is already registered`);
        }
        for (const productId of productIds) {
            const productKey = key(ctx, KeyType.Product, productId);
            const existing = await ctx.stub.getState(productKey);
            if (existing && existing.length > 0) {
                fail(ErrorCode.ALREADY_EXISTS, `product ${productId} already licenses resource ${Buffer.from(existing).toString('utf8')}`);
            }
            await ctx.stub.putState(productKey, Buffer.from(resourceId, 'utf8'));
        }
        const resource: ResourceRecord = { resourceId, kind, controllerMsp: caller.mspId, productIds, subjectCount: 0, createdAt: ctx.now() };
        await writeJson(ctx, resourceKey, resource);
        ctx.emit({ type: 'ResourceRegistered', resourceId, kind, productIds, controllerMsp: caller.mspId });
        return canonicalJson(resource);
    }

    /**
     * Adds data subjects to a resource (idempotent per subject). The controller's custodians only.
     * @param membersJson `{"resourceId": bytes32, "subjectIds": [pseudonymous ids, at most 1000]}`
     */
    @Transaction()
    @Returns('string')
    async AddResourceSubjects(ctx: ConsentContext, membersJson: string): Promise<string> {
        const caller = ctx.requireRole(Role.Custodian);
        const input = parseJsonObject(membersJson, 'members');
        const resourceId = requireString(input, 'resourceId', BYTES32);
        const subjectIds = requireList(input, 'subjectIds', (entry) => SUBJECT_ID.test(entry), ErrorCode.INVALID_ARGUMENT, MAX_SUBJECTS_PER_CALL);
        const resource = await requireResource(ctx, resourceId);
        if (resource.controllerMsp !== caller.mspId) {
            fail(ErrorCode.FORBIDDEN, `resource ${resourceId} is controlled by ${resource.controllerMsp}, not ${caller.mspId}`);
        }
        const added: string[] = [];
        for (const subjectId of subjectIds) {
            const memberKey = key(ctx, KeyType.Member, resourceId, subjectId);
            const existing = await ctx.stub.getState(memberKey);
            if (!existing || existing.length === 0) {
                added.push(subjectId);
            }
        }
        const limit = resource.kind === 'stream' ? 1 : MAX_SUBJECTS_PER_RESOURCE;
        if (resource.subjectCount + added.length > limit) {
            fail(ErrorCode.DATASET_TOO_LARGE,
                `resource ${resourceId} (${resource.kind}) holds ${resource.subjectCount} subjects; adding ${added.length} exceeds the limit of ${limit}`);
        }
        for (const subjectId of added) {
            await ctx.stub.putState(key(ctx, KeyType.Member, resourceId, subjectId), INDEX_MARKER);
        }
        resource.subjectCount += added.length;
        await writeJson(ctx, key(ctx, KeyType.Resource, resourceId), resource);
        ctx.emit({ type: 'ResourceSubjectsAdded', resourceId, added: added.length, subjectCount: resource.subjectCount });
        return canonicalJson(resource);
    }

    @Transaction(false)
    @Returns('string')
    async GetResource(ctx: ConsentContext, resourceId: string): Promise<string> {
        return canonicalJson(await requireResource(ctx, resourceId));
    }

    /** A page of the resource's subject ids. Custodians of the controller MSP and auditors only. */
    @Transaction(false)
    @Returns('string')
    async ListResourceSubjects(ctx: ConsentContext, resourceId: string, pageSize: string, bookmark: string): Promise<string> {
        const page = pageArguments(pageSize, bookmark);
        const caller = ctx.requireRole(Role.Custodian, Role.Auditor);
        const resource = await requireResource(ctx, resourceId);
        if (caller.role === Role.Custodian && caller.mspId !== resource.controllerMsp) {
            fail(ErrorCode.FORBIDDEN, `resource ${resourceId} is controlled by ${resource.controllerMsp}, not ${caller.mspId}`);
        }
        const { iterator, metadata } = await ctx.stub.getStateByPartialCompositeKeyWithPagination(
            KeyType.Member, [resourceId], page.pageSize, page.bookmark);
        const records: string[] = [];
        try {
            for (let entry = await iterator.next(); !entry.done; entry = await iterator.next()) {
                records.push(ctx.stub.splitCompositeKey(entry.value.key).attributes[1]);
            }
        } finally {
            await iterator.close();
        }
        const result: Page<string> = { records, bookmark: metadata.bookmark, fetchedRecordsCount: metadata.fetchedRecordsCount };
        return pageJson(result);
    }
}
