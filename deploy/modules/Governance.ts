// Ignition module: hands every admin role of the protocol to `governance` and renounces the
// deployer's. Run it (the deploy task does, in the same deployment) only when governance differs from
// the deployer: with governance == deployer it would leave nobody in charge. Minter and the wired
// operational roles (key registrar, reporter, arbiter, KYC providers) are not touched.
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { buildProtocolModule, ROLES, type ProtocolShape } from "./Protocol";

export function buildGovernanceModule(lists: ProtocolShape) {
  return buildModule("Governance", (m) => {
    const protocolModule = buildProtocolModule(lists);
    const contracts = m.useModule(protocolModule);
    const { token, registry, coordinator, karma, market } = contracts;
    const deployer = m.getAccount(0);
    const governance = m.getParameter<string>("governance");

    // Grant everything first, then renounce, so that no moment exists in which a contract has no admin.
    const grants = [
      m.call(token, "grantRole", [ROLES.DEFAULT_ADMIN_ROLE, governance], { id: "token_grantAdmin", after: [protocolModule] }),
      m.call(registry, "grantRole", [ROLES.DEFAULT_ADMIN_ROLE, governance], { id: "registry_grantAdmin", after: [protocolModule] }),
      m.call(karma, "grantRole", [ROLES.DEFAULT_ADMIN_ROLE, governance], { id: "karma_grantAdmin", after: [protocolModule] }),
      m.call(market, "grantRole", [ROLES.DEFAULT_ADMIN_ROLE, governance], { id: "market_grantAdmin", after: [protocolModule] }),
      m.call(coordinator, "grantRole", [ROLES.DEFAULT_ADMIN_ROLE, governance], { id: "coordinator_grantAdmin", after: [protocolModule] }),
      m.call(coordinator, "grantRole", [ROLES.PARAMETER_ROLE, governance], { id: "coordinator_grantParameter", after: [protocolModule] }),
    ];
    m.call(coordinator, "renounceRole", [ROLES.PARAMETER_ROLE, deployer], { id: "coordinator_renounceParameter", after: grants });
    m.call(token, "renounceRole", [ROLES.DEFAULT_ADMIN_ROLE, deployer], { id: "token_renounceAdmin", after: grants });
    m.call(registry, "renounceRole", [ROLES.DEFAULT_ADMIN_ROLE, deployer], { id: "registry_renounceAdmin", after: grants });
    m.call(karma, "renounceRole", [ROLES.DEFAULT_ADMIN_ROLE, deployer], { id: "karma_renounceAdmin", after: grants });
    m.call(market, "renounceRole", [ROLES.DEFAULT_ADMIN_ROLE, deployer], { id: "market_renounceAdmin", after: grants });
    m.call(coordinator, "renounceRole", [ROLES.DEFAULT_ADMIN_ROLE, deployer], { id: "coordinator_renounceAdmin", after: grants });
    return contracts;
  });
}
