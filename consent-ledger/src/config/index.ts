// Daemon configuration shared by the bridge and the broker: the schema engine (environment rule,
// validation messages, docs table) and the consent-ledger block both daemons take. Loaded without
// Fabric: import it as `@datamarket/consent-ledger/config`.
export {
  DaemonConfig,
  LOG_LEVELS,
  confirmationDepth,
  envNameOf,
  fieldOf,
  oneOf,
  problemText,
  renderGenerated,
  settings,
  settingsOf,
  show,
  type Checked,
  type ConfigProblem,
  type DaemonConfigOptions,
  type LogLevel,
  type Setting,
} from "./daemon";
export { configErrorExit, parseStartCommand, processOutput, stopSignals, type Output, type StartCommand, type StopSignals } from "./command";
export {
  ConsentLedgerSchema,
  consentLedgerSchema,
  fabricConnectionProblem,
  fabricGatewayConfigOf,
  type ConsentLedgerSettings,
  type FabricConnectionSettings,
} from "./ledger";
