// A few lines instead of a framework: escaped HTML templates, formatting, and the words the pages use.
import { formatUnits, id } from "ethers";
import { PURPOSES } from "./vocabulary";

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escape = (value: unknown) => String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** A trusted fragment (already escaped). */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Tagged template: every interpolation is escaped unless it is Html (or an array of Html). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  values.forEach((v, i) => {
    const part = (x: unknown): string =>
      x instanceof Html ? x.text : Array.isArray(x) ? x.map(part).join("") : x === undefined || x === null || x === false ? "" : escape(x);
    out += part(v) + strings[i + 1];
  });
  return new Html(out);
}

export const $ = <T extends HTMLElement = HTMLElement>(selector: string, root: ParentNode = document) => root.querySelector<T>(selector)!;

/** 18-decimal DATA wei in words, at most 4 decimals. */
export function data(wei: bigint): string {
  const [whole, fraction = ""] = formatUnits(wei, 18).split(".");
  const f = fraction.slice(0, 4).replace(/0+$/, "");
  return `${Number(whole).toLocaleString("en-US")}${f ? "." + f : ""} DATA`;
}

/** 0x1234…abcd, with the whole address in the title. */
export const short = (address: string) => html`<span class="mono" title="${address}">${address.slice(0, 6)}…${address.slice(-4)}</span>`;

export function date(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

export function duration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} day${seconds === 86_400 ? "" : "s"}`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600} hour${seconds === 3_600 ? "" : "s"}`;
  return `${seconds} s`;
}

let purposeNames: Map<string, string> | undefined;

/** "scientific research" for id("ScientificResearch") (a purpose of the consent ledger's vocabulary by its on-chain id); unknown ids as hex. */
export function purposeName(purposeIdOrName: string): string {
  purposeNames ??= new Map(PURPOSES.map((p) => [id(p), p]));
  const name = purposeIdOrName.startsWith("0x") ? purposeNames.get(purposeIdOrName.toLowerCase()) : purposeIdOrName;
  return name ? words(name) : purposeIdOrName;
}

/** The DPV term ("ScientificResearch") of an on-chain purpose id keccak256(term); undefined for a term outside the vocabulary. */
export function purposeTerm(purposeId: string): string | undefined {
  purposeNames ??= new Map(PURPOSES.map((p) => [id(p), p]));
  return purposeNames.get(purposeId.toLowerCase());
}

/** CamelCase to lower-case words. */
export const words = (camel: string) => camel.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
