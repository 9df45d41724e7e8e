// The consent ledger's access decision in words: each denial reason of the chaincode's vocabulary
// (chaincode/src/vocabulary.ts, DenialReason) as a sentence a buyer can act on, and a dataset's
// released and left-out subjects.
import type { AccessRequestResult } from "./consent-client";
import { html, type Html } from "./dom";

const REASONS: Record<string, string> = {
  NO_CONSENT: "no data subject has given consent for this data",
  PURPOSE_NOT_COVERED: "no data subject's consent covers this purpose",
  BUYER_TYPE_NOT_ALLOWED: "the consents do not allow buyers of your organisation's type",
  JURISDICTION_NOT_ALLOWED: "the consents do not allow buyers in your jurisdiction",
  SPECIAL_CATEGORY_WITHOUT_EXPLICIT_CONSENT: "the data is of a special category (GDPR Art. 9) and the consent is not explicit",
  NOT_YET_VALID: "the consent is not valid yet",
  EXPIRED: "the consent has expired",
  WITHDRAWN: "the data subject withdrew consent",
  REVOKED: "the consent was revoked",
  UNKNOWN_RESOURCE: "the consent ledger does not know this product's data",
  CREDENTIAL_REVOKED: "the credential behind your organisation's attributes is revoked",
  CREDENTIAL_SUSPENDED: "the credential behind your organisation's attributes is suspended",
  CREDENTIAL_UNTRUSTED: "the issuer of your organisation's credential is no longer trusted",
  /** the seller's release service: the subject is not among those the grant released */
  NOT_IN_GRANT: "their consent does not cover your grant's purpose, buyer type or jurisdiction",
};

/** "the data subject withdrew consent (WITHDRAWN)"; an unknown code as itself. */
export const reasonInWords = (code: string) => (REASONS[code] ? `${REASONS[code]} (${code})` : code);

/** The decision as the product page shows it: the verdict, the reasons, and who is released or left out. */
export function decisionHtml(d: Pick<AccessRequestResult, "decision" | "reasons" | "subjectsTotal" | "releasedSubjects" | "leftOut">): Html {
  const approved = d.decision === "approved";
  const leftOut = d.leftOut.filter((l) => l.count > 0);
  const leftOutTotal = leftOut.reduce((sum, l) => sum + l.count, 0);
  return html`<p class="verdict ${approved ? "ok" : "bad"}" id="verdict">
      ${approved ? "Approved" : "Denied"} by the consent ledger${approved ? "" : ": no licence can be bought for this purpose"}.
    </p>
    ${
      d.reasons.length
        ? html`<h3>Reasons</h3>
            <ul id="reasons">
              ${d.reasons.map((r) => html`<li data-reason="${r}">${reasonInWords(r)}</li>`)}
            </ul>`
        : ""
    }
    ${
      approved || d.releasedSubjects.length
        ? html`<p id="released">
            ${d.releasedSubjects.length} data subject${d.releasedSubjects.length === 1 ? "'s" : "s'"} records
            released${d.subjectsTotal ? ` of ${d.subjectsTotal}` : ""}${leftOutTotal ? `; ${leftOutTotal} left out` : ""}.
          </p>`
        : ""
    }
    ${
      leftOut.length
        ? html`<ul id="left-out">
            ${leftOut.map((l) => html`<li>${l.count} left out: ${reasonInWords(l.reason)}</li>`)}
          </ul>`
        : ""
    }`;
}
