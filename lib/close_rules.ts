/**
 * What a close frame this client sends may carry: which codes, and how long
 * a reason. The Courier and the WebSocket class apply different rules to
 * the code (Perl's wider set, the WHATWG spec's narrower one) and react
 * differently to a long reason (truncate, throw), but the limits themselves
 * live here, once.
 */

/**
 * The most UTF-8 bytes a close reason can have: a control frame's payload
 * is at most 125 bytes (RFC 6455 5.5), 2 of them for the code.
 */
export const MAX_REASON_BYTES = 123;

/** The Courier's sendable codes as isSendableCloseCode() accepts them, for its RangeError. */
export const SENDABLE_CLOSE_CODES = '1000-1003, 1005, 1007-1011 or 3000-4999';

/**
 * A code the Courier's close() may send: one an endpoint may put in a close
 * frame (RFC 6455 7.4.1), or 1005, which the Courier turns into a frame
 * with no status. 1004, 1006 and 1015 are reserved and never on the wire;
 * 1012-1014, registered after RFC 6455, are not among the documented codes.
 * (The addon checks the codes a server sends, in binding/closing_handshake.cc.)
 */
export function isSendableCloseCode(code: number): boolean {
  return (
    code === 1000 ||
    code === 1001 ||
    code === 1002 ||
    code === 1003 ||
    code === 1005 ||
    (code >= 1007 && code <= 1011) ||
    (code >= 3000 && code <= 4999)
  );
}

/**
 * A code a script may pass to the WHATWG WebSocket's close(): 1000, or one
 * of the registered and private ranges 3000-4999. The protocol-level codes
 * (1001-1015) are the user agent's to send, not the script's.
 */
export function isWhatwgCloseCode(code: number): boolean {
  return code === 1000 || (code >= 3000 && code <= 4999);
}

/** Whether a reason fits in a close frame (at most MAX_REASON_BYTES UTF-8 bytes). */
export function reasonFits(reason: string): boolean {
  return Buffer.byteLength(reason, 'utf8') <= MAX_REASON_BYTES;
}

/**
 * The reason cut to at most MAX_REASON_BYTES UTF-8 bytes, at a character
 * boundary so no character is split; the same string when it already fits.
 */
export function truncateReason(reason: string): string {
  const bytes = Buffer.from(reason, 'utf8');
  if (bytes.length <= MAX_REASON_BYTES) return reason;
  // Drop the continuation bytes (10xxxxxx) at the cut, back to a lead byte.
  let end = MAX_REASON_BYTES;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
