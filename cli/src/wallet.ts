// The wallet: a private key from the environment, or an encrypted JSON keystore (Web3 Secret Storage,
// scrypt) whose password comes from the environment or is asked on the terminal. A key is never a
// command-line argument: arguments show in `ps` and in shell history.
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import type { Wallet, HDNodeWallet } from "ethers";
import { config, usage } from "./errors";
import type { Output } from "./output";

export const ENV = {
  PRIVATE_KEY: "DATAMARKET_PRIVATE_KEY",
  KEYSTORE: "DATAMARKET_KEYSTORE",
  KEYSTORE_PASSWORD: "DATAMARKET_KEYSTORE_PASSWORD",
} as const;

/** scrypt reports progress thousands of times: say it once per whole percent. */
function percentProgress(say: (percent: number) => void): (share: number) => void {
  let last = -1;
  return (share) => {
    const percent = Math.floor(share * 100);
    if (percent !== last) say((last = percent));
  };
}

/** Reads a line from the terminal without echoing it. */
export async function askPassword(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw config(`${prompt.replace(/: $/, "")}: no terminal to ask on; set ${ENV.KEYSTORE_PASSWORD}`);
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding("utf8");
  return new Promise((resolve, reject) => {
    let password = "";
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === "\r" || char === "\n") {
          done();
          resolve(password);
          return;
        }
        if (char === "\u0003") {
          done();
          reject(Object.assign(new Error("interrupted"), { code: "SIGINT" }));
          return;
        }
        if (char === "\u007f") password = password.slice(0, -1);
        else password += char;
      }
    };
    const done = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    stdin.on("data", onData);
  });
}

async function keystorePassword(prompt: string): Promise<string> {
  const fromEnv = process.env[ENV.KEYSTORE_PASSWORD];
  return fromEnv !== undefined ? fromEnv : askPassword(prompt);
}

/**
 * The wallet of the command: DATAMARKET_PRIVATE_KEY, else the keystore of `--keystore` or
 * DATAMARKET_KEYSTORE. Throws CONFIG naming what to set when there is none or it does not open.
 */
export async function loadWallet(keystore: string | undefined, out: Output): Promise<Wallet | HDNodeWallet> {
  const { Wallet } = await import("ethers");
  const key = process.env[ENV.PRIVATE_KEY];
  if (key) {
    try {
      return new Wallet(key.startsWith("0x") ? key : `0x${key}`);
    } catch {
      throw config(`${ENV.PRIVATE_KEY} is not a 32-byte hex private key`);
    }
  }
  const file = keystore ?? process.env[ENV.KEYSTORE];
  if (!file) throw config(`no wallet: set ${ENV.PRIVATE_KEY}, or ${ENV.KEYSTORE} (or --keystore) to an encrypted JSON keystore (datamarket wallet create)`);
  let json: string;
  try {
    json = readFileSync(file, "utf8");
  } catch (error) {
    throw config(`keystore ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
  const password = await keystorePassword(`password of ${file}: `);
  const progress = percentProgress((percent) => out.progress(`decrypting ${file}: ${percent} %`));
  try {
    return await Wallet.fromEncryptedJson(json, password, progress);
  } catch (error) {
    throw config(`keystore ${file} did not open: ${/password/i.test((error as Error).message) ? "wrong password" : (error as Error).message}`);
  } finally {
    out.endProgress();
  }
}

/** Creates a new random wallet and writes its encrypted keystore (mode 0600); refuses to overwrite a file. */
export async function createKeystore(file: string, out: Output): Promise<{ address: string; keystore: string }> {
  const { Wallet } = await import("ethers");
  if (existsSync(file)) throw usage(`${file} exists: a keystore is never overwritten`);
  let password = process.env[ENV.KEYSTORE_PASSWORD];
  if (password === undefined) {
    password = await askPassword(`new password for ${file}: `);
    if ((await askPassword("again: ")) !== password) throw usage("the two passwords differ");
  }
  if (password.length < 8) throw usage("the keystore password must have at least 8 characters");
  const wallet = Wallet.createRandom();
  const json = await wallet.encrypt(
    password,
    percentProgress((percent) => out.progress(`encrypting ${file}: ${percent} %`)),
  );
  writeFileSync(file, json + "\n", { mode: 0o600, flag: "wx" });
  out.endProgress();
  return { address: wallet.address, keystore: file };
}
