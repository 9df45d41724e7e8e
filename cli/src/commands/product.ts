// datamarket product create|list|show|buy|extend
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { collect, encryptionKey, formatData, parseAddress, parseBytes32, parseData, parseDuration, resolveResource } from "../args";
import { receiptOf, type Context } from "../context";
import { notFound, usage } from "../errors";
import { fields, table } from "../output";
import type { Action } from "../main";

const STATES = ["none", "active", "paused", "deleted"];
const LICENSE_STATUS = ["none", "active", "suspended", "ended"];
const DAY = 86_400n;

async function productView(ctx: Context, productId: string) {
  const { market } = await ctx.contracts(false);
  const p = await market.getProduct(productId);
  if (p.seller === "0x0000000000000000000000000000000000000000") throw notFound(`no product ${productId} on the market`, { productId });
  return {
    productId,
    seller: p.seller,
    beneficiary: p.beneficiary,
    pricePerSecond: p.pricePerSecond,
    pricePerDay: formatData(p.pricePerSecond * DAY),
    minSeconds: Number(p.minSeconds),
    maxSeconds: Number(p.maxSeconds),
    requiresConsent: p.requiresConsent,
    requiresKyc: p.requiresKyc,
    state: STATES[Number(p.state)] ?? String(p.state),
    termsHash: p.termsHash,
    resources: [...(await market.productResources(productId))],
  };
}

export function productCommands(program: Command, action: Action): void {
  const product = program.command("product").description("products on the data-licence market: list, inspect, buy and extend licences");

  product
    .command("create")
    .description("list a product over streams and datasets you own (the market is made their subscribe delegate first)")
    .requiredOption("--resource <ids...>", "streams or datasets (id, <address>/<path> or /<path>); repeat or separate with commas", collect)
    .option("--price <DATA>", "price per day in DATA (8.64 = 0.0001 DATA a second)")
    .option("--price-per-second <wei>", "price per second in DATA wei (exact)")
    .option("--min <duration>", "shortest licence", "1h")
    .option("--max <duration>", "longest licence", "365d")
    .option("--consent", "buyers need a consent attestation (a grant of the consent ledger)")
    .option("--kyc", "buyers need a KYC record")
    .requiredOption("--terms-uri <uri>", "where the terms of use are published")
    .option("--terms-file <file>", "the terms' text: its keccak-256 is recorded (default: of the URI)")
    .option("--salt <text>", "makes the product id (productIdOf(seller, keccak256(text))); default random")
    .option("--beneficiary <address>", "who receives the released escrow (default: you)")
    .action(
      action(
        async (
          ctx: Context,
          opts: {
            resource: string[];
            price?: string;
            pricePerSecond?: string;
            min: string;
            max: string;
            consent?: boolean;
            kyc?: boolean;
            termsUri: string;
            termsFile?: string;
            salt?: string;
            beneficiary?: string;
          },
        ) => {
          const { keccak256, toUtf8Bytes, id, hexlify, randomBytes } = await import("ethers");
          if ((opts.price === undefined) === (opts.pricePerSecond === undefined))
            throw usage("give the price with --price <DATA a day> or --price-per-second <wei>");
          const pricePerSecond =
            opts.pricePerSecond !== undefined
              ? BigInt(
                  /^\d+$/.test(opts.pricePerSecond)
                    ? opts.pricePerSecond
                    : (() => {
                        throw usage("--price-per-second must be an integer (wei)");
                      })(),
                )
              : parseData(opts.price!, "--price") / DAY;
          if (pricePerSecond === 0n) throw usage("the price must be at least 1 wei a second");
          if (opts.price !== undefined && parseData(opts.price, "--price") % DAY !== 0n)
            ctx.out.note(`the price per second is rounded down to ${pricePerSecond} wei (${formatData(pricePerSecond * DAY)} a day)`);
          const resources = await Promise.all(opts.resource.map((r) => resolveResource(ctx, r)));
          const seller = await ctx.address();
          const salt = opts.salt !== undefined ? id(opts.salt) : hexlify(randomBytes(32));
          const termsHash = keccak256(opts.termsFile ? readFileSync(opts.termsFile) : toUtf8Bytes(opts.termsUri));
          const { record } = await ctx.deployment();
          const registry = await ctx.registryClient();
          for (const resource of resources) {
            ctx.out.progress(`making the market the subscribe delegate of ${resource}: waiting for confirmation`);
            await registry.setSubscribeDelegate(resource, record.contracts.DataLicenseMarket.address, true);
          }
          const sdk = ctx.sdk();
          const market = new sdk.MarketClient(record.contracts.DataLicenseMarket.address, record.contracts.DATAToken.address, await ctx.wallet());
          ctx.out.progress("listing the product: waiting for confirmation");
          const { productId, receipt } = await market.listProduct(salt, {
            beneficiary: opts.beneficiary ? parseAddress(opts.beneficiary, "--beneficiary") : seller,
            pricePerSecond,
            minSeconds: parseDuration(opts.min, "--min"),
            maxSeconds: parseDuration(opts.max, "--max"),
            requiresConsent: Boolean(opts.consent),
            requiresKyc: Boolean(opts.kyc),
            termsHash,
            termsUri: opts.termsUri,
            resources,
          });
          const result = { productId: productId.toLowerCase(), salt, seller, pricePerSecond, resources, ...receiptOf(receipt) };
          ctx.out.result(result, (r) =>
            fields([
              ["product", r.productId],
              ["price", `${formatData(r.pricePerSecond * DAY)} a day`],
              ["resources", r.resources.join(", ")],
              ["block", r.block],
            ]),
          );
        },
      ),
    );

  product
    .command("list")
    .description("products listed on the market (from its ProductCreated events since the deploy block)")
    .option("--seller <address>", "only this seller's")
    .option("--block-range <n>", "blocks per eth_getLogs request", "10000")
    .action(
      action(async (ctx: Context, opts: { seller?: string; blockRange: string }) => {
        const { market } = await ctx.contracts(false);
        const { record } = await ctx.deployment();
        const seller = opts.seller ? parseAddress(opts.seller, "--seller") : undefined;
        const filter = market.filters.ProductCreated(undefined, seller);
        const from = record.contracts.DataLicenseMarket.deployBlock;
        const latest = await ctx.provider().getBlockNumber();
        const step = Math.max(1, Number(opts.blockRange));
        const ids: string[] = [];
        for (let start = from; start <= latest; start += step) {
          ctx.out.progress(`reading ProductCreated events: block ${start} of ${latest}`);
          for (const log of await market.queryFilter(filter, start, Math.min(latest, start + step - 1))) ids.push(String(log.args.productId).toLowerCase());
        }
        const products = [];
        for (const productId of ids) products.push(await productView(ctx, productId));
        ctx.out.result(products, (list) =>
          list.length === 0
            ? "no products"
            : table([
                ["product", "seller", "price a day", "consent", "state", "resources"],
                ...list.map((p) => [p.productId, p.seller, p.pricePerDay, p.requiresConsent ? "yes" : "no", p.state, String(p.resources.length)]),
              ]),
        );
      }),
    );

  product
    .command("show <productId>")
    .description("a product, and your licence to it when a wallet is set")
    .action(
      action(async (ctx: Context, productId: string) => {
        const id = parseBytes32(productId, "product id");
        const view: Record<string, unknown> = await productView(ctx, id);
        if (process.env.DATAMARKET_PRIVATE_KEY || process.env.DATAMARKET_KEYSTORE || ctx.options.keystore) {
          const { market } = await ctx.contracts(false);
          const license = await market.getLicense(id, await ctx.address());
          view.yourLicense =
            Number(license.status) === 0
              ? null
              : {
                  status: LICENSE_STATUS[Number(license.status)],
                  end: Number(license.end),
                  ratePerSecond: license.rate,
                  releasedUntil: Number(license.releasedUntil),
                };
        }
        ctx.out.result(view, (v) =>
          fields(
            Object.entries(v).map(([k, x]) => [
              k,
              Array.isArray(x) ? x.join(", ") : x && typeof x === "object" ? JSON.stringify(x, (_k, y) => (typeof y === "bigint" ? String(y) : y)) : x,
            ]),
          ),
        );
      }),
    );

  product
    .command("buy <productId>")
    .description("buy a licence in one transaction (EIP-2612 permit; a consent-gated product's attestation from the consent bridges)")
    .requiredOption("--duration <duration>", "licence length (3600, 12h, 7d)")
    .option("--grant <grantId>", "the consent ledger's grant to buy under (consent-gated products)")
    .option("--bridge <urls...>", "consent bridges' base URLs; repeat or separate with commas", collect)
    .option("--max-price <wei>", "highest accepted price per second (default: the current price)")
    .option("--encryption-key-file <file>", "register this key's public half in the same transaction (datamarket wallet encryption-key --no-register)")
    .action(
      action(
        async (
          ctx: Context,
          productId: string,
          opts: { duration: string; grant?: string; bridge?: string[]; maxPrice?: string; encryptionKeyFile?: string },
        ) => {
          const id = parseBytes32(productId, "product id");
          const duration = parseDuration(opts.duration, "--duration");
          const grantId = opts.grant ? parseBytes32(opts.grant, "--grant") : undefined;
          if (grantId && !opts.bridge?.length) throw usage("--grant needs the consent bridges to collect its attestation from: --bridge URL[,URL...]");
          const view = await productView(ctx, id);
          if (view.requiresConsent && !grantId)
            throw usage(`product ${id} requires consent: buy under a grant of the consent ledger (--grant, datamarket consent request)`);
          const sdk = ctx.sdk();
          const { record } = await ctx.deployment();
          const market = new sdk.MarketClient(
            record.contracts.DataLicenseMarket.address,
            record.contracts.DATAToken.address,
            await ctx.wallet(),
            opts.bridge ?? [],
          );
          const privateKey = encryptionKey(opts.encryptionKeyFile, false);
          const publicKey = opts.encryptionKeyFile && privateKey ? sdk.publicKeyOf(privateKey) : undefined;
          ctx.out.progress(
            grantId ? `collecting the attestation of grant ${grantId} from ${opts.bridge!.length} consent bridge(s)` : "quoting and signing the permit",
          );
          if (grantId) {
            const consent = await market.collectConsent(grantId, id);
            ctx.out.progress(`attested by ${consent.signers.length} attestor(s); signing the permit and sending: waiting for confirmation`);
          } else {
            ctx.out.progress("signing the permit and sending: waiting for confirmation");
          }
          const bought = await market.buyWithPermit({
            productId: id,
            duration,
            ...(grantId ? { grantId } : {}),
            ...(publicKey ? { encryptionKey: publicKey } : {}),
            ...(opts.maxPrice ? { maxPricePerSecond: BigInt(opts.maxPrice) } : {}),
          });
          const result = {
            productId: id,
            buyer: await ctx.address(),
            duration,
            cost: bought.cost,
            ...(bought.consent ? { attestors: bought.consent.signers } : {}),
            ...receiptOf(bought.receipt),
          };
          ctx.out.result(result, (r) =>
            fields([
              ["product", r.productId],
              ["licence", `${r.duration} s`],
              ["paid", formatData(r.cost)],
              ["block", r.block],
            ]),
          );
        },
      ),
    );

  product
    .command("extend <productId>")
    .description("extend your licence (approves the market for the quoted cost first when needed)")
    .requiredOption("--duration <duration>", "time to add (3600, 12h, 7d)")
    .option("--max-price <wei>", "highest accepted price per second (default: the current price)")
    .action(
      action(async (ctx: Context, productId: string, opts: { duration: string; maxPrice?: string }) => {
        const id = parseBytes32(productId, "product id");
        const duration = parseDuration(opts.duration, "--duration");
        const { market, token } = await ctx.contracts(true);
        const { record } = await ctx.deployment();
        const me = await ctx.address();
        const view = await productView(ctx, id);
        const cost = await market.quote(id, duration);
        const spender = record.contracts.DataLicenseMarket.address;
        if ((await token.allowance(me, spender)) < cost) await ctx.send(`approving ${formatData(cost)} to the market`, token.approve(spender, cost));
        const receipt = await ctx.send(`extending by ${duration} s`, market.extend(id, duration, opts.maxPrice ? BigInt(opts.maxPrice) : view.pricePerSecond));
        const license = await market.getLicense(id, me);
        ctx.out.result({ productId: id, duration, cost, end: Number(license.end), ...receiptOf(receipt) }, (r) =>
          fields([
            ["product", r.productId],
            ["paid", formatData(r.cost)],
            ["licence ends", new Date(r.end * 1000).toISOString()],
            ["block", r.block],
          ]),
        );
      }),
    );
}
