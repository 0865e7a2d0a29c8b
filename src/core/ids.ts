/**
 * Row ids: UUIDv7 (RFC 9562 §5.7), whose first 48 bits are the creation time in milliseconds. New
 * rows of a table then land at the right edge of its primary-key index, one page for a whole batch,
 * where random (v4) ids put every insert on a page of its own: on SQLite each such page is 4 KiB
 * written to the log by the batch's COMMIT (docs/adr/0022-sqlite-writer.md).
 *
 * A session id is the first half of its token (D1), so the token's holder can read when the
 * session began, which the session's own JSON says anyway (`issued_at`). The token's secrecy is
 * in its separate 256-bit secret, never in the id.
 */
import { v7 } from "uuid";

export function newId(): string {
  return v7();
}
