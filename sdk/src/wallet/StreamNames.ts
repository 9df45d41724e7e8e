// ENS names of streams (StreamNames, docs/contracts.md §7): resolve `heart-rate.kraken.eth` to the
// stream id, and name one's own stream. Resolution is a view of the contract, which checks ENS and the
// registry on chain at that moment; nothing is cached or trusted here.

import { namehash, type ContractRunner, type ContractTransactionReceipt } from "ethers";
import { normalizeStreamName as normalizeName } from "@datamarket/protocol";
import { SdkError, SdkErrorCodes } from "../errors";
import { streamNamesAt, type BoundContract } from "./contracts";

/** A name as StreamNames takes it (ENSIP-15 normalised, ASCII a-z 0-9 - labels: docs/contracts.md §7); SdkError INVALID_ARGUMENT otherwise. */
export function normalizeStreamName(name: string): string {
  try {
    return normalizeName(name);
  } catch (err) {
    throw SdkError.from(err, SdkErrorCodes.INVALID_ARGUMENT, { name });
  }
}

export class StreamNamesClient {
  readonly contract: BoundContract;

  constructor(address: string, runner: ContractRunner) {
    this.contract = streamNamesAt(address, runner);
  }

  /**
   * The stream id a name resolves to now. Throws SdkError NAME_NOT_FOUND when the name has no record or
   * its record is void (the name or the stream changed hands), with the contract's reason.
   */
  async resolve(name: string): Promise<string> {
    const normalized = normalizeStreamName(name);
    try {
      return String(await this.contract.resolve(namehash(normalized))).toLowerCase();
    } catch (err) {
      const data = (err as { data?: string }).data;
      const parsed = data ? this.contract.interface.parseError(data) : null;
      if (parsed?.name === "NameNotSet" || parsed?.name === "NameStale") {
        throw new SdkError(
          SdkErrorCodes.NAME_NOT_FOUND,
          `${normalized} ${parsed.name === "NameNotSet" ? "names no stream" : "no longer names the stream it named (the name or the stream changed hands)"}`,
          {
            name: normalized,
            reason: parsed.name,
            ...(parsed.name === "NameStale" ? { streamId: String(parsed.args[1]).toLowerCase(), owner: String(parsed.args[2]).toLowerCase() } : {}),
          },
        );
      }
      throw err;
    }
  }

  /** Names a stream the signer owns with an ENS name it controls. */
  async setName(name: string, streamId: string): Promise<ContractTransactionReceipt> {
    const receipt = (await (await this.contract.setName(normalizeStreamName(name), streamId)).wait()) as ContractTransactionReceipt | null;
    if (!receipt) throw new SdkError(SdkErrorCodes.BROKER_ERROR, "transaction dropped");
    return receipt;
  }
}

/** Resolves a stream name with the StreamNames contract at `address` (for the CLI and one-off calls). */
export function resolveStreamName(runner: ContractRunner, address: string, name: string): Promise<string> {
  return new StreamNamesClient(address, runner).resolve(name);
}
