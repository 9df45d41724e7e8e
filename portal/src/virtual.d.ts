// The build-time module of plugins/code-fingerprints.ts (a Vite plugin).
declare module "virtual:code-fingerprints" {
  export const version: string;
  export const fingerprints: Record<
    string,
    { bytes: number; hash: string; immutables: [number, number][]; links: [number, number, string][]; library: boolean }
  >;
}
