// What the chain's consumers applied, by block, with how to undo it: on a reorg the follower undoes
// every entry past the fork point, newest first, then delivers the canonical logs from there. A
// consumer records one entry per change it makes (the state before it), from its log handler.

export class UndoJournal {
  private entries: { block: number; undo: () => void }[] = [];

  /** Remembers how to undo a change a log of `block` made. Call it before or after the change, from the handler. */
  record(block: number, undo: () => void): void {
    this.entries.push({ block, undo });
  }

  /** Records that a log of `block` is about to add `value` to `set` or remove it from it: the undo restores its membership. */
  recordMembership<T>(block: number, set: Set<T>, value: T): void {
    const had = set.has(value);
    this.record(block, () => void (had ? set.add(value) : set.delete(value)));
  }

  /** Records that a log of `block` is about to set or delete `key` of `map`: the undo restores its entry. */
  recordEntry<K, V>(block: number, map: Map<K, V>, key: K): void {
    const had = map.has(key);
    const before = map.get(key) as V;
    this.record(block, () => void (had ? map.set(key, before) : map.delete(key)));
  }

  /** Undoes every change of a block after `forkBlock`, newest first. */
  rewind(forkBlock: number): void {
    while (this.entries.length > 0 && this.entries[this.entries.length - 1].block > forkBlock) this.entries.pop()!.undo();
  }

  /** Drops the entries of blocks before `block` (final for the follower: past its reorg window). */
  forget(block: number): void {
    let i = 0;
    while (i < this.entries.length && this.entries[i].block < block) i++;
    if (i > 0) this.entries = this.entries.slice(i);
  }

  get size(): number {
    return this.entries.length;
  }
}
