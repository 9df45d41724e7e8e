// The in-process Contract and Network have fabric-gateway's surface for the calls other parts make:
// checked by the compiler (assignments below) and exercised once at run time.
import { expect } from "chai";
import type { Contract as GatewayContract, Network as GatewayNetwork } from "@hyperledger/fabric-gateway";
import { InProcessConsentLedger } from "../src";

type ContractSurface = Pick<GatewayContract, "submitTransaction" | "evaluateTransaction" | "submit" | "evaluate" | "getChaincodeName" | "getContractName">;
type NetworkSurface = Pick<GatewayNetwork, "getName" | "getChaincodeEvents">;

describe("fabric-gateway surface of the in-process ledger", () => {
  it("offers Contract and Network methods with fabric-gateway 1.11 signatures", async () => {
    const ledger = await InProcessConsentLedger.create();
    const gateway = ledger.connect(await ledger.enroll("AuditMSP", "reader", { "consent.role": "auditor" }));
    const network: NetworkSurface = gateway.getNetwork("consent");
    const contract: ContractSurface = gateway.getNetwork("consent").getContract("consent", "resource");
    expect(contract.getChaincodeName()).to.equal("consent");
    expect(contract.getContractName()).to.equal("resource");
    expect(network.getName()).to.equal("consent");
    const failure = await contract.evaluateTransaction("GetResource", "0x" + "00".repeat(32)).then(
      () => "",
      (error: Error) => error.message,
    );
    expect(failure).to.contain("NOT_FOUND");
  });
});
