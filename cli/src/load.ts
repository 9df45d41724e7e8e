// Loads a dependency when a command first needs it (so that `--help` loads none). In a checkout of
// the repository a workspace package may still resolve to its TypeScript source (the consent ledger
// does): such a module is compiled on load by ts-node (an optional peer dependency: the repository
// has it, an installed `datamarket` never needs it).
const loaded = new Map<string, unknown>();
let typescriptHook = false;

export function loadModule<T>(name: string): T {
  const cached = loaded.get(name);
  if (cached) return cached as T;
  let resolved: string;
  try {
    resolved = require.resolve(name);
  } catch (error) {
    throw Object.assign(new Error(`${name} is not installed (npm install ${name.split("/").slice(0, 2).join("/")})`, { cause: error }), {
      code: "MODULE_NOT_FOUND",
      module: name,
    });
  }
  if (resolved.endsWith(".ts") && !typescriptHook) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require("ts-node") as typeof import("ts-node")).register({
      transpileOnly: true,
      skipProject: true,
      compilerOptions: {
        module: "commonjs",
        target: "es2022",
        esModuleInterop: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        resolveJsonModule: true,
      },
    });
    typescriptHook = true;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(resolved) as T;
  loaded.set(name, module);
  return module;
}
