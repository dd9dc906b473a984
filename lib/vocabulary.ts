/**
 * The addon's vocabulary (binding/vocabulary.h): the numbers C++ gives
 * event kinds, failure phases and close initiators, exported by the addon
 * under their names and read here rather than written down a second time.
 * An addon whose names differ from the ones lib/ expects (a stale build)
 * fails when the package loads, not as a misread event later.
 */

/** A number from the addon's vocabulary group `Group`. */
export type VocabularyCode<Group extends string> = number & { readonly __vocabulary: Group };

export interface Vocabulary<Group extends string, Name extends string> {
  /** Each name's number. */
  readonly codes: Readonly<Record<Name, VocabularyCode<Group>>>;
  /** The name of a number the addon sent. */
  nameOf(code: VocabularyCode<Group>): Name;
}

/**
 * Reads one group of the addon's vocabulary: it must give exactly `names`
 * (no fewer, no more) each a distinct unsigned integer.
 */
export function readVocabulary<Group extends string, Name extends string>(
  exported: unknown,
  group: Group,
  names: readonly Name[],
): Vocabulary<Group, Name> {
  const mismatch = (what: string) =>
    new Error(`libwebsockets: the native addon does not match this package's JavaScript: its ${group} ${what}. Rebuild the addon.`);
  if (typeof exported !== 'object' || exported === null) throw mismatch('is missing');
  const table = exported as Record<string, unknown>;
  const missing = names.filter((name) => !isCode(table[name]));
  if (missing.length) throw mismatch(`lacks ${missing.join(', ')}`);
  const unknown = Object.keys(table).filter((name) => !(names as readonly string[]).includes(name));
  if (unknown.length) throw mismatch(`has ${unknown.join(', ')}, which this JavaScript does not know`);

  const byCode = new Map<number, Name>();
  const codes = {} as Record<Name, VocabularyCode<Group>>;
  for (const name of names) {
    const code = table[name] as number;
    const other = byCode.get(code);
    if (other !== undefined) throw mismatch(`gives ${other} and ${name} the same number (${code})`);
    byCode.set(code, name);
    codes[name] = code as VocabularyCode<Group>;
  }
  return {
    codes: Object.freeze(codes),
    nameOf: (code) => byCode.get(code) as Name,
  };
}

function isCode(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}
