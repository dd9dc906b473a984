/**
 * The close-frame limits shared by the Courier and the WebSocket class
 * (lib/close_rules.ts), as plain functions: no connection. What each API
 * does with them (RangeError, DOMException, a truncation warning) is tested
 * in options.test.ts and websocket.test.ts.
 */
import { isSendableCloseCode, isWhatwgCloseCode, MAX_REASON_BYTES, reasonFits, SENDABLE_CLOSE_CODES, truncateReason } from '../lib/close_rules';

// Each edge code, with whether the Courier may send it and whether a script
// may pass it to the WHATWG close().
const CODES: Array<[code: number, courier: boolean, whatwg: boolean]> = [
  [999, false, false],
  [1000, true, true],
  [1001, true, false],
  [1003, true, false],
  [1004, false, false], // reserved
  [1005, true, false], // the Courier's "no status"
  [1006, false, false], // reserved: no close frame at all
  [1007, true, false],
  [1011, true, false],
  [1012, false, false],
  [1014, false, false],
  [1015, false, false], // reserved: TLS failure
  [2999, false, false],
  [3000, true, true],
  [4999, true, true],
  [5000, false, false],
];

describe('close codes', () => {
  test.each(CODES)('%i: Courier %p, WHATWG %p', (code, courier, whatwg) => {
    expect(isSendableCloseCode(code)).toBe(courier);
    expect(isWhatwgCloseCode(code)).toBe(whatwg);
  });

  test('the Courier range text names exactly the codes it accepts', () => {
    expect(SENDABLE_CLOSE_CODES).toBe('1000-1003, 1005, 1007-1011 or 3000-4999');
    const accepted: number[] = [];
    for (let code = 0; code <= 65535; code++) if (isSendableCloseCode(code)) accepted.push(code);
    const ranges: Array<[from: number, to: number]> = [
      [1000, 1003],
      [1005, 1005],
      [1007, 1011],
      [3000, 4999],
    ];
    expect(accepted).toEqual(ranges.flatMap(([from, to]) => Array.from({ length: to - from + 1 }, (_, i) => from + i)));
  });
});

describe('close reasons', () => {
  test('the limit is 123 bytes: a 125-byte control payload less the 2-byte code', () => {
    expect(MAX_REASON_BYTES).toBe(123);
  });

  test('exactly 123 bytes fits and is kept whole', () => {
    for (const reason of ['x'.repeat(123), `${'é'.repeat(61)}z`, `${'😀'.repeat(30)}abc`]) {
      expect(Buffer.byteLength(reason)).toBe(123);
      expect(reasonFits(reason)).toBe(true);
      expect(truncateReason(reason)).toBe(reason);
    }
  });

  test('124 bytes does not fit and is cut to 123', () => {
    const reason = 'x'.repeat(124);
    expect(reasonFits(reason)).toBe(false);
    expect(truncateReason(reason)).toBe('x'.repeat(123));
  });

  test.each<[string, string, string]>([
    ["2-byte 'é' over bytes 123-124", 'é'.repeat(62), 'é'.repeat(61)],
    ["3-byte '€' over bytes 122-124", `${'x'.repeat(121)}€`, 'x'.repeat(121)],
    ["3-byte '€' over bytes 123-125", `${'x'.repeat(122)}€`, 'x'.repeat(122)],
    ["4-byte '😀' over bytes 121-124", `${'x'.repeat(120)}😀`, 'x'.repeat(120)],
    ["4-byte '😀' over bytes 123-126", `${'x'.repeat(122)}😀`, 'x'.repeat(122)],
  ])('a character straddling the limit (%s) is dropped whole', (_title, reason, expected) => {
    expect(reasonFits(reason)).toBe(false);
    expect(truncateReason(reason)).toBe(expected);
  });

  test('a character ending exactly at byte 123 is kept', () => {
    const reason = `${'x'.repeat(120)}€y`; // '€' is bytes 121-123
    expect(truncateReason(reason)).toBe(`${'x'.repeat(120)}€`);
  });

  test('the empty reason fits', () => {
    expect(reasonFits('')).toBe(true);
    expect(truncateReason('')).toBe('');
  });
});
