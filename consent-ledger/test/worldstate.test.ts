// The world state's key index stays in LevelDB order whichever way a block's writes are applied.
import { expect } from "chai";
import { compareUtf8 } from "../src/fabric/worldstate";
import { VersionedStore } from "../src/fabric/worldstate";

describe("VersionedStore", () => {
  const keys = (store: VersionedStore) => store.range("", "").map((entry) => entry.key);

  it("keeps keys sorted through small and large batches of inserts and deletes", () => {
    const store = new VersionedStore();
    const expected = new Set<string>();
    const value = Buffer.from("v");
    const many = Array.from({ length: 150 }, (_, i) => `k${(i * 7919) % 1000}\u{1F600}${i % 3 === 0 ? "\uffff" : ""}`);
    store.applyWrites(
      many.map((key) => [key, value]),
      { blockNum: 1, txNum: 0 },
    ); // merge path
    many.forEach((key) => expected.add(key));
    store.applyWrites(
      [
        [many[3], null],
        ["a-new", value],
      ],
      { blockNum: 2, txNum: 0 },
    ); // splice path
    expected.delete(many[3]);
    expected.add("a-new");
    const bulk: Array<[string, Buffer | null]> = [
      ...many.slice(10, 90).map((key): [string, Buffer | null] => [key, null]),
      ...Array.from({ length: 20 }, (_, i): [string, Buffer | null] => [`z${i}`, value]),
    ];
    store.applyWrites(bulk, { blockNum: 3, txNum: 0 }); // merge path with removals
    many.slice(10, 90).forEach((key) => expected.delete(key));
    Array.from({ length: 20 }, (_, i) => expected.add(`z${i}`));
    expect(keys(store)).to.deep.equal([...expected].sort(compareUtf8));
    expect(store.size).to.equal(expected.size);
    expect(store.get("z3")?.version).to.deep.equal({ blockNum: 3, txNum: 0 });
    expect(store.get(many[3])).to.equal(undefined);
  });
});
