// Ignition module: the whole protocol, wired. Deploys Foundation, Network, Market and Names and the
// ProductDeliveryAdapter (the market's delivery oracle over the coordinator's agreed counts), then
// gives the market KEY_REGISTRAR_ROLE on the registry and REPORTER_ROLE on karma, registers the
// consent attestors and k, the arbiter, the KYC providers, the protocol fee and the delivery oracle.
// The deployer still holds every admin role afterwards; the Governance module hands them over.
//
// The lists (attestors, KYC providers: one call each), the choice of delivery oracle (the deployed
// adapter, or a given address) and of ENS (a local one, or the chain's) are part of the module's shape, so the module is built from a
// parameters file: `buildProtocolModule(loadParameters(file).Protocol)`. Scalars stay Ignition
// parameters (recorded in Ignition's journal) and come from the same file.
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { id } from "ethers";
import Foundation from "./Foundation";
import Network from "./Network";
import Market from "./Market";
import { buildNamesModule } from "./Names";
import type { ProtocolParameters } from "../parameters";

export const ROLES = {
  DEFAULT_ADMIN_ROLE: "0x" + "00".repeat(32),
  MINTER_ROLE: id("MINTER_ROLE"),
  KEY_REGISTRAR_ROLE: id("KEY_REGISTRAR_ROLE"),
  REPORTER_ROLE: id("REPORTER_ROLE"),
  ARBITER_ROLE: id("ARBITER_ROLE"),
  KYC_PROVIDER_ROLE: id("KYC_PROVIDER_ROLE"),
  PARAMETER_ROLE: id("PARAMETER_ROLE"),
} as const;

export type ProtocolShape = Pick<ProtocolParameters["Protocol"], "attestors" | "kycProviders" | "deliveryOracle"> & Pick<ProtocolParameters["Names"], "ens">;

export function buildProtocolModule(lists: ProtocolShape) {
  return buildModule("Protocol", (m) => {
    const { token, registry } = m.useModule(Foundation);
    const { coordinator, eventSubscriptions, partitionAssignment, coordinatorParameters, paymentChannels } = m.useModule(Network);
    const names = m.useModule(buildNamesModule(lists.ens));
    const { karma, market, productCatalog, attestorSet, licenseTermination } = m.useModule(Market);

    const attestorThreshold = m.getParameter<bigint>("attestorThreshold");
    const arbiter = m.getParameter<string>("arbiter");
    const feeBps = m.getParameter<bigint>("feeBps", 0n);
    const feeRecipient = m.getParameter<string>("feeRecipient", "0x0000000000000000000000000000000000000000");
    const deliveryAdapter = m.contract("ProductDeliveryAdapter", [market, coordinator, registry]);
    const deliveryOracle = lists.deliveryOracle === "adapter" ? deliveryAdapter : m.getParameter<string>("deliveryOracle");

    m.call(registry, "grantRole", [ROLES.KEY_REGISTRAR_ROLE, market], { id: "registry_grantKeyRegistrar_market" });
    m.call(karma, "grantRole", [ROLES.REPORTER_ROLE, market], { id: "karma_grantReporter_market" });

    const added = lists.attestors.map((attestor, i) => m.call(market, "addAttestor", [attestor], { id: `market_addAttestor_${i}` }));
    m.call(market, "setAttestorThreshold", [attestorThreshold], { id: "market_setAttestorThreshold", after: added });
    m.call(market, "grantRole", [ROLES.ARBITER_ROLE, arbiter], { id: "market_grantArbiter" });
    lists.kycProviders.forEach((provider, i) => m.call(market, "grantRole", [ROLES.KYC_PROVIDER_ROLE, provider], { id: `market_grantKycProvider_${i}` }));
    m.call(market, "setProtocolFee", [feeBps, feeRecipient], { id: "market_setProtocolFee" });
    m.call(market, "setDeliveryOracle", [deliveryOracle], { id: "market_setDeliveryOracle" });

    return {
      token,
      registry,
      coordinator,
      eventSubscriptions,
      karma,
      market,
      partitionAssignment,
      coordinatorParameters,
      productCatalog,
      attestorSet,
      licenseTermination,
      deliveryAdapter,
      paymentChannels,
      ...names,
    };
  });
}
