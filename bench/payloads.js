'use strict';
// The messages the scenarios send. Deterministic, so every client and every
// run compresses exactly the same bytes.

const SMALL_TEXT = '{"type":"tick","symbol":"ABCD","price":1234.5678,"seq":12345678}';

/** A 64-byte text message. */
const smallText = () => SMALL_TEXT;

/** A binary message of `size` bytes; its content does not matter uncompressed. */
const binary = (size) => Buffer.alloc(size, 0xa5);

/**
 * `count` different JSON documents of exactly `size` bytes (ASCII), shaped
 * like an API response: repeated keys and small vocabularies, as real JSON
 * is, so deflate has something to work with, but with enough varying
 * numbers that it does not shrink to nothing.
 */
function jsonTexts(count, size) {
  let seed = 0x2545f491;
  // xorshift32: a fixed sequence, no dependency on Math.random.
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  const pick = (list) => list[Math.floor(random() * list.length)];
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
  const texts = [];
  for (let index = 0; index < count; index++) {
    const items = [];
    let length = 0;
    // Stop short of `size`, then pad to it exactly.
    while (length < size - 400) {
      const item = {
        id: Math.floor(random() * 1e9),
        user: `${pick(words)}_${Math.floor(random() * 10000)}`,
        active: random() < 0.5,
        score: Math.round(random() * 1e6) / 1e6,
        tags: [pick(words), pick(words)],
        created: new Date(1.7e12 + Math.floor(random() * 3e10)).toISOString(),
        note: Array.from({ length: 6 }, () => pick(words)).join(' '),
      };
      items.push(item);
      length += JSON.stringify(item).length + 1;
    }
    const document = { page: index, items, pad: '' };
    const unpadded = JSON.stringify(document).length;
    document.pad = '.'.repeat(size - unpadded);
    texts.push(JSON.stringify(document));
  }
  return texts;
}

module.exports = { smallText, binary, jsonTexts };
