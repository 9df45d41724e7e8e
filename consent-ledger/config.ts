// `@datamarket/consent-ledger/config`: the daemons' configuration module (src/config), importable
// without loading the Fabric ledger that the package's main entry brings.
export * from "./src/config";
