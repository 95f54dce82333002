/**
 * Structure-aware JSON mutations: pick a field anywhere in the document and drop it,
 * duplicate it (as a second key with another value — JSON.parse would silently keep the
 * last), change its type, give it a boundary number (negative, fractional, 2^53+1, seconds
 * past the end of `Date`, NaN written as text), edit its text or base64, grow or shrink
 * arrays past their limits, add unknown fields, or swap in the same field from another
 * document. Fields with inner structure (certificates, tokens, log bodies, checkpoints) get a
 * mutator for that structure from the caller's hooks, applied to the decoded bytes.
 *
 * The result is written by `stringifyFuzz`, which can emit what JSON.stringify cannot:
 * duplicate keys and raw number tokens.
 */
import type { Prng } from './prng.js';
import type { Trail } from './mutate-bytes.js';

/** A JSON token written verbatim (a number form JSON.stringify would normalise, or invalid JSON). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** Extra [key, value] pairs written after an object's own keys: duplicate keys. */
export const DUPLICATE_KEYS = Symbol('duplicate keys');

export type Json = null | boolean | number | string | RawJson | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
  [DUPLICATE_KEYS]?: [string, Json][];
}

export type BytesMutator = (rng: Prng, bytes: Uint8Array, trail: Trail) => Uint8Array;
export type StringMutator = (rng: Prng, s: string, trail: Trail) => string;

export interface JsonHooks {
  /** A mutator for the bytes a base64 string field holds (path is the keys from the root). */
  bytesField?(path: readonly (string | number)[]): BytesMutator | undefined;
  /** A mutator for a string field with its own syntax (checkpoint notes, media types). */
  stringField?(path: readonly (string | number)[]): StringMutator | undefined;
  /** Emit raw tokens and duplicate keys (off for CBOR, which has neither). Default true. */
  allowRaw?: boolean;
}

export function stringifyFuzz(v: Json): string {
  if (v instanceof RawJson) return v.text;
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(stringifyFuzz).join(',')}]`;
  const parts = Object.keys(v).map((k) => `${JSON.stringify(k)}:${stringifyFuzz(v[k]!)}`);
  for (const [k, x] of v[DUPLICATE_KEYS] ?? [])
    parts.push(`${JSON.stringify(k)}:${stringifyFuzz(x)}`);
  return `{${parts.join(',')}}`;
}

/** Does the document use anything JSON.stringify cannot write? */
export function hasRaw(v: Json): boolean {
  if (v instanceof RawJson) return true;
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some(hasRaw);
  if ((v[DUPLICATE_KEYS]?.length ?? 0) > 0) return true;
  return Object.values(v).some(hasRaw);
}

export function cloneJson<T extends Json>(v: T): T {
  if (v === null || typeof v !== 'object' || v instanceof RawJson) return v;
  if (Array.isArray(v)) return v.map(cloneJson) as T;
  const out: JsonObject = {};
  for (const k of Object.keys(v)) out[k] = cloneJson(v[k]!);
  if (v[DUPLICATE_KEYS]) out[DUPLICATE_KEYS] = v[DUPLICATE_KEYS].map(([k, x]) => [k, cloneJson(x)]);
  return out as T;
}

interface Slot {
  parent: JsonObject | Json[] | undefined;
  key: string | number;
  value: Json;
  path: (string | number)[];
}

function slotsOf(root: Json): Slot[] {
  const out: Slot[] = [];
  const walk = (
    v: Json,
    parent: Slot['parent'],
    key: string | number,
    path: (string | number)[],
  ): void => {
    out.push({ parent, key, value: v, path });
    if (v === null || typeof v !== 'object' || v instanceof RawJson) return;
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, v, i, [...path, i]));
    else for (const k of Object.keys(v)) walk(v[k]!, v, k, [...path, k]);
  };
  walk(root, undefined, '$', []);
  return out;
}

export function pathText(path: readonly (string | number)[]): string {
  return '$' + path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
}

function getAt(root: Json, path: readonly (string | number)[]): Json | undefined {
  let v: Json | undefined = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object' || v instanceof RawJson) return undefined;
    v = Array.isArray(v) ? v[p as number] : v[p as string];
    if (v === undefined) return undefined;
  }
  return v;
}

/** Seconds values around the ends of what `Date` and Stella's time range can hold. */
const SECONDS_EDGES = [
  0, 1, -1, 8_640_000_000_000, 8_640_000_000_001, 253_402_300_799, 253_402_300_800,
  9_007_199_254_740, 9_007_199_254_740_991, 4_102_444_800, 2_147_483_647, 2_147_483_648,
  4_294_967_296,
];

function numberCandidates(rng: Prng, current: number): (number | RawJson | string)[] {
  return [
    0,
    -1,
    1,
    current + 1,
    current - 1,
    current * 1000,
    Math.floor(current / 1000),
    -current,
    2 ** 31,
    2 ** 32,
    2 ** 53 - 1,
    2 ** 53,
    2 ** 63,
    1e21,
    1.5,
    0.1,
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    ...SECONDS_EDGES,
    new RawJson('1e400'),
    new RawJson('-0'),
    new RawJson('1.0'),
    new RawJson('1E2'),
    new RawJson('NaN'),
    new RawJson('Infinity'),
    new RawJson('-1e400'),
    new RawJson('9007199254740993'),
    new RawJson('18446744073709551616'),
    new RawJson('00'),
    new RawJson('0x10'),
    '9007199254740993',
    '18446744073709551615',
    '-1',
    '1e3',
    '01',
    ' 1',
    '+1',
    '1.0',
    '',
    'NaN',
    '0x1f',
    String(current + 1),
    String(2 ** 53 - 1),
    String(8_640_000_000_001),
    rng.int(2 ** 31),
  ];
}

/**
 * Growing edits stop at this many characters: chained, `s.repeat(200)` over a 70,000-character
 * value passes V8's longest string (~2^29) and the target itself threw a RangeError. Every
 * reader's own size limit is far below it.
 */
const MAX_GROWN_STRING = 16 * 1024 * 1024;

/** `s` repeated `times` (at least once), or fewer times where that would pass MAX_GROWN_STRING. */
function grown(s: string, times: number): string {
  const fits = s.length === 0 ? times : Math.floor(MAX_GROWN_STRING / s.length);
  return s.repeat(Math.max(1, Math.min(times, fits)));
}

const STRING_EDITS: ((rng: Prng, s: string) => string)[] = [
  () => '',
  (_r, s) => s.slice(0, Math.max(0, s.length - 1)),
  (r, s) => s.slice(0, r.int(s.length + 1)),
  (_r, s) => s + 'x',
  (_r, s) => s + '\u0000',
  (_r, s) => ' ' + s,
  (_r, s) => s.toUpperCase(),
  (_r, s) => s + '\ud800',
  (_r, s) => s + '\u2028',
  (_r, s) => s.replace(/./u, 'é'),
  (_r, s) => grown(s, 2),
  (r, s) => grown(s, 2 + r.int(200)),
  () => 'x'.repeat(70_000),
];

/** Edits of base64 text itself (the decoder is what is tested). */
const BASE64_TEXT_EDITS: ((rng: Prng, s: string) => string)[] = [
  (_r, s) => s.replace(/=+$/, ''),
  (_r, s) => s + '=',
  (_r, s) => s + '==',
  (_r, s) => s.replace(/\+/g, '-').replace(/\//g, '_'),
  (r, s) => {
    const i = r.int(s.length + 1);
    return (
      s.slice(0, i) + r.pick(['!', '-', '_', ' ', '\n', '\r\n', '=', '\t', '.', 'é']) + s.slice(i)
    );
  },
  (r, s) => {
    const i = r.int(s.length + 1);
    return s.slice(0, i) + '\n' + s.slice(i);
  },
  (_r, s) => s.slice(0, -1),
  (_r, s) => s.slice(0, -4),
  (_r, s) => s.slice(1),
  (_r, s) => `${s.slice(0, -2)}=A`,
  (_r, s) => s.replace(/[A-Za-z0-9]$/, (c) => (c === 'A' ? 'B' : 'A')),
];

function mutateValue(rng: Prng, v: Json, trail: Trail, where: string, allowRaw: boolean): Json {
  const pickRaw = <T>(xs: T[]): T => {
    for (;;) {
      const x = rng.pick(xs);
      if (allowRaw || !(x instanceof RawJson)) return x;
    }
  };
  if (typeof v === 'number' || (typeof v === 'string' && /^-?[0-9]+$/.test(v) && rng.chance(0.7))) {
    const current = typeof v === 'number' ? v : Number(v);
    let next = pickRaw(numberCandidates(rng, current));
    // Keep the representation (string or number) half of the time so the parser's exact path is reached.
    if (typeof next === 'number' && typeof v === 'string' && rng.chance(0.5)) next = String(next);
    trail.push(`json: ${where} = ${next instanceof RawJson ? next.text : JSON.stringify(next)}`);
    return next;
  }
  if (typeof v === 'string') {
    const edit =
      rng.chance(0.35) && /^[A-Za-z0-9+/]{8}[A-Za-z0-9+/]*={0,2}$/.test(v)
        ? rng.pick(BASE64_TEXT_EDITS)
        : rng.pick(STRING_EDITS);
    const next = edit(rng, v);
    trail.push(
      `json: ${where}: string edit -> ${JSON.stringify(next.slice(0, 60))}${next.length > 60 ? `... (${next.length} chars)` : ''}`,
    );
    return next;
  }
  const next = pickRaw<Json>([
    0,
    1,
    -1,
    '',
    'x',
    true,
    false,
    null,
    [],
    {},
    [null],
    { '': null },
    new RawJson('1e400'),
  ]);
  trail.push(
    `json: ${where}: ${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v} -> ${next instanceof RawJson ? next.text : JSON.stringify(next)}`,
  );
  return next;
}

/**
 * One mutation of the document (a clone is mutated and returned). `donors`: other documents
 * of the same kind to take fields from.
 */
export function mutateJson(
  rng: Prng,
  doc: Json,
  trail: Trail,
  hooks: JsonHooks = {},
  donors: readonly Json[] = [],
): Json {
  const allowRaw = hooks.allowRaw ?? true;
  const root = cloneJson(doc);
  const all = slotsOf(root);
  // Structured fields are where the interesting parsers are: weight them up.
  const weights = all.map((s) =>
    typeof s.value === 'string' && (hooks.bytesField?.(s.path) || hooks.stringField?.(s.path))
      ? 6
      : 1,
  );
  let r = rng.float() * weights.reduce((a, b) => a + b, 0);
  let s = all[all.length - 1]!;
  for (let i = 0; i < all.length; i++)
    if ((r -= weights[i]!) < 0) {
      s = all[i]!;
      break;
    }
  const where = pathText(s.path);
  const set = (v: Json): Json => {
    if (!s.parent) return v;
    if (Array.isArray(s.parent)) s.parent[s.key as number] = v;
    else s.parent[s.key as string] = v;
    return root;
  };

  const bytesMut = typeof s.value === 'string' ? hooks.bytesField?.(s.path) : undefined;
  const strMut = typeof s.value === 'string' ? hooks.stringField?.(s.path) : undefined;
  if (bytesMut && rng.chance(0.75)) {
    const bytes = new Uint8Array(Buffer.from(s.value as string, 'base64'));
    const sub: Trail = [];
    const next = bytesMut(rng, bytes, sub);
    trail.push(`json: ${where} (decoded): ${sub.join('; ')}`);
    return set(Buffer.from(next).toString('base64'));
  }
  if (strMut && rng.chance(0.75)) {
    const sub: Trail = [];
    const next = strMut(rng, s.value as string, sub);
    trail.push(`json: ${where}: ${sub.join('; ')}`);
    return set(next);
  }

  const isObj =
    s.value !== null &&
    typeof s.value === 'object' &&
    !Array.isArray(s.value) &&
    !(s.value instanceof RawJson);
  const op = rng.weighted<string>([
    [s.parent ? 3 : 0, 'delete'],
    [4, 'value'],
    [s.parent ? 1 : 0, 'null'],
    [Array.isArray(s.value) ? 3 : 0, 'array'],
    [isObj ? 1 : 0, 'unknown-key'],
    [isObj && allowRaw ? 2 : 0, 'duplicate-key'],
    [donors.length ? 2 : 0, 'donor'],
  ]);
  switch (op) {
    case 'delete':
      trail.push(`json: ${where}: deleted`);
      if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the fuzzer deletes whichever key it drew
      else delete (s.parent as JsonObject)[s.key as string];
      return root;
    case 'null':
      trail.push(`json: ${where} = null`);
      return set(null);
    case 'array': {
      const a = s.value as Json[];
      const how = rng.weighted<string>([
        [3, 'dup'],
        [2, 'drop'],
        [1, 'many'],
        [1, 'reverse'],
        [1, 'empty'],
      ]);
      if (how === 'dup' && a.length) {
        const i = rng.int(a.length);
        a.splice(i + 1, 0, cloneJson(a[i]!));
      } else if (how === 'drop' && a.length) a.splice(rng.int(a.length), 1);
      else if (how === 'many' && a.length) {
        // Past the parser's limits (32 entries, 64 proof hashes, 1024 subjects, ...).
        const n = rng.pick([31, 32, 33, 64, 65, 100, 1025, 2000]);
        const src = a[rng.int(a.length)]!;
        while (a.length < n) a.push(cloneJson(src));
      } else if (how === 'reverse') a.reverse();
      else a.length = 0;
      trail.push(`json: ${where}: array ${how} (now ${a.length})`);
      return root;
    }
    case 'unknown-key': {
      const o = s.value as JsonObject;
      const k = rng.pick([
        'unknownField',
        '__proto__',
        'constructor',
        'x',
        '',
        'mediaType',
        'tlogEntries',
        'rawBytes',
        'signature',
      ]);
      const v = rng.pick<Json>([1, 'x', null, {}, [], true]);
      if (k === '__proto__')
        Object.defineProperty(o, k, {
          value: v,
          enumerable: true,
          configurable: true,
          writable: true,
        });
      else if (!(k in o)) o[k] = v;
      trail.push(`json: ${where}: added key ${JSON.stringify(k)} = ${JSON.stringify(v)}`);
      return root;
    }
    case 'duplicate-key': {
      const o = s.value as JsonObject;
      const keys = Object.keys(o);
      if (keys.length === 0) return mutateJson(rng, doc, trail, hooks, donors);
      const k = rng.pick(keys);
      const sub: Trail = [];
      const v = rng.chance(0.5)
        ? mutateValue(rng, o[k]!, sub, `${where}.${k}`, true)
        : cloneJson(o[k]!);
      (o[DUPLICATE_KEYS] ??= []).push([k, v]);
      trail.push(
        `json: ${where}: duplicate key ${JSON.stringify(k)}${sub.length ? ` (${sub.join('; ')})` : ' (same value)'}`,
      );
      return root;
    }
    case 'donor': {
      const d = rng.pick(donors);
      const same = getAt(d, s.path);
      if (same !== undefined && rng.chance(0.8)) {
        trail.push(`json: ${where}: taken from another document`);
        return set(cloneJson(same));
      }
      const other = rng.pick(slotsOf(d));
      trail.push(`json: ${where}: replaced by ${pathText(other.path)} of another document`);
      return set(cloneJson(other.value));
    }
    default:
      return set(mutateValue(rng, s.value, trail, where, allowRaw));
  }
}
