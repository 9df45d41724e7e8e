// A small chaincode that exposes the stub operations one by one, so the tests can check the in-process
// peer's semantics (no read-your-writes, ranges, pagination, history, private data) directly.
import { Context, Contract, Returns, Transaction } from "fabric-contract-api";

export class ProbeContract extends Contract {
  constructor() {
    super("probe");
  }

  @Transaction()
  @Returns("string")
  async Put(ctx: Context, key: string, value: string): Promise<string> {
    await ctx.stub.putState(key, Buffer.from(value));
    return "";
  }

  /** Writes then reads the same key: a peer returns the committed value, not the pending write. */
  @Transaction()
  @Returns("string")
  async PutThenGet(ctx: Context, key: string, value: string): Promise<string> {
    await ctx.stub.putState(key, Buffer.from(value));
    return Buffer.from(await ctx.stub.getState(key)).toString();
  }

  @Transaction()
  @Returns("string")
  async Increment(ctx: Context, key: string): Promise<string> {
    const current = Number(Buffer.from(await ctx.stub.getState(key)).toString() || "0");
    await ctx.stub.putState(key, Buffer.from(String(current + 1)));
    return String(current + 1);
  }

  @Transaction()
  @Returns("string")
  async Delete(ctx: Context, key: string): Promise<string> {
    await ctx.stub.deleteState(key);
    return "";
  }

  @Transaction(false)
  @Returns("string")
  async Get(ctx: Context, key: string): Promise<string> {
    return Buffer.from(await ctx.stub.getState(key)).toString();
  }

  @Transaction()
  @Returns("string")
  async PutComposite(ctx: Context, type: string, a: string, b: string, value: string): Promise<string> {
    await ctx.stub.putState(ctx.stub.createCompositeKey(type, [a, b]), Buffer.from(value));
    return "";
  }

  /** Counts a partial composite key range and writes the count (a range read in an update tx). */
  @Transaction()
  @Returns("string")
  async CountInto(ctx: Context, type: string, a: string, target: string): Promise<string> {
    let count = 0;
    for await (const _ of ctx.stub.getStateByPartialCompositeKey(type, [a])) {
      count += 1;
    }
    await ctx.stub.putState(target, Buffer.from(String(count)));
    return String(count);
  }

  /** Reads only the first key of a partial composite key range, then writes it: a range left early. */
  @Transaction()
  @Returns("string")
  async FirstInto(ctx: Context, type: string, a: string, target: string): Promise<string> {
    const iterator = await ctx.stub.getStateByPartialCompositeKey(type, [a]);
    const first = await iterator.next();
    await iterator.close();
    const key = first.done ? "" : first.value.key;
    await ctx.stub.putState(target, Buffer.from(key));
    return key;
  }

  @Transaction(false)
  @Returns("string")
  async Range(ctx: Context, start: string, end: string): Promise<string> {
    const keys: string[] = [];
    for await (const entry of ctx.stub.getStateByRange(start, end)) {
      keys.push(entry.key);
    }
    return JSON.stringify(keys);
  }

  @Transaction(false)
  @Returns("string")
  async Page(ctx: Context, type: string, a: string, size: string, bookmark: string): Promise<string> {
    const { iterator, metadata } = await ctx.stub.getStateByPartialCompositeKeyWithPagination(type, a === "" ? [] : [a], Number(size), bookmark);
    const keys: string[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      keys.push(ctx.stub.splitCompositeKey(next.value.key).attributes.join("/"));
    }
    await iterator.close();
    return JSON.stringify({ keys, bookmark: metadata.bookmark, count: metadata.fetchedRecordsCount });
  }

  /** A paginated query followed by a write: the peer refuses the write. */
  @Transaction()
  @Returns("string")
  async PageThenWrite(ctx: Context): Promise<string> {
    await ctx.stub.getStateByRangeWithPagination("", "", 1, "");
    await ctx.stub.putState("after-page", Buffer.from("x"));
    return "";
  }

  @Transaction(false)
  @Returns("string")
  async History(ctx: Context, key: string): Promise<string> {
    const out: Array<{ value: string; isDelete: boolean; txId: string }> = [];
    for await (const entry of ctx.stub.getHistoryForKey(key)) {
      out.push({ value: Buffer.from(entry.value).toString(), isDelete: entry.isDelete, txId: entry.txId });
    }
    return JSON.stringify(out);
  }

  @Transaction()
  @Returns("string")
  async PutPrivate(ctx: Context, collection: string, key: string): Promise<string> {
    const value = ctx.stub.getTransient().get("value") as Uint8Array;
    await ctx.stub.putPrivateData(collection, key, value);
    return "";
  }

  @Transaction(false)
  @Returns("string")
  async GetPrivate(ctx: Context, collection: string, key: string): Promise<string> {
    return Buffer.from(await ctx.stub.getPrivateData(collection, key)).toString();
  }

  @Transaction(false)
  @Returns("string")
  async GetPrivateHash(ctx: Context, collection: string, key: string): Promise<string> {
    return Buffer.from(await ctx.stub.getPrivateDataHash(collection, key)).toString("hex");
  }

  @Transaction(false)
  @Returns("string")
  async Whoami(ctx: Context): Promise<string> {
    const ts = ctx.stub.getTxTimestamp();
    return JSON.stringify({
      mspId: ctx.clientIdentity.getMSPID(),
      id: ctx.clientIdentity.getID(),
      role: ctx.clientIdentity.getAttributeValue("role"),
      seconds: Number(ts.seconds.toString()),
    });
  }

  @Transaction()
  @Returns("string")
  async Emit(ctx: Context, first: string, second: string): Promise<string> {
    await ctx.stub.getState("emitted"); // a read, so that a stale Emit fails MVCC
    ctx.stub.setEvent(first, Buffer.from("one"));
    ctx.stub.setEvent(second, Buffer.from("two"));
    await ctx.stub.putState("emitted", Buffer.from(second));
    return "";
  }

  /** Waits, then reads: to exercise the execution timeout and late requests. */
  @Transaction(false)
  @Returns("string")
  async SlowGet(ctx: Context, millis: string, key: string): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, Number(millis)));
    try {
      return Buffer.from(await ctx.stub.getState(key)).toString();
    } catch (error) {
      ProbeContract.lateErrors.push((error as Error).message);
      throw error;
    }
  }

  static lateErrors: string[] = [];

  @Transaction(false)
  @Returns("string")
  async RichQuery(ctx: Context): Promise<string> {
    for await (const _ of ctx.stub.getQueryResult('{"selector":{}}')) {
      return "unexpected";
    }
    return "none";
  }
}

/** The chaincode module's export, as a chaincode worker thread loads it. */
export const contracts = [ProbeContract];
