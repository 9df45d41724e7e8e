// Ignition module: ENS names for streams (StreamNames, docs/contracts.md §7), on the chain's ENS
// registry and NameWrapper. On a development chain without ENS, `ens: "local"` deploys the ENS
// registry and public resolver exactly as ENS published them on npm (the test fixtures of
// contracts/test/ens/), owned by the deployer, so that names can be tried end to end; never on a
// public chain, whose ENS is given by address.
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import Foundation from "./Foundation";

/** "local": deploy a development ENS; otherwise the address of the chain's ENS registry. */
export type EnsChoice = "local" | string;

export function buildNamesModule(ens: EnsChoice) {
  if (ens === "local") {
    return buildModule("Names", (m) => {
      const { registry } = m.useModule(Foundation);
      const nameWrapper = m.getParameter<string>("nameWrapper", "0x0000000000000000000000000000000000000000");
      const ensRegistry = m.contract("ENSRegistry", []);
      const publicResolver = m.contract("PublicResolver", [ensRegistry]);
      const streamNames = m.contract("StreamNames", [ensRegistry, nameWrapper, registry]);
      return { streamNames, ensRegistry, publicResolver };
    });
  }
  return buildModule("Names", (m) => {
    const { registry } = m.useModule(Foundation);
    const nameWrapper = m.getParameter<string>("nameWrapper", "0x0000000000000000000000000000000000000000");
    const streamNames = m.contract("StreamNames", [m.getParameter<string>("ens"), nameWrapper, registry]);
    return { streamNames };
  });
}
