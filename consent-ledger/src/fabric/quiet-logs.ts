// fabric-shim and fabric-contract-api log every transaction and every chaincode error to the console
// through winston. In process that would flood the host application's output, so their loggers are
// silenced unless CORE_CHAINCODE_LOGGING_LEVEL asks for logs. Silenced at the logger, not only at the
// transport: winston runs a logger's whole format pipeline (timestamp, metadata, printf) before a
// transport looks at the level, which cost about 5 % of a decision's CPU.
const modules = ["fabric-shim/lib/logger", "fabric-contract-api/lib/logger"];

/**
 * CORE_CHAINCODE_LOGGING_LEVEL as this process was started with it (setLevel below writes the variable):
 * what a chaincode worker thread's environment must carry for it to decide the same.
 */
export const REQUESTED_LOGGING_LEVEL = process.env.CORE_CHAINCODE_LOGGING_LEVEL;

if (REQUESTED_LOGGING_LEVEL === undefined) {
  for (const name of modules) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const module = require(name) as { setLevel(level: string): void; getLogger(name?: string): { silent: boolean } };
    module.setLevel("ERROR");
    const getLogger = module.getLogger.bind(module);
    // loggers are made (and cached) when the modules that log are first loaded: silence each one made
    module.getLogger = (loggerName?: string) => {
      const logger = getLogger(loggerName);
      logger.silent = true;
      return logger;
    };
    module.getLogger("consent-ledger");
  }
}
