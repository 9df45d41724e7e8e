// The portal's copy of the consent ledger's vocabulary (src/vocabulary.ts) is the ledger's.
import { expect } from "chai";
import { ADEQUACY_COUNTRIES, BUYER_TYPES, DATA_CATEGORIES, EEA_COUNTRIES, PURPOSE_PARENTS } from "@datamarket/consent-ledger";
import * as portal from "../src/vocabulary";

describe("the portal's consent vocabulary", () => {
  it("is the consent ledger's: purposes, buyer types, data categories with their special-category flag, jurisdictions", () => {
    expect(portal.PURPOSES).to.deep.equal(Object.keys(PURPOSE_PARENTS).filter((p) => p !== "Purpose"));
    expect(portal.BUYER_TYPES).to.deep.equal(BUYER_TYPES);
    expect(portal.DATA_CATEGORIES).to.deep.equal(DATA_CATEGORIES);
    expect([...portal.COUNTRIES].sort()).to.deep.equal([...new Set([...EEA_COUNTRIES, ...ADEQUACY_COUNTRIES])].sort());
  });
});
