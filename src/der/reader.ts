/**
 * A strict DER reader (adversarial checklist C25). BER leniency is how parsers disagree
 * about what a certificate says, so everything DER forbids is refused here: indefinite and
 * non-minimal lengths, lengths past the end, trailing bytes, constructed primitives,
 * non-minimal high tag numbers, non-minimal INTEGERs and OID arcs, BOOLEANs other than
 * 00/FF, loose time formats. Nodes are views into the input (no copies); the whole tree is
 * parsed eagerly so a malformed element anywhere is refused, not only where it is read.
 *
 * Eager parsing allocates a node per element, so each parse has one budget (checklist H55):
 * at most MAX_DER_ELEMENTS elements and MAX_DER_DEPTH levels, counted across parseDer and
 * every parseNested into its nodes, refused with DER_LIMIT_EXCEEDED the moment either runs
 * out (a 16 MB "certificate" of millions of empty elements costs ~one budget, not a gigabyte).
 * Callers name the tag they expect, checked on the identifier octet before anything below it
 * is parsed.
 */
import { fail, type CheckName, type ErrorCode } from '../errors.js';
import { utf8Decoder } from '../util/encoding.js';
import { daysInMonth, type PreciseTime } from '../util/time.js';

/** Where a DER error is reported: code, check and a name for the thing being read. */
export interface DerContext {
  code: ErrorCode;
  check: CheckName;
  /** What is being parsed, e.g. "certificate" — prefixed to every message. */
  what: string;
}

export const DEFAULT_DER_CONTEXT: DerContext = {
  code: 'CERTIFICATE_MALFORMED',
  check: 'certificate-chain',
  what: 'DER',
};

export const MAX_DER_DEPTH = 32;

/**
 * Elements in one parse (including parseNested into its nodes). Real inputs stay far below:
 * the largest in the conformance suite are a leaf with ~120 and a TSA token carrying its
 * certificate with ~290; 4096 nodes cost well under a megabyte.
 */
export const MAX_DER_ELEMENTS = 4096;

/** What is left of a parse's element budget; shared by every node of one parse. */
interface Budget {
  elements: number;
}

/** The context nodes carry: the caller's, plus the budget of the parse they came from. */
interface ParseContext extends DerContext {
  readonly budget: Budget;
}

/** Tag classes (the two top bits of the identifier octet). */
export const TagClass = { universal: 0, application: 1, context: 2, private: 3 } as const;

/** Universal tag numbers used in this project. */
export const Tag = {
  BOOLEAN: 1,
  INTEGER: 2,
  BIT_STRING: 3,
  OCTET_STRING: 4,
  NULL: 5,
  OID: 6,
  ENUMERATED: 10,
  UTF8_STRING: 12,
  SEQUENCE: 16,
  SET: 17,
  PRINTABLE_STRING: 19,
  T61_STRING: 20,
  IA5_STRING: 22,
  UTC_TIME: 23,
  GENERALIZED_TIME: 24,
  BMP_STRING: 30,
} as const;

export class DerNode {
  /** The whole buffer this node lives in. */
  readonly buf: Uint8Array;
  /** Offset of the identifier octet in `buf`. */
  readonly start: number;
  readonly headerLength: number;
  readonly length: number;
  readonly cls: number;
  readonly constructed: boolean;
  readonly tagNumber: number;
  readonly depth: number;
  readonly ctx: DerContext;
  /** Children of a constructed node (empty for primitives). */
  readonly children: DerNode[];

  constructor(
    buf: Uint8Array,
    start: number,
    headerLength: number,
    length: number,
    cls: number,
    constructed: boolean,
    tagNumber: number,
    depth: number,
    ctx: DerContext,
    children: DerNode[],
  ) {
    this.buf = buf;
    this.start = start;
    this.headerLength = headerLength;
    this.length = length;
    this.cls = cls;
    this.constructed = constructed;
    this.tagNumber = tagNumber;
    this.depth = depth;
    this.ctx = ctx;
    this.children = children;
  }

  /** Offset of the first content byte. */
  get valueStart(): number {
    return this.start + this.headerLength;
  }

  /** Offset just past this element. */
  get end(): number {
    return this.start + this.headerLength + this.length;
  }

  /** Content octets (a view). */
  get value(): Uint8Array {
    return this.buf.subarray(this.valueStart, this.end);
  }

  /** The whole element, header included (a view). */
  get der(): Uint8Array {
    return this.buf.subarray(this.start, this.end);
  }

  /** Is this the universal tag `n`? */
  is(n: number): boolean {
    return this.cls === TagClass.universal && this.tagNumber === n;
  }

  /** Is this context-specific tag [n]? */
  isContext(n: number): boolean {
    return this.cls === TagClass.context && this.tagNumber === n;
  }

  /** Throw a StellaError naming this node's position. */
  fail(problem: string): never {
    return fail(
      this.ctx.code,
      this.ctx.check,
      `${this.ctx.what}: ${problem} (at offset ${this.start})`,
    );
  }

  /** Require the universal tag `n` (constructedness is already checked by the parser). */
  expect(n: number, name: string): this {
    if (!this.is(n)) this.fail(`expected ${name}, found ${describeTag(this)}`);
    return this;
  }

  /** Require a SEQUENCE with between min and max children. */
  sequence(name: string, min = 0, max = Infinity): DerNode[] {
    if (!this.is(Tag.SEQUENCE)) this.fail(`${name}: expected SEQUENCE, found ${describeTag(this)}`);
    if (this.children.length < min || this.children.length > max)
      this.fail(`${name}: unexpected number of elements (${this.children.length})`);
    return this.children;
  }

  /** Child `i`, or a failure naming what was missing. */
  child(i: number, name: string): DerNode {
    const c = this.children[i];
    if (!c) this.fail(`${name} missing`);
    return c;
  }
}

/** Names of the universal tags Stella's messages mention. */
const UNIVERSAL_TAG_NAMES: Readonly<Record<number, string>> = {
  1: 'BOOLEAN',
  2: 'INTEGER',
  3: 'BIT STRING',
  4: 'OCTET STRING',
  5: 'NULL',
  6: 'OBJECT IDENTIFIER',
  10: 'ENUMERATED',
  12: 'UTF8String',
  16: 'SEQUENCE',
  17: 'SET',
  19: 'PrintableString',
  22: 'IA5String',
  23: 'UTCTime',
  24: 'GeneralizedTime',
};

const universalTagName = (tagNumber: number): string =>
  UNIVERSAL_TAG_NAMES[tagNumber] ?? `universal tag ${tagNumber}`;

export function describeTag(n: DerNode): string {
  if (n.cls === TagClass.universal) return universalTagName(n.tagNumber);
  const cls = ['universal', 'application', 'context', 'private'][n.cls];
  return `${cls} tag [${n.tagNumber}]${n.constructed ? ' (constructed)' : ''}`;
}

function ctxOf(ctx: Partial<DerContext> | undefined): DerContext {
  if (!ctx) return DEFAULT_DER_CONTEXT;
  return {
    code: ctx.code ?? DEFAULT_DER_CONTEXT.code,
    check: ctx.check ?? DEFAULT_DER_CONTEXT.check,
    what: ctx.what ?? DEFAULT_DER_CONTEXT.what,
  };
}

function err(ctx: DerContext, problem: string, offset: number): never {
  return fail(ctx.code, ctx.check, `${ctx.what}: ${problem} (at offset ${offset})`);
}

function overBudget(ctx: DerContext, problem: string, offset: number): never {
  return fail('DER_LIMIT_EXCEEDED', ctx.check, `${ctx.what}: ${problem} (at offset ${offset})`, {
    what: ctx.what,
    offset,
  });
}

/**
 * Refuse before descending when the element at `pos` is not the universal tag `expect`: a
 * wrong shape costs one octet, not a parse of whatever it contains.
 */
function expectTagAt(
  buf: Uint8Array,
  pos: number,
  end: number,
  expect: number,
  ctx: DerContext,
): void {
  if (pos >= end) err(ctx, 'truncated: missing tag', pos);
  const id = buf[pos]!;
  const constructed = expect === Tag.SEQUENCE || expect === Tag.SET;
  if (id !== (expect | (constructed ? 0x20 : 0))) {
    err(
      ctx,
      `expected ${universalTagName(expect)}, found identifier octet 0x${id.toString(16).padStart(2, '0')}`,
      pos,
    );
  }
}

/**
 * The length octets at `pos` (the element began at `start`): short form, or long form in at
 * most 4 octets with no leading zero and only for lengths of 128 or more; never indefinite.
 */
function readLength(
  buf: Uint8Array,
  pos: number,
  limit: number,
  start: number,
  ctx: ParseContext,
): number {
  const first = buf[pos++]!;
  if (first < 0x80) return first;
  if (first === 0x80) return err(ctx, 'indefinite length is not allowed in DER', start);
  const n = first & 0x7f;
  if (n > 4) err(ctx, `length of ${n} octets is too large`, start);
  if (pos + n > limit) err(ctx, 'truncated length', start);
  if (buf[pos] === 0) err(ctx, 'non-minimal length encoding (leading zero)', start);
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + buf[pos++]!;
  if (length < 0x80) err(ctx, 'non-minimal length encoding (long form for a short length)', start);
  return length;
}

/**
 * Universal tags X.680 assigns (1..36, not the reserved 15) and, of them, those whose DER
 * encoding is constructed: SEQUENCE, SET and the three types defined as sequences (EXTERNAL,
 * EMBEDDED PDV, CHARACTER STRING). An unassigned universal tag means nothing any encoder
 * could have meant, so it is refused wherever it stands, opaque values included.
 */
const LAST_ASSIGNED_UNIVERSAL_TAG = 36;
const CONSTRUCTED_UNIVERSAL_TAGS: ReadonlySet<number> = new Set([8, 11, Tag.SEQUENCE, Tag.SET, 29]);

/** A universal tag: assigned; the constructed types constructed, every other one primitive. */
function checkUniversalForm(
  tagNumber: number,
  constructed: boolean,
  start: number,
  ctx: ParseContext,
): void {
  if (tagNumber === 0 || tagNumber === 15)
    err(ctx, `universal tag ${tagNumber} is reserved`, start);
  if (tagNumber > LAST_ASSIGNED_UNIVERSAL_TAG)
    err(ctx, `universal tag ${tagNumber} is not assigned (X.680 assigns 1 to 36)`, start);
  const mustConstruct = CONSTRUCTED_UNIVERSAL_TAGS.has(tagNumber);
  if (mustConstruct !== constructed) {
    err(
      ctx,
      mustConstruct
        ? `tag ${tagNumber} must be constructed`
        : `constructed encoding of universal tag ${tagNumber} is not allowed in DER`,
      start,
    );
  }
}

/** The elements of a constructed value, from `pos` to exactly `end`. */
function parseChildren(
  buf: Uint8Array,
  pos: number,
  end: number,
  depth: number,
  ctx: ParseContext,
): DerNode[] {
  const children: DerNode[] = [];
  while (pos < end) {
    const c = parseElement(buf, pos, end, depth + 1, ctx);
    children.push(c);
    pos = c.end;
  }
  return children;
}

/**
 * Parse one element starting at `pos` (must end at or before `limit`), including its whole
 * subtree. Returns the node; the caller checks what follows.
 */
function parseElement(
  buf: Uint8Array,
  pos: number,
  limit: number,
  depth: number,
  ctx: ParseContext,
): DerNode {
  if (depth > MAX_DER_DEPTH) overBudget(ctx, `nesting deeper than ${MAX_DER_DEPTH}`, pos);
  if (--ctx.budget.elements < 0) overBudget(ctx, `more than ${MAX_DER_ELEMENTS} elements`, pos);
  const start = pos;
  if (pos >= limit) err(ctx, 'truncated: missing tag', pos);
  const id = buf[pos++]!;
  const cls = id >> 6;
  const constructed = (id & 0x20) !== 0;
  let tagNumber = id & 0x1f;
  if (tagNumber === 0x1f) {
    // High tag number form: base-128, no leading 0x80, and only for numbers >= 31.
    tagNumber = 0;
    let count = 0;
    for (;;) {
      if (pos >= limit) err(ctx, 'truncated high tag number', pos);
      const b = buf[pos++]!;
      if (count === 0 && b === 0x80) err(ctx, 'non-minimal high tag number', start);
      if (++count > 3) err(ctx, 'high tag number too large', start);
      tagNumber = (tagNumber << 7) | (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    if (tagNumber < 31) err(ctx, `high tag number form used for tag ${tagNumber}`, start);
  }
  if (pos >= limit) err(ctx, 'truncated: missing length', pos);
  const length = readLength(buf, pos, limit, start, ctx);
  pos += buf[pos]! < 0x80 ? 1 : 1 + (buf[pos]! & 0x7f);
  const headerLength = pos - start;
  if (length > limit - pos) err(ctx, `length ${length} runs past the end of the data`, start);
  if (cls === TagClass.universal) checkUniversalForm(tagNumber, constructed, start, ctx);
  const children = constructed ? parseChildren(buf, pos, pos + length, depth, ctx) : [];
  return new DerNode(
    buf,
    start,
    headerLength,
    length,
    cls,
    constructed,
    tagNumber,
    depth,
    ctx,
    children,
  );
}

/**
 * Parse `buf` as exactly one DER element (no trailing bytes). `ctx` sets the error code,
 * check and subject name used in messages; `expect`, the universal tag the element must have
 * (checked before anything inside it is parsed). One element budget for this parse.
 */
export function parseDer(buf: Uint8Array, ctx?: Partial<DerContext>, expect?: number): DerNode {
  const c: ParseContext = { ...ctxOf(ctx), budget: { elements: MAX_DER_ELEMENTS } };
  if (buf.length === 0) err(c, 'empty input', 0);
  if (expect !== undefined) expectTagAt(buf, 0, buf.length, expect, c);
  const node = parseElement(buf, 0, buf.length, 1, c);
  if (node.end !== buf.length)
    err(c, `${buf.length - node.end} trailing byte(s) after the top-level element`, node.end);
  return node;
}

/**
 * Parse the content octets of `node` (e.g. an OCTET STRING wrapping DER) as one element,
 * from the budget of the parse `node` came from; `expect` as for parseDer.
 */
export function parseNested(node: DerNode, what?: string, expect?: number): DerNode {
  const parent = node.ctx as ParseContext;
  const ctx: ParseContext = what ? { ...parent, what } : parent;
  const v = node.value;
  if (v.length === 0) node.fail('empty wrapped DER');
  if (expect !== undefined) expectTagAt(node.buf, node.valueStart, node.end, expect, ctx);
  const inner = parseElement(node.buf, node.valueStart, node.end, node.depth + 1, ctx);
  if (inner.end !== node.end)
    err(ctx, `${node.end - inner.end} trailing byte(s) after wrapped element`, inner.end);
  return inner;
}

// ---------------------------------------------------------------------------------------
// Typed readers

/** Decoded OIDs by their content octets: certificates repeat the same few dozen. */
const oidCache = new Map<string, string>();
const OID_CACHE_MAX = 4096;

export function readOid(node: DerNode): string {
  node.expect(Tag.OID, 'OBJECT IDENTIFIER');
  const buf = node.buf;
  const start = node.valueStart;
  const end = node.end;
  if (start === end) node.fail('empty OBJECT IDENTIFIER');
  if ((buf[end - 1]! & 0x80) !== 0) node.fail('truncated OBJECT IDENTIFIER');
  let key = '';
  for (let i = start; i < end; i++) key += String.fromCharCode(buf[i]!);
  const hit = oidCache.get(key);
  if (hit !== undefined) return hit;

  let out = '';
  let arc = 0;
  let big: bigint | undefined;
  let first = true;
  let startOfArc = true;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (startOfArc && b === 0x80) node.fail('non-minimal OBJECT IDENTIFIER arc');
    startOfArc = false;
    // Numbers are exact up to 2^53; switch to bigint before an arc could pass that.
    if (big === undefined && arc >= 2 ** 45) big = BigInt(arc);
    if (big !== undefined) big = (big << 7n) | BigInt(b & 0x7f);
    else arc = arc * 128 + (b & 0x7f);
    if ((b & 0x80) !== 0) continue;
    if (first) {
      // The first subidentifier packs two arcs: 40*X + Y.
      if (big !== undefined) out = `2.${big - 80n}`;
      else out = arc < 40 ? `0.${arc}` : arc < 80 ? `1.${arc - 40}` : `2.${arc - 80}`;
      first = false;
    } else {
      out += `.${big !== undefined ? big.toString() : arc}`;
    }
    arc = 0;
    big = undefined;
    startOfArc = true;
  }
  if (oidCache.size < OID_CACHE_MAX) oidCache.set(key, out);
  return out;
}

function checkMinimalInteger(node: DerNode, v: Uint8Array, name: string): void {
  if (v.length === 0) node.fail(`empty ${name}`);
  if (v.length > 1) {
    if ((v[0] === 0x00 && (v[1]! & 0x80) === 0) || (v[0] === 0xff && (v[1]! & 0x80) !== 0))
      node.fail(`non-minimal ${name} encoding`);
  }
}

/** INTEGER as a bigint (two's complement), refusing non-minimal encodings. */
export function readInteger(node: DerNode): bigint {
  node.expect(Tag.INTEGER, 'INTEGER');
  const v = node.value;
  checkMinimalInteger(node, v, 'INTEGER');
  let n = 0n;
  for (const b of v) n = (n << 8n) | BigInt(b);
  if ((v[0]! & 0x80) !== 0) n -= 1n << BigInt(v.length * 8);
  return n;
}

/** INTEGER that must fit a safe non-negative JS number (versions, path lengths). */
export function readSmallInteger(node: DerNode, name = 'INTEGER'): number {
  const n = readInteger(node);
  if (n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) node.fail(`${name} out of range`);
  return Number(n);
}

/** The content octets of an INTEGER (validated minimal), e.g. for serial numbers. */
export function readIntegerBytes(node: DerNode): Uint8Array {
  node.expect(Tag.INTEGER, 'INTEGER');
  const v = node.value;
  checkMinimalInteger(node, v, 'INTEGER');
  return v;
}

export function readBoolean(node: DerNode): boolean {
  node.expect(Tag.BOOLEAN, 'BOOLEAN');
  const v = node.value;
  if (v.length !== 1) node.fail('BOOLEAN must be one octet');
  if (v[0] === 0xff) return true;
  if (v[0] === 0x00) return false;
  return node.fail('BOOLEAN must be 0x00 or 0xFF in DER');
}

export function readNull(node: DerNode): null {
  node.expect(Tag.NULL, 'NULL');
  if (node.length !== 0) node.fail('NULL with content');
  return null;
}

export function readOctetString(node: DerNode): Uint8Array {
  node.expect(Tag.OCTET_STRING, 'OCTET STRING');
  return node.value;
}

export interface BitString {
  bytes: Uint8Array;
  unusedBits: number;
}

/** BIT STRING: unused-bit count 0..7, zero when empty, and the unused bits themselves zero. */
export function readBitString(node: DerNode): BitString {
  node.expect(Tag.BIT_STRING, 'BIT STRING');
  const v = node.value;
  if (v.length === 0) node.fail('BIT STRING without unused-bits octet');
  const unusedBits = v[0]!;
  if (unusedBits > 7) node.fail('BIT STRING unused-bits count above 7');
  if (v.length === 1 && unusedBits !== 0) node.fail('empty BIT STRING with unused bits');
  if (unusedBits !== 0 && (v[v.length - 1]! & ((1 << unusedBits) - 1)) !== 0)
    node.fail('BIT STRING unused bits are not zero');
  return { bytes: v.subarray(1), unusedBits };
}

const PRINTABLE_RE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** UTF8String, PrintableString or IA5String, with each type's character set enforced. */
export function readString(node: DerNode): string {
  if (node.cls !== TagClass.universal) node.fail(`expected a string, found ${describeTag(node)}`);
  const v = node.value;
  switch (node.tagNumber) {
    case Tag.UTF8_STRING:
      try {
        return utf8Decoder.decode(v);
      } catch {
        return node.fail('UTF8String is not valid UTF-8');
      }
    case Tag.PRINTABLE_STRING: {
      const s = latin(v);
      if (!PRINTABLE_RE.test(s)) node.fail('PrintableString has characters outside its set');
      return s;
    }
    case Tag.IA5_STRING: {
      for (const b of v) if (b > 0x7f) node.fail('IA5String has non-ASCII characters');
      return latin(v);
    }
    default:
      return node.fail(`expected a string, found ${describeTag(node)}`);
  }
}

/** Read bytes known to be 7-bit as a string without allocating a decoder. */
function latin(v: Uint8Array): string {
  let s = '';
  for (let i = 0; i < v.length; i++) s += String.fromCharCode(v[i]!);
  return s;
}

function digits(v: Uint8Array, at: number, n: number, node: DerNode): number {
  let x = 0;
  for (let i = at; i < at + n; i++) {
    const d = v[i]! - 0x30;
    if (d < 0 || d > 9) node.fail('time has a non-digit where a digit is required');
    x = x * 10 + d;
  }
  return x;
}

export interface ReadTimeOptions {
  /** Allow GeneralizedTime fractional seconds (RFC 3161 genTime); RFC 5280 forbids them. */
  allowFraction?: boolean;
}

/**
 * UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ, optional .f to .fffffffff with
 * `allowFraction`, no trailing zeros) as milliseconds since the epoch, rounded down. Always
 * UTC ("Z"), always with seconds, every field in range.
 */
export function readTime(node: DerNode, opts: ReadTimeOptions = {}): number {
  return readPreciseTime(node, opts).ms;
}

/**
 * As readTime, at full precision: a GeneralizedTime fraction keeps every digit (the up to six
 * below the millisecond in `subMs`), so a time 100 µs past a window's end is past it.
 */
export function readPreciseTime(node: DerNode, opts: ReadTimeOptions = {}): PreciseTime {
  const v = node.value;
  let year: number;
  let p: number;
  if (node.is(Tag.UTC_TIME)) {
    if (v.length !== 13) node.fail('UTCTime must be YYMMDDHHMMSSZ');
    const yy = digits(v, 0, 2, node);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    p = 2;
  } else if (node.is(Tag.GENERALIZED_TIME)) {
    if (v.length < 15) node.fail('GeneralizedTime must be YYYYMMDDHHMMSSZ');
    year = digits(v, 0, 4, node);
    p = 4;
  } else {
    return node.fail(`expected a time, found ${describeTag(node)}`);
  }
  const month = digits(v, p, 2, node);
  const day = digits(v, p + 2, 2, node);
  const hour = digits(v, p + 4, 2, node);
  const minute = digits(v, p + 6, 2, node);
  const second = digits(v, p + 8, 2, node);
  p += 10;
  let ms = 0;
  let subMs = '';
  if (node.is(Tag.GENERALIZED_TIME) && v[p] === 0x2e /* . */) {
    if (!opts.allowFraction)
      node.fail('GeneralizedTime with fractional seconds is not allowed here');
    p++;
    const fracStart = p;
    while (p < v.length && v[p]! >= 0x30 && v[p]! <= 0x39) p++;
    const n = p - fracStart;
    if (n === 0) node.fail('GeneralizedTime has an empty fraction');
    // Nanoseconds at most, as Go's encoding/asn1 reads a GeneralizedTime (cosign and
    // sigstore-go refuse a time that does not write back the same with nine digits): no TSA
    // writes more, and a stranger's token could carry a million.
    if (n > 9)
      node.fail(
        `GeneralizedTime fraction has ${n} digits; at most nine (nanoseconds) are read, as by cosign and sigstore-go`,
      );
    if (v[p - 1] === 0x30) node.fail('GeneralizedTime fraction has trailing zeros');
    const take = Math.min(n, 3);
    ms = digits(v, fracStart, take, node) * 10 ** (3 - take);
    // Digits past the millisecond (up to six) are kept as text, not rounded (".1000001" ->
    // "0001"); they end in a non-zero digit (trailing zeros are refused above).
    if (n > 3) subMs = utf8Decoder.decode(v.subarray(fracStart + 3, p));
  }
  if (p !== v.length - 1 || v[p] !== 0x5a /* Z */)
    node.fail('time must end with Z (UTC) right after the seconds');
  if (month < 1 || month > 12) node.fail('time has month out of range');
  if (day < 1 || day > daysInMonth(year, month)) node.fail('time has day out of range');
  if (hour > 23 || minute > 59 || second > 59)
    node.fail('time has hour, minute or second out of range');
  // Date.UTC maps years 0-99 to 1900-1999; GeneralizedTime years that small are not real.
  if (year < 100) node.fail('time year out of range');
  return { ms: Date.UTC(year, month - 1, day, hour, minute, second, ms), subMs };
}

/** AlgorithmIdentifier: the OID and the parameters node, if any. */
export function readAlgorithmIdentifier(
  node: DerNode,
  name = 'AlgorithmIdentifier',
): { oid: string; params: DerNode | undefined } {
  const c = node.sequence(name, 1, 2);
  return { oid: readOid(c[0]!), params: c[1] };
}
