// Events published through the broker feed the epoch checksum exactly as docs/protocol.md §4
// specifies (recomputed here independently with ethers), and recovery rebuilds it from the log.

import { expect } from "chai";
import { keccak256, solidityPacked } from "ethers";
import { BrokerClient } from "../src/client/BrokerClient";
import { eventHash } from "../src/wire";
import { epochOf } from "../src/wire";
import { ALICE, ALICE_KEY, STREAM, TestPublisher, startTestBroker, tempDir } from "./helpers";

describe("epoch checksums", () => {
  it("reports (count, checksum) of the durable events per epoch and network partition, also after a restart", async () => {
    const data = tempDir();
    const EPOCH_MS = 3_600_000;
    let broker = await startTestBroker({ network: { epochLengthMs: EPOCH_MS, genesisMs: 0 } }, undefined, data.dir);
    broker.gate.grantPublish(STREAM, ALICE);
    const seen: string[] = [];
    broker.node.onDurableEvent((d) => seen.push("0x" + d.eventHash.toString("hex")));
    const pub = await BrokerClient.connect(broker.wsUrl);
    await pub.signIn(ALICE_KEY);
    const p = new TestPublisher(ALICE_KEY);
    const events = Array.from({ length: 25 }, () => p.next());
    for (const e of events) await pub.publish(e.frame);
    await pub.close();
    // Integrations (e.g. delivery to smart-contract subscribers) see every durable event once, in order.
    expect(seen).to.deep.equal(events.map((e) => "0x" + eventHash(e.canonical).toString("hex")));
    const epoch = epochOf(events[0].timestamp, EPOCH_MS);
    const mine = events.filter((e) => epochOf(e.timestamp, EPOCH_MS) === epoch);
    let sum = 0n;
    for (const e of mine) sum = (sum + BigInt("0x" + eventHash(e.canonical).toString("hex"))) % (1n << 256n);
    const expected = keccak256(solidityPacked(["uint64", "uint32", "uint64", "bytes32"], [epoch, 0, mine.length, "0x" + sum.toString(16).padStart(64, "0")]));
    expect(broker.epochs.report(epoch, 0)).to.deep.equal({ epoch, networkPartition: 0, count: mine.length, checksum: expected });
    expect(broker.epochs.report(epoch, 1).count).to.equal(0);
    await broker.close();
    broker = await startTestBroker({ network: { epochLengthMs: EPOCH_MS, genesisMs: 0 } }, undefined, data.dir);
    expect(broker.epochs.report(epoch, 0)).to.deep.equal({ epoch, networkPartition: 0, count: mine.length, checksum: expected });
    await broker.stop();
    data.remove();
  });
});
