// What every page gets: the deployment's config, the chain reader, the indexer, the wallet, the consent
// API client, and the status line (an aria-live region: progress and errors are announced).
import type { PortalConfig } from "./config";
import type { ConsentApiClient } from "./consent-client";
import type { Indexer } from "./indexer";
import type { ChainReader } from "./rpc";
import type { Wallet } from "./wallet";

export interface App {
  config: PortalConfig;
  chain: ChainReader;
  indexer: Indexer;
  wallet: Wallet;
  consentApi: ConsentApiClient;
  /** progress or a result, announced politely */
  status(message: string): void;
  /** an error in words, announced assertively */
  alert(message: string): void;
}

export interface Page {
  title: string;
  /** renders into `main` (`args`: the route's segments after the page name); returns a function that stops what the page started */
  render(main: HTMLElement, app: App, args: string[]): Promise<(() => void) | void>;
}
