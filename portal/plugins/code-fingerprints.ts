// A Vite plugin: `virtual:code-fingerprints` gives the Audit page, for each contract of
// @datamarket/contracts' artifacts, the keccak-256 of its runtime code with the deployment-specific
// bytes zeroed (immutables, linked library addresses, a library's own-address call guard) and where
// those bytes are. The browser zeroes the same bytes of the code on chain and compares hashes, then
// checks the linked addresses against the deployment record: the same comparison as
// `datamarket deployment verify`, without shipping every contract's bytecode (~150 KiB gzip) to the page.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { keccak256 } from "ethers";
import type { Plugin } from "vite";

type Ranges = { start: number; length: number }[];

interface Artifact {
  sourceName: string;
  contractName: string;
  deployedBytecode: string;
  deployedLinkReferences: Record<string, Record<string, Ranges>>;
  immutableReferences: Record<string, Ranges>;
}

export interface CodeFingerprint {
  /** runtime code length, bytes */
  bytes: number;
  /** keccak256 of the runtime code with `immutables`, `links` and (for a library) bytes 1..20 zeroed */
  hash: string;
  immutables: [start: number, length: number][];
  /** [start, length, "source.sol:Library"] of each linked library address */
  links: [start: number, length: number, library: string][];
  /** a library's runtime code starts with PUSH20 <its own address> (the delegatecall guard) */
  library: boolean;
}

export function fingerprint(artifact: Artifact): CodeFingerprint {
  let code = artifact.deployedBytecode.toLowerCase().replace(/^0x/, "");
  const zero = (start: number, length: number) => {
    code = code.slice(0, start * 2) + "00".repeat(length) + code.slice((start + length) * 2);
  };
  const links: CodeFingerprint["links"] = [];
  for (const [source, byName] of Object.entries(artifact.deployedLinkReferences ?? {}))
    for (const [name, places] of Object.entries(byName)) for (const { start, length } of places) links.push([start, length, `${source}:${name}`]);
  const immutables = Object.values(artifact.immutableReferences ?? {})
    .flat()
    .map(({ start, length }) => [start, length] as [number, number]);
  for (const [start, length] of [...links, ...immutables]) zero(start, length);
  const library = code.startsWith("73" + "00".repeat(20));
  return { bytes: code.length / 2, hash: keccak256("0x" + code), immutables, links, library };
}

const ID = "virtual:code-fingerprints";

export function codeFingerprints(): Plugin {
  return {
    name: "datamarket-code-fingerprints",
    resolveId: (id) => (id === ID ? "\0" + ID : undefined),
    load(id) {
      if (id !== "\0" + ID) return undefined;
      const require = createRequire(import.meta.url);
      const dir = path.join(path.dirname(require.resolve("@datamarket/contracts/package.json")), "dist", "artifacts");
      const out: Record<string, CodeFingerprint> = {};
      for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
        const artifact = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as Artifact;
        if (artifact.deployedBytecode && artifact.deployedBytecode !== "0x") out[`${artifact.sourceName}:${artifact.contractName}`] = fingerprint(artifact);
      }
      const { version } = JSON.parse(readFileSync(require.resolve("@datamarket/contracts/package.json"), "utf8")) as { version: string };
      return `export const version = ${JSON.stringify(version)};\nexport const fingerprints = ${JSON.stringify(out)};`;
    },
  };
}
