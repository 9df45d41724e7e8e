// Ignition module: the DATA token and the stream registry.
// The deployer is the first admin of both so that later modules can wire roles (the market becomes a
// key registrar); the Protocol module then hands every admin role to `governance` and renounces it.
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

export default buildModule("Foundation", (m) => {
  const deployer = m.getAccount(0);
  const minter = m.getParameter("minter", deployer);
  const tokenCap = m.getParameter<bigint>("tokenCap", 1_000_000_000n * 10n ** 18n);

  const token = m.contract("DATAToken", [deployer, minter, tokenCap]);
  const registry = m.contract("StreamRegistry", [deployer]);
  return { token, registry };
});
