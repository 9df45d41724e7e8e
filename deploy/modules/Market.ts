// Ignition module: the karma (reputation) contract and the data-license market with its three linked
// libraries. The deployer is the first admin of both; the Protocol module wires the roles and the
// Governance module hands the admin roles over.
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import Foundation from "./Foundation";

export default buildModule("Market", (m) => {
  const { token, registry } = m.useModule(Foundation);
  const deployer = m.getAccount(0);

  // Seconds after which unrenewed karma halves (immutable), and the share of karma an upheld flag removes.
  const karmaHalfLife = m.getParameter<bigint>("karmaHalfLife", 30n * 86_400n);
  const flagPenaltyBps = m.getParameter<bigint>("flagPenaltyBps", 2_000n);

  const karma = m.contract("Karma", [deployer, karmaHalfLife, flagPenaltyBps]);
  const productCatalog = m.library("ProductCatalog");
  const attestorSet = m.library("AttestorSet");
  const licenseTermination = m.library("LicenseTermination");
  const market = m.contract("DataLicenseMarket", [deployer, token, registry, karma], {
    libraries: { ProductCatalog: productCatalog, AttestorSet: attestorSet, LicenseTermination: licenseTermination },
  });
  return { karma, market, productCatalog, attestorSet, licenseTermination };
});
