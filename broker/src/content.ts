// The content rules a broker checks at ingress (docs/protocol.md §1.4), after the layout checks of
// decodeFrame: encrypted content is at least nonce + tag long, and unencrypted JSON content is
// well-formed UTF-8 JSON. Stored events are not re-checked; receivers apply the same rules.

import { BrokerError, ErrorCodes } from "./errors";
import { ContentType, EncryptionType, type EventFields } from "@datamarket/protocol";

/** AES-256-GCM content: nonce (12) ‖ ciphertext ‖ tag (16); the key exchange section of docs/protocol.md. */
export const MIN_ENCRYPTED_CONTENT_BYTES = 12 + 16;

// fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: a BOM is kept, so JSON.parse refuses it (RFC 8259 §8.1).
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Throws MALFORMED_FRAME (details.field "content", details.rule) when the content breaks a rule. */
export function checkContent(event: Pick<EventFields, "contentType" | "encryptionType" | "content">): void {
  if (event.encryptionType === EncryptionType.AES_256_GCM) {
    // The content is ciphertext: contentType describes the plaintext, which a broker never sees.
    if (event.content.length < MIN_ENCRYPTED_CONTENT_BYTES) {
      throw new BrokerError(
        ErrorCodes.MALFORMED_FRAME,
        `encrypted content of ${event.content.length} bytes is shorter than nonce + tag (${MIN_ENCRYPTED_CONTENT_BYTES} bytes)`,
        {
          field: "content",
          rule: "encrypted-content-length",
          length: event.content.length,
          minimum: MIN_ENCRYPTED_CONTENT_BYTES,
        },
      );
    }
    return;
  }
  if (event.contentType !== ContentType.JSON) return;
  try {
    JSON.parse(utf8.decode(event.content));
  } catch (err) {
    throw new BrokerError(ErrorCodes.MALFORMED_FRAME, `contentType 1 (JSON) but the content is not UTF-8 JSON: ${(err as Error).message}`, {
      field: "content",
      rule: "json-content",
      contentType: ContentType.JSON,
    });
  }
}
