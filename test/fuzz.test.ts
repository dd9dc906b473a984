/**
 * Fuzz (issue #6, part 5): a raw TCP server (helpers/raw_server.ts) completes
 * the upgrade properly, then writes random and mutated frame sequences:
 * valid frames (text, binary, fragmented, 7-, 16- and 64-bit lengths,
 * interleaved pings and pongs, close frames), frames with reserved opcodes,
 * RSV bits, the mask bit or non-minimal or impossible lengths, text with
 * invalid UTF-8, bit flips, truncations and garbage, compressed frames when
 * permessage-deflate was negotiated; in random chunks with random pauses,
 * and then ends the TCP connection (FIN), resets it, or leaves it open.
 * The client, in a child process (so that a crash shows as an exit signal
 * with the cases in flight, not as a dead jest worker), may send a message,
 * pause, or close at a random moment.
 *
 * Every case must settle connect()'s promise within CASE_BOUND_MS with a
 * documented outcome: [1000|1005, reason], WebSocketClose with a code an
 * endpoint may send, ConnectionFailed with a known phase, or General; with
 * no uncaught exception, no LWS_* warning, no message after the promise
 * settled, and no text message carrying U+FFFD (invalid UTF-8 let through;
 * the generator never sends U+FFFD). Cases whose bytes are all valid are
 * also checked exactly: the messages received are the messages sent, and
 * the close code is the server's.
 *
 * The server heeds the client's close frame (stops, answers between
 * frames, ends) or, in some cases, writes on regardless as a hostile peer
 * may. If the child dies, the cases in flight are re-run one per child to
 * name the one that kills it.
 *
 * Reproducible: the cases derive from FUZZ_SEED (default below) alone, each
 * case from the seed and its number. Environment:
 *   FUZZ_SEED=n        another seed (decimal or 0x…)
 *   FUZZ_CASES=n       how many cases (default 300, ~8 s)
 *   FUZZ_CASE=n        case n alone, described on the console
 *   FUZZ_VERBOSE=1     every case and its outcome on the console
 *   FUZZ_DUMP=file     the case(s) as JSON, bytes in hex, to replay elsewhere
 *   FUZZ_PRINT=1       the client's stderr, with each message it received in hex
 *   FUZZ_CHILD_PREFIX  a command to run the client under, e.g.
 *                      'valgrind --error-exitcode=99' (with FUZZ_BOUND_MS=60000)
 *   FUZZ_BOUND_MS=n    how long a case may take to settle (default 5000)
 * A failure message names the seed and the case, as a command to rerun it.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateRawSync, constants as zlibConstants } from 'node:zlib';
import { onCleanup, runCleanups } from './helpers/per_test';
import { startRawServer, switchingProtocols, type RawPeer, type RawServer } from './helpers/raw_server';
import { spawnNode, type NodeChild } from './helpers/tools';

// ---------------------------------------------------------------------------
// Parameters

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer (got ${raw})`);
  return value >>> 0;
}

const SEED = envInt('FUZZ_SEED', 0x6c77_7366);
const CASE_COUNT = envInt('FUZZ_CASES', 300);
const ONLY_CASE = process.env.FUZZ_CASE === undefined || process.env.FUZZ_CASE === '' ? undefined : envInt('FUZZ_CASE', 0);
/** Cases in flight at once in the child. */
const CONCURRENCY = 24;
/** connect()'s promise must settle this soon after connect() is called. */
const CASE_BOUND_MS = envInt('FUZZ_BOUND_MS', 5000);
/**
 * A command the client child runs under, e.g. FUZZ_CHILD_PREFIX='valgrind
 * --error-exitcode=99' with FUZZ_CASE and a larger FUZZ_BOUND_MS, to see a
 * crash's first invalid access.
 */
const CHILD_PREFIX = (process.env.FUZZ_CHILD_PREFIX ?? '').split(' ').filter(Boolean);
/** lws hangs up a connection whose server sends no pong for this long. */
const PING_TIMEOUT_S = 2;

const reproduce = (index?: number) =>
  `FUZZ_SEED=${SEED}${index === undefined ? '' : ` FUZZ_CASE=${index}`} npx jest test/fuzz.test.ts`;

// ---------------------------------------------------------------------------
// A seeded PRNG (mulberry32) and the choices made with it

class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** [0, 1) */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  /** One of the keys, by weight. */
  weighted<K extends string>(weights: Record<K, number>): K {
    const entries = Object.entries(weights) as Array<[K, number]>;
    let roll = this.next() * entries.reduce((sum, [, weight]) => sum + weight, 0);
    for (const [key, weight] of entries) {
      roll -= weight;
      if (roll < 0) return key;
    }
    return (entries[entries.length - 1] as [K, number])[0];
  }
  bytes(length: number): Buffer {
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = this.int(0, 255);
    return out;
  }
}

/** Each case's own stream, so that case n is the same whatever the count. */
function caseRandom(index: number): Random {
  return new Random((SEED ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
}

// ---------------------------------------------------------------------------
// Frames, built byte by byte (helpers/raw_server's frame() always encodes
// lengths minimally and truthfully; the fuzzer must not)

const OPCODE = { CONTINUATION: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;

interface RawFrame {
  opcode: number;
  payload: Buffer;
  fin?: boolean;
  /** RSV1..3 as a 3-bit number (RSV1 = 4). */
  rsv?: number;
  mask?: boolean;
  /** 'min' (default), or force the 16- or 64-bit form. */
  lengthForm?: 'min' | '16' | '64';
  /** The length written in the header, if not the payload's. */
  declaredLength?: bigint;
}

function encodeFrame({ opcode, payload, fin = true, rsv = 0, mask = false, lengthForm = 'min', declaredLength }: RawFrame): Buffer {
  const length = declaredLength ?? BigInt(payload.length);
  const first = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0xf);
  const maskBit = mask ? 0x80 : 0;
  let header: Buffer;
  const form = lengthForm === 'min' ? (length < 126n ? '7' : length < 0x10000n ? '16' : '64') : lengthForm;
  if (form === '7') {
    header = Buffer.from([first, maskBit | Number(length)]);
  } else if (form === '16') {
    header = Buffer.alloc(4);
    header[0] = first;
    header[1] = maskBit | 126;
    header.writeUInt16BE(Number(length & 0xffffn), 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = first;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(length & 0xffff_ffff_ffff_ffffn, 2);
  }
  if (!mask) return Buffer.concat([header, payload]);
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= key[i & 3]!;
  return Buffer.concat([header, key, masked]);
}

function closeBody(code: number, reason: Buffer = Buffer.alloc(0)): Buffer {
  const status = Buffer.alloc(2);
  status.writeUInt16BE(code);
  return Buffer.concat([status, reason]);
}

/** permessage-deflate's compressed form of one message (RFC 7692 7.2.1). */
function deflateMessage(data: Buffer): Buffer {
  const compressed = deflateRawSync(data, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  const tail = compressed.subarray(compressed.length - 4);
  return tail.equals(Buffer.from([0, 0, 0xff, 0xff])) ? compressed.subarray(0, compressed.length - 4) : compressed;
}

// ---------------------------------------------------------------------------
// Payloads

/** lws's receive buffer for this client (binding/connection.cc kReceiveBufferSize). */
const RX_BUFFER = 128 * 1024;

// 1- to 4-byte UTF-8 characters, never U+FFFD.
const ALPHABET = ['a', 'Z', '7', ' ', '\n', 'é', 'ß', 'Ж', '€', '中', '😀', '🎉', '\u0000'];

function randomText(random: Random, minBytes: number): Buffer {
  const parts: string[] = [];
  let bytes = 0;
  while (bytes < minBytes) {
    const char = random.pick(ALPHABET);
    parts.push(char);
    bytes += Buffer.byteLength(char);
  }
  return Buffer.from(parts.join(''), 'utf8');
}

/** A payload length, weighted towards the encodings' edges. */
function randomLength(random: Random): number {
  switch (random.weighted({ empty: 1, tiny: 6, small: 6, edge: 4, medium: 4, large: 1 })) {
    case 'empty':
      return 0;
    case 'tiny':
      return random.int(1, 16);
    case 'small':
      return random.int(17, 125);
    case 'edge':
      return random.pick([125, 126, 127, 128, 65535, 65536, 65537]);
    case 'medium':
      return random.int(129, 8000);
    default:
      return random.int(65538, 200_000);
  }
}

/** Byte sequences that are not UTF-8. */
const INVALID_UTF8 = [
  [0xff],
  [0xfe],
  [0xc0, 0x80], // overlong NUL
  [0xe0, 0x80, 0x80], // overlong
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0x80], // a lone continuation byte
  [0xe2, 0x82], // a truncated 3-byte character
  [0xf0, 0x9f, 0x98], // a truncated 4-byte character
];

function invalidText(random: Random): Buffer {
  const text = randomText(random, random.int(0, 200));
  // At a character boundary: after an ASCII-only prefix is simplest.
  const bad = Buffer.from(random.pick(INVALID_UTF8));
  const at = random.chance(0.3) ? text.length : 0;
  return Buffer.concat([text.subarray(0, at), bad, text.subarray(at)]);
}

// ---------------------------------------------------------------------------
// Cases

type Expected = ['t' | 'b', string];
type Ending = 'end' | 'reset' | 'keep';

/** What the client in the child does (JSON). */
interface ClientPlan {
  index: number;
  deflate: boolean;
  /** ms after on_ready to call close(), or -1 for never. */
  closeAfterMs: number;
  closeCode: number;
  closeReason: string;
  sendText: boolean;
  /** ms to hold a pause() taken in on_ready, or -1 for none. */
  pauseMs: number;
  maxMessageSize: number | undefined;
}

interface ServerPlan {
  /** Writes, in order, each after its delay (ms). */
  chunks: Array<{ delayMs: number; bytes: Buffer }>;
  ending: Ending;
  endDelayMs: number;
  /** Offsets in the stream where a frame ends (a clean stream's only). */
  frameEnds: number[];
  /** Stops writing when the client's close frame arrives; else writes on regardless, as a hostile server may. */
  heedsClose: boolean;
}

interface FuzzCase {
  index: number;
  client: ClientPlan;
  server: ServerPlan;
  /** Every byte is a valid frame sequence: the outcome can be predicted. */
  clean: boolean;
  /** The messages the server sent, in order, if clean. */
  expected: Expected[];
  /** The close frame a clean sequence ends with, if any. */
  serverClose: { code: number; reason: string } | undefined;
  /** What the generator did, for failure messages. */
  log: string[];
}

/** A message's length and hash, as the child reports what it received. */
const digest = (data: Buffer) => `${data.length}:${createHash('sha1').update(data).digest('hex').slice(0, 12)}`;

/** Codes a server may send (RFC 6455 7.4), and codes it may not. */
const VALID_CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
const INVALID_CLOSE_CODES = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535];
/** Codes the client may pass to close(). */
const CLIENT_CLOSE_CODES = [1000, 1001, 1005, 1008, 1011, 3000, 4321];

function generateCase(index: number): FuzzCase {
  const random = caseRandom(index);
  const log: string[] = [];
  const deflate = random.chance(0.2);
  const frames: Buffer[] = [];
  /** Stream offsets where a write must end, and the next come later. */
  const forcedCuts: number[] = [];
  const expected: Expected[] = [];
  let clean = true;
  let serverClose: FuzzCase['serverClose'];
  const dirty = (what: string) => {
    clean = false;
    log.push(what);
  };

  /** A valid data message, maybe compressed, maybe fragmented with control frames between. */
  const dataMessage = () => {
    const binary = random.chance(0.5);
    const length = randomLength(random);
    const data = binary ? random.bytes(length) : randomText(random, length);
    expected.push([binary ? 'b' : 't', digest(data)]);
    const compress = deflate && random.chance(0.7);
    const wire = compress ? deflateMessage(data) : data;
    const pieces = random.chance(0.3) ? random.int(2, 5) : 1;
    log.push(`${binary ? 'binary' : 'text'} ${data.length} B${compress ? ' deflated' : ''}${pieces > 1 ? ` in ${pieces} fragments` : ''}`);
    const cuts = Array.from({ length: pieces - 1 }, () => random.int(0, wire.length)).sort((a, b) => a - b);
    const bounds = [0, ...cuts, wire.length];
    for (let i = 0; i < pieces; i++) {
      frames.push(
        encodeFrame({
          opcode: i === 0 ? (binary ? OPCODE.BINARY : OPCODE.TEXT) : OPCODE.CONTINUATION,
          fin: i === pieces - 1,
          rsv: compress && i === 0 ? 4 : 0,
          payload: wire.subarray(bounds[i], bounds[i + 1]),
        }),
      );
      if (i < pieces - 1 && random.chance(0.4)) controlFrame();
    }
  };

  const controlFrame = () => {
    const opcode = random.chance(0.7) ? OPCODE.PING : OPCODE.PONG;
    log.push(opcode === OPCODE.PING ? 'ping' : 'pong');
    frames.push(encodeFrame({ opcode, payload: random.bytes(random.int(0, 125)) }));
  };

  /** One protocol violation (or oddity) of many kinds. */
  const badFrame = () => {
    const kind = random.weighted({
      invalidUtf8: 4,
      largeInvalidUtf8: 1,
      reservedOpcode: 2,
      rsv: 2,
      masked: 2,
      nonMinimalLength: 2,
      hugeLength: 2,
      top64Bit: 1,
      longControl: 2,
      fragmentedControl: 1,
      orphanContinuation: 2,
      unfinishedThenNew: 2,
      shortClose: 1,
      invalidCloseCode: 2,
      invalidCloseReason: 2,
      corruptDeflate: deflate ? 3 : 0,
      rsvOnControl: deflate ? 1 : 0,
      garbage: 2,
    });
    dirty(kind);
    switch (kind) {
      case 'invalidUtf8': {
        const text = invalidText(random);
        if (random.chance(0.4) && text.length > 1) {
          const cut = random.int(1, text.length - 1);
          frames.push(encodeFrame({ opcode: OPCODE.TEXT, fin: false, payload: text.subarray(0, cut) }));
          frames.push(encodeFrame({ opcode: OPCODE.CONTINUATION, payload: text.subarray(cut) }));
        } else {
          const compress = deflate && random.chance(0.5);
          frames.push(encodeFrame({ opcode: OPCODE.TEXT, rsv: compress ? 4 : 0, payload: compress ? deflateMessage(text) : text }));
        }
        break;
      }
      case 'largeInvalidUtf8': {
        // Longer than lws's 128 KiB receive buffer, invalid within it: lws
        // finds it when it hands the full buffer on.
        const text = Buffer.alloc(random.int(RX_BUFFER + 1, RX_BUFFER + 70_000), 0x61);
        text[random.int(0, RX_BUFFER - 1)] = random.pick(INVALID_UTF8)[0] as number;
        // The rest of the frame comes in a later read, after lws has
        // failed the message.
        const start = frames.reduce((sum, bytes) => sum + bytes.length, 0);
        forcedCuts.push(start + 10 + RX_BUFFER);
        frames.push(encodeFrame({ opcode: OPCODE.TEXT, fin: random.chance(0.7), payload: text }));
        break;
      }
      case 'reservedOpcode':
        frames.push(encodeFrame({ opcode: random.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), payload: random.bytes(random.int(0, 40)) }));
        break;
      case 'rsv':
        frames.push(encodeFrame({ opcode: random.pick([OPCODE.TEXT, OPCODE.BINARY]), rsv: random.int(1, 7), payload: Buffer.from('rsv') }));
        break;
      case 'masked':
        frames.push(encodeFrame({ opcode: random.pick([OPCODE.TEXT, OPCODE.BINARY, OPCODE.PING]), mask: true, payload: Buffer.from('masked') }));
        break;
      case 'nonMinimalLength': {
        const payload = random.bytes(random.int(0, 200));
        frames.push(encodeFrame({ opcode: OPCODE.BINARY, payload, lengthForm: random.pick(['16', '64'] as const) }));
        break;
      }
      case 'hugeLength':
        // Declares far more than follows; the rest never comes.
        frames.push(
          encodeFrame({
            opcode: random.pick([OPCODE.TEXT, OPCODE.BINARY, OPCODE.CONTINUATION]),
            payload: random.bytes(random.int(0, 64)),
            declaredLength: random.pick([200_000n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 40n, 2n ** 62n]),
          }),
        );
        break;
      case 'top64Bit':
        frames.push(encodeFrame({ opcode: OPCODE.BINARY, payload: Buffer.alloc(8), declaredLength: 2n ** 63n + 8n }));
        break;
      case 'longControl':
        frames.push(encodeFrame({ opcode: random.pick([OPCODE.PING, OPCODE.PONG, OPCODE.CLOSE]), payload: random.bytes(random.int(126, 300)) }));
        break;
      case 'fragmentedControl':
        frames.push(encodeFrame({ opcode: OPCODE.PING, fin: false, payload: Buffer.from('frag') }));
        break;
      case 'orphanContinuation':
        frames.push(encodeFrame({ opcode: OPCODE.CONTINUATION, fin: random.chance(0.5), payload: Buffer.from('orphan') }));
        break;
      case 'unfinishedThenNew':
        frames.push(encodeFrame({ opcode: OPCODE.TEXT, fin: false, payload: Buffer.from('part one') }));
        frames.push(encodeFrame({ opcode: random.pick([OPCODE.TEXT, OPCODE.BINARY]), payload: Buffer.from('interloper') }));
        break;
      case 'shortClose':
        frames.push(encodeFrame({ opcode: OPCODE.CLOSE, payload: Buffer.from([0x03]) }));
        break;
      case 'invalidCloseCode': {
        const code = random.pick(INVALID_CLOSE_CODES);
        const reason = randomText(random, random.int(0, 20));
        log.push(`(close ${code}${reason.length ? ' with a reason' : ''})`);
        frames.push(encodeFrame({ opcode: OPCODE.CLOSE, payload: closeBody(code, reason) }));
        break;
      }
      case 'invalidCloseReason': {
        const code = random.pick(VALID_CLOSE_CODES);
        log.push(`(close ${code})`);
        frames.push(encodeFrame({ opcode: OPCODE.CLOSE, payload: closeBody(code, invalidText(random).subarray(0, 100)) }));
        break;
      }
      case 'corruptDeflate':
        frames.push(encodeFrame({ opcode: random.pick([OPCODE.TEXT, OPCODE.BINARY]), rsv: 4, payload: random.bytes(random.int(1, 300)) }));
        break;
      case 'rsvOnControl':
        frames.push(encodeFrame({ opcode: OPCODE.PING, rsv: 4, payload: Buffer.from('ping') }));
        break;
      case 'garbage':
        frames.push(random.bytes(random.int(1, 64)));
        break;
    }
  };

  // The sequence: some valid traffic, maybe a violation, maybe a close frame.
  const items = random.int(0, 8);
  for (let i = 0; i < items; i++) {
    const roll = random.next();
    if (roll < 0.6) dataMessage();
    else if (roll < 0.8) controlFrame();
    else badFrame();
  }
  if (random.chance(0.35)) {
    if (random.chance(0.8)) {
      const code = random.pick(VALID_CLOSE_CODES);
      const reason = random.chance(0.5) ? randomText(random, random.int(1, 60)).toString('utf8') : '';
      log.push(`close ${code}`);
      frames.push(encodeFrame({ opcode: OPCODE.CLOSE, payload: closeBody(code, Buffer.from(reason, 'utf8')) }));
      serverClose = { code, reason };
    } else {
      log.push('close without status');
      frames.push(encodeFrame({ opcode: OPCODE.CLOSE, payload: Buffer.alloc(0) }));
      serverClose = { code: 1005, reason: '' };
    }
    // Frames after the close frame: the first close decides, and nothing
    // after it is delivered (RFC 6455 5.5.1: the closing handshake has begun).
    if (random.chance(0.3)) {
      const after = random.weighted({ close: 2, emptyClose: 2, text: 1, ping: 1 });
      log.push(`then ${after} after the close`);
      if (after === 'close') frames.push(encodeFrame({ opcode: OPCODE.CLOSE, payload: closeBody(random.pick(VALID_CLOSE_CODES), Buffer.from('second close')) }));
      else if (after === 'emptyClose') frames.push(encodeFrame({ opcode: OPCODE.CLOSE, payload: Buffer.alloc(0) }));
      else if (after === 'text') frames.push(encodeFrame({ opcode: OPCODE.TEXT, payload: Buffer.from('after the close') }));
      else frames.push(encodeFrame({ opcode: OPCODE.PING, payload: Buffer.from('after the close') }));
    }
  }

  // Mutations of the whole byte stream.
  let stream = Buffer.concat(frames);
  const frameEnds: number[] = [];
  frames.reduce((offset, bytes) => (frameEnds.push(offset + bytes.length), offset + bytes.length), 0);
  if (stream.length && random.chance(0.15)) {
    const flips = random.int(1, 8);
    dirty(`${flips} bit flip(s)`);
    stream = Buffer.from(stream);
    for (let i = 0; i < flips; i++) stream[random.int(0, stream.length - 1)]! ^= 1 << random.int(0, 7);
  }
  if (stream.length && random.chance(0.1)) {
    dirty('truncated');
    stream = stream.subarray(0, random.int(0, stream.length - 1));
  }
  if (random.chance(0.05)) {
    dirty('garbage inserted');
    const at = random.int(0, stream.length);
    stream = Buffer.concat([stream.subarray(0, at), random.bytes(random.int(1, 32)), stream.subarray(at)]);
  }

  // Chunks and pauses.
  const chunks: ServerPlan['chunks'] = [];
  if (stream.length) {
    const bytewise = random.chance(0.15);
    const count = bytewise ? Math.min(stream.length, random.int(5, 40)) : random.int(1, 6);
    const cuts = bytewise
      ? Array.from({ length: count - 1 }, (_, i) => i + 1)
      : Array.from({ length: count - 1 }, () => random.int(1, stream.length));
    const forced = new Set(forcedCuts.filter((cut) => cut < stream.length));
    const bounds = [...new Set([0, ...cuts, ...forced, stream.length])].sort((a, b) => a - b);
    for (let i = 0; i + 1 < bounds.length; i++) {
      const bytes = stream.subarray(bounds[i], bounds[i + 1]);
      const delayMs = forced.has(bounds[i] as number) ? random.int(20, 40) : random.chance(0.5) ? 0 : random.int(1, 30);
      if (bytes.length) chunks.push({ delayMs, bytes });
    }
  }
  const ending = random.weighted<Ending>({ end: 45, reset: 20, keep: 35 });

  const client: ClientPlan = {
    index,
    deflate,
    closeAfterMs: random.chance(0.4) ? random.int(0, 300) : -1,
    closeCode: random.pick(CLIENT_CLOSE_CODES),
    closeReason: '',
    sendText: random.chance(0.3),
    pauseMs: random.chance(0.15) ? random.int(0, 200) : -1,
    maxMessageSize: random.chance(0.1) ? random.int(16, 2000) : random.chance(0.05) ? 2 ** 32 : undefined,
  };
  if (client.closeCode !== 1005 && random.chance(0.5)) client.closeReason = 'client bye';

  return {
    index,
    client,
    server: { chunks, ending, endDelayMs: random.chance(0.5) ? 0 : random.int(1, 50), frameEnds: clean ? frameEnds : [], heedsClose: random.chance(0.6) },
    clean,
    expected: clean ? expected : [],
    serverClose: clean ? serverClose : undefined,
    log,
  };
}

function describeCase({ log, server, client }: FuzzCase): string {
  const bytes = server.chunks.reduce((sum, chunk) => sum + chunk.bytes.length, 0);
  return `${log.join(', ') || 'nothing sent'}; ${bytes} B in ${server.chunks.length} write(s), then ${server.ending}${server.heedsClose ? '' : ' (deaf to close)'}; client ${JSON.stringify(client)}`;
}

// ---------------------------------------------------------------------------
// The server side of a case

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes the plan's chunks, then ends as it says. When the client's close
 * frame arrives a server that heeds it stops writing and, as a server does
 * between frames (never inside one), answers it with its code and ends the
 * TCP connection; inside a frame, or in a stream that is not clean, it just
 * ends. One that does not heed it writes on, and answers after its last chunk.
 */
async function playServer(peer: RawPeer, plan: ServerPlan): Promise<void> {
  const { socket } = peer;
  const usable = () => !socket.destroyed && !socket.writableEnded;
  let clientClose: Buffer | undefined;
  const closed = peer.clientClose.then((close) => {
    if (close.frame) clientClose = close.payload;
  });
  let written = 0;
  const answerClose = () => {
    if (!usable() || !clientClose) return false;
    const atFrameEnd = written === 0 || plan.frameEnds.includes(written);
    if (atFrameEnd) socket.write(encodeFrame({ opcode: OPCODE.CLOSE, payload: clientClose.subarray(0, 2) }));
    socket.end();
    return true;
  };
  for (const chunk of plan.chunks) {
    if (chunk.delayMs) await sleep(chunk.delayMs);
    if (!usable() || (plan.heedsClose && answerClose())) return;
    socket.write(chunk.bytes);
    written += chunk.bytes.length;
  }
  if (plan.endDelayMs) await sleep(plan.endDelayMs);
  if (!usable() || answerClose()) return;
  if (plan.ending === 'end') socket.end();
  else if (plan.ending === 'reset') socket.resetAndDestroy();
  else {
    // Left open: the client may still close it.
    await closed;
    answerClose();
  }
}

// ---------------------------------------------------------------------------
// The client side: a child process running the compiled package

/** One line per case: @@start N, then @@outcome N {json}. */
const CHILD = `
const fs = require('node:fs');
const crypto = require('node:crypto');
const lws = require(process.env.LWS_DIST);
// lws's own log lines would only bury a crash's message on stderr.
lws.set_log_level(0);
const { url, cases, concurrency, boundMs, pingTimeout } = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
const out = (line) => process.stdout.write(line + '\\n');
process.on('uncaughtException', (error) => { out('@@uncaught ' + JSON.stringify(String(error && error.stack || error))); process.exit(70); });
process.on('unhandledRejection', (error) => { out('@@uncaught ' + JSON.stringify('unhandled rejection: ' + String(error && error.stack || error))); process.exit(70); });
let current = [];
process.on('warning', (warning) => {
  if (String(warning.code || '').startsWith('LWS_')) out('@@warning ' + JSON.stringify(warning.code + ': ' + warning.message + ' (cases in flight: ' + current.join(',') + ')'));
});
const digest = (data) => data.length + ':' + crypto.createHash('sha1').update(data).digest('hex').slice(0, 12);

function runCase(plan) {
  return new Promise((resolve) => {
    const messages = [];
    const timers = [];
    let readyCalls = 0, late = 0, replacement = false, settled = false;
    const started = Date.now();
    const options = {
      url: url + '/case/' + plan.index,
      compression: plan.deflate ? 'deflate' : [],
      connect_timeout: 3,
      ping_interval: 1,
      ping_timeout: pingTimeout,
      on_ready(courier) {
        readyCalls++;
        const received = (kind) => (_, message) => {
          if (settled) late++;
          if (kind === 't' && message.includes('\\ufffd')) replacement = true;
          const bytes = kind === 't' ? Buffer.from(message, 'utf8') : message;
          if (process.env.FUZZ_PRINT) process.stderr.write('case ' + plan.index + ' ' + kind + ' ' + bytes.toString('hex').slice(0, 200) + '\\n');
          messages.push([kind, digest(bytes)]);
        };
        courier.on_text(received('t'));
        courier.on_binary(received('b'));
        if (plan.sendText) courier.send_text('hello from case ' + plan.index);
        if (plan.pauseMs >= 0) {
          const handle = courier.pause();
          timers.push(setTimeout(() => handle.resume(), plan.pauseMs));
        }
        if (plan.closeAfterMs >= 0)
          timers.push(setTimeout(() => courier.close(plan.closeCode, plan.closeReason), plan.closeAfterMs));
      },
    };
    if (plan.maxMessageSize !== undefined) options.max_message_size = plan.maxMessageSize;
    const bound = setTimeout(() => finish({ kind: 'hang' }), boundMs);
    function finish(outcome) {
      if (settled) return;
      settled = true;
      clearTimeout(bound);
      for (const timer of timers) clearTimeout(timer);
      resolve({ ...outcome, ms: Date.now() - started, readyCalls, messages, late, replacement });
    }
    lws.connect(options).then(
      (result) => finish({ kind: 'resolved', result }),
      (error) => {
        if (error instanceof lws.WebSocketClose) finish({ kind: 'WebSocketClose', status: error.status, reason: error.reason });
        else if (error instanceof lws.ConnectionFailed) finish({ kind: 'ConnectionFailed', phase: error.phase, cause: error.cause, host: error.host, port: error.port });
        else if (error instanceof lws.General) finish({ kind: 'General', message: error.message });
        else finish({ kind: 'other', error: String(error && error.stack || error) });
      },
    );
  });
}

(async () => {
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const plan = cases[next++];
      current.push(plan.index);
      out('@@start ' + plan.index);
      const outcome = await runCase(plan);
      current = current.filter((index) => index !== plan.index);
      // A late message would come after settling: give it a turn to show.
      await new Promise((resolve) => setImmediate(resolve));
      out('@@outcome ' + plan.index + ' ' + JSON.stringify(outcome));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  out('@@done');
})();
`;

interface Outcome {
  kind: 'resolved' | 'WebSocketClose' | 'ConnectionFailed' | 'General' | 'other' | 'hang';
  result?: [number, string];
  status?: number;
  reason?: string;
  phase?: string;
  cause?: string;
  host?: string;
  port?: number;
  message?: string;
  error?: string;
  ms: number;
  readyCalls: number;
  messages: Expected[];
  late: number;
  replacement: boolean;
}

const PHASES = new Set(['dns', 'connect', 'tls', 'handshake', 'open', 'timeout']);

/** A code a peer may put in a close frame (RFC 6455 7.4.1, 7.4.2); 1015 included, as lws passes it. */
function isCloseCode(code: unknown): boolean {
  return (
    typeof code === 'number' &&
    Number.isInteger(code) &&
    ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1015) || (code >= 3000 && code <= 4999))
  );
}

/** Why `outcome` is not acceptable for `fuzzCase`, or [] if it is. */
function problemsWith(fuzzCase: FuzzCase, outcome: Outcome, port: number): string[] {
  const problems: string[] = [];
  switch (outcome.kind) {
    case 'resolved': {
      const [code, reason] = outcome.result ?? [];
      if (!(code === 1000 || code === 1005) || typeof reason !== 'string') problems.push(`resolved with ${JSON.stringify(outcome.result)}`);
      if (code === 1005 && reason !== '') problems.push('1005 with a reason');
      break;
    }
    case 'WebSocketClose':
      if (!isCloseCode(outcome.status) || outcome.status === 1000) problems.push(`WebSocketClose with code ${outcome.status}`);
      if (typeof outcome.reason !== 'string') problems.push('WebSocketClose without a reason string');
      break;
    case 'ConnectionFailed':
      if (!PHASES.has(outcome.phase ?? '')) problems.push(`ConnectionFailed with phase ${outcome.phase}`);
      if (typeof outcome.cause !== 'string' || !outcome.cause) problems.push('ConnectionFailed without a cause');
      if (outcome.host !== '127.0.0.1' || outcome.port !== port) problems.push(`ConnectionFailed for ${outcome.host}:${outcome.port}`);
      break;
    case 'General':
      break;
    case 'hang':
      problems.push(`connect() did not settle within ${CASE_BOUND_MS} ms`);
      break;
    default:
      problems.push(`rejected with something undocumented: ${outcome.error}`);
  }
  if (outcome.readyCalls > 1) problems.push(`on_ready ran ${outcome.readyCalls} times`);
  if (outcome.late) problems.push(`${outcome.late} message(s) delivered after the promise settled`);
  if (outcome.replacement) problems.push('a text message holds U+FFFD: invalid UTF-8 was delivered');
  if (outcome.readyCalls === 0 && outcome.messages.length) problems.push('messages without on_ready');

  // Valid bytes: what arrives is what was sent.
  if (fuzzCase.clean && outcome.readyCalls === 1) {
    const { client, server, expected, serverClose } = fuzzCase;
    const sent = JSON.stringify(expected);
    const got = JSON.stringify(outcome.messages);
    const clientActs = client.closeAfterMs >= 0 || client.maxMessageSize !== undefined;
    // A close() from the client may come first, a reset may discard what the
    // socket held: the messages are then a prefix of those sent.
    if (!sent.startsWith(got.slice(0, -1))) problems.push(`messages differ from those sent: got ${got}, sent ${sent}`);
    else if (!clientActs && server.ending !== 'reset' && got !== sent) problems.push(`messages missing: got ${got}, sent ${sent}`);
    if (!clientActs && server.ending !== 'reset' && serverClose) {
      const { code, reason } = serverClose;
      const want = code === 1000 || code === 1005 ? `resolved ${JSON.stringify([code, reason])}` : `WebSocketClose ${code} ${JSON.stringify(reason)}`;
      const have =
        outcome.kind === 'resolved'
          ? `resolved ${JSON.stringify(outcome.result)}`
          : outcome.kind === 'WebSocketClose'
            ? `WebSocketClose ${outcome.status} ${JSON.stringify(outcome.reason)}`
            : `${outcome.kind} ${outcome.phase ?? ''} ${outcome.cause ?? outcome.error ?? ''}`;
      if (want !== have) problems.push(`the server closed with ${code}: expected ${want}, got ${have}`);
    }
    if (!clientActs && !serverClose && server.ending === 'end' && outcome.kind !== 'ConnectionFailed')
      problems.push(`EOF without a close frame should reject ConnectionFailed, got ${outcome.kind}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------

afterAll(async () => {
  await runCleanups();
});

const indices = ONLY_CASE === undefined ? Array.from({ length: CASE_COUNT }, (_, i) => i) : [ONLY_CASE];
// 300 cases take about 8 s; a crash adds the re-runs that find its case.
const TEST_TIMEOUT_MS = 60_000 + indices.length * (CHILD_PREFIX.length ? 1000 : 100) + 2 * CASE_BOUND_MS;

interface ChildRun {
  exit: { code: number | null; signal: NodeJS.Signals | null };
  outcomes: Map<number, Outcome>;
  /** Cases started and not finished when the child ended. */
  inFlight: number[];
  /** Uncaught exceptions and LWS_* warnings the child reported. */
  complaints: string[];
  stderr: string;
}

/** Runs `plans` in a fresh child, `concurrency` at a time, against `url`. */
async function runChild(url: string, plans: ClientPlan[], concurrency: number, dir: string): Promise<ChildRun> {
  const input = path.join(dir, `cases-${plans[0]?.index ?? 0}-${plans.length}.json`);
  writeFileSync(input, JSON.stringify({ url, cases: plans, concurrency, boundMs: CASE_BOUND_MS, pingTimeout: PING_TIMEOUT_S }));
  const child: NodeChild = CHILD_PREFIX.length
    ? spawnNode(
        `require('node:child_process').spawnSync(${JSON.stringify(CHILD_PREFIX[0])}, ${JSON.stringify([...CHILD_PREFIX.slice(1), process.execPath, '-e', CHILD, input])}, { stdio: 'inherit' }).status === 0 || process.exit(1)`,
      )
    : spawnNode(CHILD, [input]);
  onCleanup(() => child.kill());
  const exit = await child.exited;
  const started = new Set<number>();
  const outcomes = new Map<number, Outcome>();
  const complaints: string[] = [];
  for (const line of child.lines) {
    const [tag, rest = ''] = line.split(/ (.*)/s);
    if (tag === '@@start') started.add(Number(rest));
    else if (tag === '@@outcome') {
      const space = rest.indexOf(' ');
      outcomes.set(Number(rest.slice(0, space)), JSON.parse(rest.slice(space + 1)) as Outcome);
    } else if (tag === '@@uncaught') complaints.push(`uncaught exception in the client: ${JSON.parse(rest) as string}`);
    else if (tag === '@@warning') complaints.push(`process warning: ${JSON.parse(rest) as string}`);
  }
  return { exit, outcomes, inFlight: [...started].filter((index) => !outcomes.has(index)), complaints, stderr: child.stderr() };
}

const crashed = ({ exit }: ChildRun) => exit.signal !== null || exit.code !== 0;
const describeExit = ({ exit }: ChildRun) => exit.signal ?? `exit code ${exit.code}`;

/** The tail of the child's stderr that is not lws's log lines. */
const stderrTail = (run: ChildRun) =>
  run.stderr
    .split('\n')
    .filter((line) => line && !/^\[\d{4}\/\d\d\/\d\d /.test(line))
    .slice(-10)
    .join(' | ');

describe(`fuzz: ${indices.length} seeded cases (FUZZ_SEED=${SEED})`, () => {
  test('every case settles with a documented outcome, and the process survives', async () => {
    const cases = indices.map(generateCase);
    if (ONLY_CASE !== undefined) console.log(`case ${ONLY_CASE}: ${describeCase(cases[0] as FuzzCase)}`);
    // FUZZ_DUMP=file: the case(s) as JSON (bytes in hex), to replay outside jest.
    if (process.env.FUZZ_DUMP) {
      const dump = cases.map(({ index, client, server }) => ({
        index,
        client,
        server: { ...server, chunks: server.chunks.map(({ delayMs, bytes }) => ({ delayMs, hex: bytes.toString('hex') })) },
      }));
      writeFileSync(process.env.FUZZ_DUMP, JSON.stringify(dump));
    }
    const byIndex = new Map(cases.map((fuzzCase) => [fuzzCase.index, fuzzCase]));
    const caseOf = (requestPath: string) => byIndex.get(Number(/\/case\/(\d+)/.exec(requestPath)?.[1]));

    const server: RawServer = await startRawServer({
      // playServer answers the client's close frame itself, between frames.
      echoClose: false,
      respond: (request) => switchingProtocols(request, caseOf(request.path)?.client.deflate ? { extensions: 'permessage-deflate' } : {}),
    });
    onCleanup(() => server.close());
    const serverErrors: string[] = [];
    let serving = true;
    void (async () => {
      while (serving) {
        const peer = await server.nextPeer();
        const fuzzCase = caseOf(peer.request.path);
        if (!fuzzCase) {
          if (serving) serverErrors.push(`unexpected request ${peer.request.path}`);
          peer.socket.destroy();
          continue;
        }
        playServer(peer, fuzzCase.server).catch((error: unknown) => serverErrors.push(`case ${fuzzCase.index}: ${String(error)}`));
      }
    })();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lws-fuzz-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));

    const run = await runChild(server.url, cases.map((fuzzCase) => fuzzCase.client), CONCURRENCY, dir);
    const failures: string[] = [...run.complaints];
    if (crashed(run)) {
      // Which case was it? Each case in flight, alone in a fresh child
      // (a few children at a time).
      const culprits: string[] = [];
      const suspects = [...run.inFlight];
      while (suspects.length && culprits.length < 3) {
        const batch = suspects.splice(0, 6);
        const alone = await Promise.all(batch.map((index) => runChild(server.url, [(byIndex.get(index) as FuzzCase).client], 1, dir)));
        alone.forEach((result, i) => {
          const index = batch[i] as number;
          if (crashed(result))
            culprits.push(`case ${index} (${describeCase(byIndex.get(index) as FuzzCase)}) alone: ${describeExit(result)}, stderr: ${stderrTail(result)} — reproduce: ${reproduce(index)}`);
        });
      }
      failures.push(
        `the client process died (${describeExit(run)}) with cases ${run.inFlight.join(', ')} in flight; stderr: ${stderrTail(run)}\n` +
          (culprits.length ? culprits.join('\n') : `none of them crashed alone (timing-dependent); reproduce the run: ${reproduce()}`),
      );
    }
    serving = false;

    const tally = new Map<string, number>();
    for (const fuzzCase of cases) {
      const outcome = run.outcomes.get(fuzzCase.index);
      if (!outcome) continue;
      const key =
        outcome.kind === 'ConnectionFailed'
          ? `ConnectionFailed/${outcome.phase}`
          : outcome.kind === 'WebSocketClose'
            ? `WebSocketClose/${outcome.status}`
            : outcome.kind === 'resolved'
              ? `resolved/${outcome.result?.[0]}`
              : outcome.kind;
      tally.set(key, (tally.get(key) ?? 0) + 1);
      for (const problem of problemsWith(fuzzCase, outcome, server.port)) {
        const { messages, ...settled } = outcome;
        failures.push(
          `case ${fuzzCase.index} (${describeCase(fuzzCase)}): ${problem}; outcome ${JSON.stringify(settled)} after ${messages.length} message(s) — reproduce: ${reproduce(fuzzCase.index)}`,
        );
      }
    }
    if (!crashed(run) && run.outcomes.size !== cases.length) failures.push(`${cases.length - run.outcomes.size} case(s) reported no outcome`);
    failures.push(...serverErrors);

    if (process.env.FUZZ_PRINT) console.log(run.stderr);
    // FUZZ_VERBOSE=1: every case and how it ended.
    if (process.env.FUZZ_VERBOSE) {
      const lines = cases.map((fuzzCase) => {
        const { messages = [], ...settled } = run.outcomes.get(fuzzCase.index) ?? ({} as Partial<Outcome>);
        return `case ${fuzzCase.index}: ${describeCase(fuzzCase)}\n  → ${JSON.stringify(settled)} after ${messages.length} message(s)`;
      });
      console.log(lines.join('\n'));
    }
    const slowest = Math.max(0, ...[...run.outcomes.values()].map((outcome) => outcome.ms));
    const summary = [...tally.entries()].sort().map(([key, count]) => `${key}: ${count}`).join(', ');
    if (failures.length) {
      throw new Error(`fuzz failed with FUZZ_SEED=${SEED} (${failures.length} problem(s)):\n${failures.slice(0, 20).join('\n')}\noutcomes: ${summary}`);
    }
    // The outcomes and the slowest case, for the record.
    console.log(`fuzz FUZZ_SEED=${SEED}: ${cases.length} cases, slowest ${slowest} ms; ${summary}`);
  }, TEST_TIMEOUT_MS);
});
