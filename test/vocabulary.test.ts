/**
 * The numbers of the events between the addon and lib/ (event kinds,
 * failure phases, close initiators) are defined once, in
 * binding/vocabulary.h; the addon exports them by name and lib/native.ts
 * reads them through readVocabulary(), which refuses an addon whose names
 * differ from the ones lib/ expects (a stale build) when the package loads.
 */
import { native, NativeEventKind } from '../lib/native';
import { readVocabulary } from '../lib/vocabulary';

test("the addon's export is what lib/ reads: every event kind, each a distinct number", () => {
  expect(Object.keys(NativeEventKind).sort()).toEqual(['Binary', 'Closed', 'Connected', 'Drained', 'Failed', 'Open', 'Text']);
  expect(new Set(Object.values(NativeEventKind)).size).toBe(7);
  expect(native.vocabulary.EventKind).toEqual(NativeEventKind);
  expect(Object.keys(native.vocabulary.FailurePhase as object).sort()).toEqual(['connect', 'handshake', 'open', 'setup', 'timeout', 'tls']);
  expect(Object.keys(native.vocabulary.CloseInitiator as object).sort()).toEqual(['failed', 'local', 'none', 'remote']);
});

test('names map to numbers and back', () => {
  const read = readVocabulary({ near: 0, far: 5 }, 'Distance', ['near', 'far'] as const);
  expect(read.codes).toEqual({ near: 0, far: 5 });
  expect(read.nameOf(read.codes.far)).toBe('far');
  expect(Object.isFrozen(read.codes)).toBe(true);
});

describe('an addon that does not match is refused, naming what differs', () => {
  const names = ['near', 'far'] as const;

  test('a name missing', () => {
    expect(() => readVocabulary({ near: 0 }, 'Distance', names)).toThrow(
      'libwebsockets: the native addon does not match this package\'s JavaScript: its Distance lacks far. Rebuild the addon.',
    );
  });

  test('a name lib/ does not know', () => {
    expect(() => readVocabulary({ near: 0, far: 1, beyond: 2 }, 'Distance', names)).toThrow(
      /its Distance has beyond, which this JavaScript does not know/,
    );
  });

  test('two names with one number', () => {
    expect(() => readVocabulary({ near: 1, far: 1 }, 'Distance', names)).toThrow(/its Distance gives near and far the same number \(1\)/);
  });

  test('a value that is not an unsigned integer', () => {
    expect(() => readVocabulary({ near: 0, far: -1 }, 'Distance', names)).toThrow(/lacks far/);
    expect(() => readVocabulary({ near: '0', far: 1 }, 'Distance', names)).toThrow(/lacks near/);
  });

  test('no group at all', () => {
    expect(() => readVocabulary(undefined, 'Distance', names)).toThrow(/its Distance is missing/);
  });
});
