// EIP-1193 wallet connection (window.ethereum, as MetaMask and the e2e test's provider inject it):
// accounts, chain check, and personal_sign for the consent API's signed requests.
import { hexlify, toUtf8Bytes } from "ethers";

export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
  on?(event: string, listener: (...args: unknown[]) => void): void;
}

declare global {
  interface Window {
    ethereum?: Eip1193Provider;
  }
}

export class Wallet {
  address: string | null = null;
  private listeners = new Set<() => void>();

  constructor(private readonly expectedChainId: number) {
    window.ethereum?.on?.("accountsChanged", (accounts) => this.setAccount((accounts as string[])[0]));
  }

  get available(): boolean {
    return window.ethereum !== undefined;
  }

  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  private setAccount(account: string | undefined): void {
    this.address = account ? account.toLowerCase() : null;
    for (const l of this.listeners) l();
  }

  /** The injected provider itself (for an ethers signer over it: src/tx.ts). */
  eip1193(): Eip1193Provider {
    return this.provider();
  }

  private provider(): Eip1193Provider {
    if (!window.ethereum) throw new Error("no wallet found: install a browser wallet (an EIP-1193 provider such as MetaMask) and reload");
    return window.ethereum;
  }

  /** Asks the wallet for an account and checks it is on the deployment's chain. */
  async connect(): Promise<string> {
    const accounts = (await this.provider().request({ method: "eth_requestAccounts" })) as string[];
    if (!accounts?.length) throw new Error("the wallet shared no account");
    const chainId = Number(await this.provider().request({ method: "eth_chainId" }));
    if (chainId !== this.expectedChainId)
      throw new Error(`the wallet is on chain ${chainId}; this deployment is on chain ${this.expectedChainId}: switch networks in the wallet`);
    this.setAccount(accounts[0]);
    return this.address!;
  }

  /** personal_sign (EIP-191) of a UTF-8 text by the connected account. */
  async signText(text: string): Promise<string> {
    if (!this.address) throw new Error("connect a wallet first");
    return (await this.provider().request({ method: "personal_sign", params: [hexlify(toUtf8Bytes(text)), this.address] })) as string;
  }
}
