// fabric-shim and fabric-contract-api log every transaction and every chaincode error to the console
// through one winston transport per module. In process that would flood the host application's
// output, so the transports are silenced unless CORE_CHAINCODE_LOGGING_LEVEL asks for logs.
const modules = ['fabric-shim/lib/logger', 'fabric-contract-api/lib/logger'];

if (process.env.CORE_CHAINCODE_LOGGING_LEVEL === undefined) {
    for (const name of modules) {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const logger = require(name).getLogger('consent-ledger');
        for (const transport of logger.transports as Array<{ silent: boolean }>) {
            transport.silent = true;
        }
    }
}

export {};
