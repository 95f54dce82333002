/**
 * DER-aware mutations for certificates, RFC 3161 tokens and anything else in ASN.1. The input
 * is read into a tree with a lenient TLV walker of its own (independent of src/der, which is
 * what is being tested), OCTET/BIT STRINGs that wrap DER are opened too (extension values,
 * TSTInfo), one node is changed — content, tag, deleted, duplicated, nested, swapped, spliced
 * from another input — and the tree is written back with correct lengths so the change gets
 * past the framing into the parser's semantic checks. Now and then a length is then corrupted
 * on purpose (non-minimal, indefinite, off by one, huge), and some inputs get plain havoc.
 */
import type { Prng } from './prng.js';
import { havoc, type Trail } from './mutate-bytes.js';
import { concatBytes as concat } from '../../src/util/encoding.js';

export interface DerTree {
  /** Identifier octets (one or more). */
  id: Uint8Array;
  /** Constructed: children; primitive: content. */
  kids?: DerTree[];
  content?: Uint8Array;
  /** A primitive OCTET/BIT STRING whose content is itself one DER element. */
  wrapped?: { prefix: Uint8Array; inner: DerTree };
}

/** Lenient TLV parse of buf[pos, end) into one node, or undefined when it is not TLV. */
function readNode(
  buf: Uint8Array,
  pos: number,
  end: number,
  depth: number,
): { node: DerTree; next: number } | undefined {
  if (depth > 64 || pos + 2 > end) return undefined;
  const idStart = pos;
  const first = buf[pos++]!;
  if ((first & 0x1f) === 0x1f) {
    while (pos < end && (buf[pos]! & 0x80) !== 0) pos++;
    pos++;
    if (pos > end) return undefined;
  }
  const id = buf.slice(idStart, pos);
  if (pos >= end) return undefined;
  const l0 = buf[pos++]!;
  let len: number;
  if (l0 < 0x80) len = l0;
  else {
    const k = l0 & 0x7f;
    if (k === 0 || k > 4 || pos + k > end) return undefined;
    len = 0;
    for (let i = 0; i < k; i++) len = len * 256 + buf[pos++]!;
  }
  if (pos + len > end) return undefined;
  const contentEnd = pos + len;
  if ((first & 0x20) !== 0) {
    const kids: DerTree[] = [];
    let p = pos;
    while (p < contentEnd) {
      const r = readNode(buf, p, contentEnd, depth + 1);
      if (!r) return undefined;
      kids.push(r.node);
      p = r.next;
    }
    return { node: { id, kids }, next: contentEnd };
  }
  const content = buf.slice(pos, contentEnd);
  const node: DerTree = { id, content };
  // Open OCTET STRING / BIT STRING (0 unused bits) that wrap exactly one DER element.
  const universal = id.length === 1 ? first : -1;
  const skip = universal === 0x04 ? 0 : universal === 0x03 && content[0] === 0 ? 1 : -1;
  if (skip >= 0 && content.length > skip + 2 && (content[skip]! & 0x20) !== 0) {
    const inner = readNode(content, skip, content.length, depth + 1);
    if (inner && inner.next === content.length)
      node.wrapped = { prefix: content.slice(0, skip), inner: inner.node };
  }
  return { node, next: contentEnd };
}

export function parseDerTree(buf: Uint8Array): DerTree | undefined {
  const r = readNode(buf, 0, buf.length, 0);
  return r && r.next === buf.length ? r.node : undefined;
}

function encodeLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** Header positions of the written elements, for corrupting a length afterwards. */
interface Header {
  start: number;
  lenStart: number;
  lenEnd: number;
  contentLength: number;
}

/** Content octets of a primitive (a wrapped element written out). */
function primitiveContent(node: DerTree): Uint8Array {
  if (!node.wrapped) return node.content ?? new Uint8Array(0);
  return concat(node.wrapped.prefix, writeDerTree(node.wrapped.inner).bytes);
}

/**
 * Write the tree in one pass: content lengths first (memoized), then every element at its
 * final offset. Linear in the number of nodes, so a node repeated thousands of times costs
 * the test no more than it costs the parser.
 */
export function writeDerTree(root: DerTree): { bytes: Uint8Array; headers: Header[] } {
  const lengths = new Map<DerTree, number>();
  const contents = new Map<DerTree, Uint8Array>();
  const contentLength = (n: DerTree): number => {
    let len = lengths.get(n);
    if (len !== undefined) return len;
    if (n.kids) {
      len = 0;
      for (const k of n.kids) {
        const c = contentLength(k);
        len += k.id.length + encodeLength(c).length + c;
      }
    } else {
      const c = primitiveContent(n);
      contents.set(n, c);
      len = c.length;
    }
    lengths.set(n, len);
    return len;
  };
  const rootLength = contentLength(root);
  const out = new Uint8Array(root.id.length + encodeLength(rootLength).length + rootLength);
  const headers: Header[] = [];
  const emit = (n: DerTree, at: number): number => {
    const len = contentLength(n);
    const l = encodeLength(len);
    out.set(n.id, at);
    out.set(l, at + n.id.length);
    const start = at + n.id.length + l.length;
    headers.push({ start: at, lenStart: at + n.id.length, lenEnd: start, contentLength: len });
    if (n.kids) {
      let p = start;
      for (const k of n.kids) p = emit(k, p);
    } else {
      out.set(contents.get(n)!, start);
    }
    return start + len;
  };
  emit(root, 0);
  return { bytes: out, headers };
}

interface Slot {
  node: DerTree;
  parent: DerTree | undefined;
  index: number;
  depth: number;
}

function slots(root: DerTree): Slot[] {
  const out: Slot[] = [];
  const walk = (node: DerTree, parent: DerTree | undefined, index: number, depth: number): void => {
    out.push({ node, parent, index, depth });
    node.kids?.forEach((k, i) => walk(k, node, i, depth + 1));
    if (node.wrapped) walk(node.wrapped.inner, undefined, -1, depth + 1);
  };
  walk(root, undefined, -1, 0);
  return out;
}

function clone(n: DerTree): DerTree {
  return {
    id: n.id.slice(),
    ...(n.kids ? { kids: n.kids.map(clone) } : {}),
    ...(n.content ? { content: n.content.slice() } : {}),
    ...(n.wrapped
      ? { wrapped: { prefix: n.wrapped.prefix.slice(), inner: clone(n.wrapped.inner) } }
      : {}),
  };
}

const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

/** Contents worth trying for a given universal tag (boundaries and things DER forbids). */
function interestingContent(rng: Prng, tag: number): Uint8Array {
  switch (tag) {
    case 0x02: // INTEGER
      return rng.pick([
        Uint8Array.of(0),
        Uint8Array.of(0xff),
        Uint8Array.of(0x80),
        Uint8Array.of(0x00, 0x80),
        Uint8Array.of(0x00, 0x01),
        Uint8Array.of(0xff, 0x80),
        new Uint8Array(0),
        Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
        Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0),
        Uint8Array.of(0x01, ...new Uint8Array(20)),
        Uint8Array.of(0x7f, ...new Uint8Array(40).fill(0xff)),
        Uint8Array.of(0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
        Uint8Array.of(0x20, 0, 0, 0, 0, 0, 0),
        Uint8Array.of(0x03),
      ]);
    case 0x17: // UTCTime
      return ascii(
        rng.pick([
          '491231235959Z',
          '500101000000Z',
          '000101000000Z',
          '991231235959Z',
          '250230000000Z',
          '251301000000Z',
          '250101246000Z',
          '2501010000Z',
          '250101000000+0000',
          '250101000000',
          '25010100000Z',
          '250101000060Z',
        ]),
      );
    case 0x18: // GeneralizedTime
      return ascii(
        rng.pick([
          '99991231235959Z',
          '99991231235959.999Z',
          '00000101000000Z',
          '00990101000000Z',
          '01000101000000Z',
          '19700101000000Z',
          '19691231235959Z',
          '16000101000000Z',
          '20250101000000.000000000001Z',
          '20250101000000.1Z',
          '20250101000000.10Z',
          '20250101000000.Z',
          '20250101000000,5Z',
          '20251301000000Z',
          '20250229000000Z',
          '20250101240000Z',
          '2025010100Z',
          '20250101000000',
          '20250101000000+0100',
          '275760091300000Z',
          '+99999123123595',
        ]),
      );
    case 0x06: // OID
      return rng.pick([
        new Uint8Array(0),
        Uint8Array.of(0x80, 0x01),
        Uint8Array.of(0x2a, 0x86),
        Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
        Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b),
        Uint8Array.of(0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x08),
        Uint8Array.of(0x55, 0x1d, 0x11),
        Uint8Array.of(0x55, 0x1d, 0x13),
        Uint8Array.of(0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03),
        Uint8Array.of(0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03),
        Uint8Array.of(0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02),
        Uint8Array.of(0x88, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00),
      ]);
    case 0x01: // BOOLEAN
      return rng.pick([
        Uint8Array.of(0x01),
        Uint8Array.of(0x00),
        Uint8Array.of(0xff),
        new Uint8Array(0),
        Uint8Array.of(0xff, 0xff),
      ]);
    case 0x03: // BIT STRING
      return rng.pick([
        new Uint8Array(0),
        Uint8Array.of(0x08, 0x00),
        Uint8Array.of(0x07, 0xff),
        Uint8Array.of(0x01),
        Uint8Array.of(0x00),
        Uint8Array.of(0x07, 0x80),
        Uint8Array.of(0x00, ...new Uint8Array(65)),
      ]);
    case 0x05:
      return rng.pick([new Uint8Array(0), Uint8Array.of(0x00)]);
    case 0x0c: // UTF8String
    case 0x13: // PrintableString
    case 0x16: // IA5String
      return rng.pick([
        Uint8Array.of(0xc3, 0x28),
        Uint8Array.of(0xed, 0xa0, 0x80),
        Uint8Array.of(0x00),
        ascii('*'),
        ascii('@'),
        ascii('a\nb'),
        new Uint8Array(0),
        Uint8Array.of(0xff),
        new Uint8Array(300).fill(0x41),
        ascii('https://github.com/org/repo/.github/workflows/x.yml@refs/heads/main'),
      ]);
    default:
      return rng.bytes(rng.smallSize(40));
  }
}

const CONTAINER_IDS = [0x30, 0x31, 0xa0, 0xa1, 0xa3, 0x04, 0x03];

function wrapOnce(rng: Prng, node: DerTree): DerTree {
  const id = rng.pick(CONTAINER_IDS);
  if (id === 0x04)
    return {
      id: Uint8Array.of(0x04),
      content: new Uint8Array(0),
      wrapped: { prefix: new Uint8Array(0), inner: node },
    };
  if (id === 0x03)
    return {
      id: Uint8Array.of(0x03),
      content: new Uint8Array(0),
      wrapped: { prefix: Uint8Array.of(0), inner: node },
    };
  return { id: Uint8Array.of(id), kids: [node] };
}

function newIdentifier(rng: Prng, old: Uint8Array): Uint8Array {
  return rng.weighted<() => Uint8Array>([
    [
      3,
      () =>
        Uint8Array.of(
          rng.pick([
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0a, 0x0c, 0x13, 0x16, 0x17, 0x18, 0x1e, 0x30,
            0x31,
          ]),
        ),
    ],
    [2, () => Uint8Array.of(old[0]! ^ 0x20)],
    [
      2,
      () =>
        Uint8Array.of(
          rng.pick([0x80, 0x81, 0x82, 0x83, 0x86, 0x87, 0x88, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4]),
        ),
    ],
    [1, () => Uint8Array.of(rng.int(256))],
    [1, () => Uint8Array.of(0x1f, 0x81, 0x00)],
    [1, () => Uint8Array.of(0x1f, 0x02)],
    [1, () => Uint8Array.of(0x9f, 0x80, 0x01)],
    [1, () => Uint8Array.of(0x3f, 0xff, 0xff, 0xff, 0x7f)],
    [1, () => Uint8Array.of(0x00)],
  ])();
}

function setChildren(parent: DerTree, kids: DerTree[]): void {
  parent.kids = kids;
}

/**
 * One structural mutation of a parsed DER tree (in place on a clone). `donors`: other DER
 * trees to take elements from.
 */
function mutateTree(rng: Prng, root: DerTree, trail: Trail, donors: readonly DerTree[]): DerTree {
  const all = slots(root);
  const s = rng.pick(all);
  const where = `node #${all.indexOf(s)} (tag 0x${[...s.node.id].map((b) => b.toString(16).padStart(2, '0')).join('')}, depth ${s.depth})`;
  const op = rng.weighted<string>([
    [5, 'content'],
    [3, 'interesting'],
    [2, 'identifier'],
    [2, 'delete'],
    [2, 'duplicate'],
    [1, 'repeat'],
    [1, 'swap'],
    [2, 'nest'],
    [1, 'nest-deep'],
    [2, 'splice-donor'],
    [1, 'unwrap'],
    [1, 'insert-child'],
  ]);
  const replaceSelf = (n: DerTree): DerTree => {
    if (s.parent) {
      const kids = [...s.parent.kids!];
      kids[s.index] = n;
      setChildren(s.parent, kids);
      return root;
    }
    if (s.node === root) return n;
    // An encapsulated inner node: replace inside its wrapper.
    for (const w of all) if (w.node.wrapped?.inner === s.node) w.node.wrapped.inner = n;
    return root;
  };
  switch (op) {
    case 'content': {
      if (s.node.kids) {
        trail.push(`der: ${where}: children -> random primitive content`);
        return replaceSelf({
          id: Uint8Array.of(s.node.id[0]! & ~0x20),
          content: rng.bytes(rng.smallSize(24)),
        });
      }
      const c = s.node.wrapped
        ? writeDerTree(s.node.wrapped.inner).bytes
        : (s.node.content ?? new Uint8Array(0));
      const sub: Trail = [];
      const next = havoc(rng, c, sub, [], 2);
      trail.push(`der: ${where}: content ${sub.join(', ')}`);
      return replaceSelf({ id: s.node.id, content: next });
    }
    case 'interesting': {
      if (s.node.kids) {
        // Put a boundary value of some primitive type where a constructed node was.
        const t = rng.pick([0x02, 0x17, 0x18, 0x06, 0x01]);
        const content = interestingContent(rng, t);
        trail.push(
          `der: ${where}: replaced by primitive 0x${t.toString(16)} ${Buffer.from(content).toString('hex')}`,
        );
        return replaceSelf({ id: Uint8Array.of(t), content });
      }
      const content = interestingContent(rng, s.node.id.length === 1 ? s.node.id[0]! & 0x1f : -1);
      trail.push(`der: ${where}: content = ${Buffer.from(content).toString('hex')}`);
      return replaceSelf({ id: s.node.id, content });
    }
    case 'identifier': {
      const id = newIdentifier(rng, s.node.id);
      trail.push(`der: ${where}: identifier -> ${Buffer.from(id).toString('hex')}`);
      // A constructed node relabelled primitive keeps its children's bytes as content: the
      // parser must then read them as that primitive type.
      if (s.node.kids && (id[0]! & 0x20) === 0)
        return replaceSelf({
          id,
          content: concat(...s.node.kids.map((k) => writeDerTree(k).bytes)),
        });
      return replaceSelf({ ...s.node, id });
    }
    case 'delete': {
      if (!s.parent) return mutateTree(rng, root, trail, donors);
      trail.push(`der: ${where}: deleted`);
      setChildren(
        s.parent,
        s.parent.kids!.filter((_, i) => i !== s.index),
      );
      return root;
    }
    case 'duplicate':
    case 'repeat': {
      if (!s.parent) return mutateTree(rng, root, trail, donors);
      const times =
        op === 'duplicate' ? 1 : rng.chance(0.9) ? 2 + rng.smallSize(60) : 500 + rng.int(3000);
      trail.push(`der: ${where}: ${times} extra cop${times === 1 ? 'y' : 'ies'}`);
      const kids = [...s.parent.kids!];
      kids.splice(s.index + 1, 0, ...Array.from({ length: times }, () => clone(s.node)));
      setChildren(s.parent, kids);
      return root;
    }
    case 'swap': {
      if (!s.parent || s.parent.kids!.length < 2) return mutateTree(rng, root, trail, donors);
      const j = rng.int(s.parent.kids!.length);
      trail.push(`der: ${where}: swapped with sibling ${j}`);
      const kids = [...s.parent.kids!];
      [kids[s.index], kids[j]] = [kids[j]!, kids[s.index]!];
      setChildren(s.parent, kids);
      return root;
    }
    case 'nest':
    case 'nest-deep': {
      const k = op === 'nest' ? 1 + rng.smallSize(3) : 28 + rng.int(12);
      let n = s.node;
      for (let i = 0; i < k; i++) n = wrapOnce(rng, n);
      trail.push(`der: ${where}: wrapped ${k} time(s)`);
      return replaceSelf(n);
    }
    case 'splice-donor': {
      if (donors.length === 0) return mutateTree(rng, root, trail, donors);
      const d = slots(rng.pick(donors));
      // Prefer an element of the same type, so a whole extension or name gets swapped in.
      const same = d.filter((x) => x.node.id[0] === s.node.id[0]);
      const pick = rng.pick(same.length && rng.chance(0.8) ? same : d);
      trail.push(
        `der: ${where}: replaced by a donor element (tag 0x${pick.node.id[0]!.toString(16)}, depth ${pick.depth})`,
      );
      return replaceSelf(clone(pick.node));
    }
    case 'unwrap': {
      if (!s.parent || !s.node.kids) return mutateTree(rng, root, trail, donors);
      trail.push(`der: ${where}: children spliced into the parent`);
      const kids = [...s.parent.kids!];
      kids.splice(s.index, 1, ...s.node.kids);
      setChildren(s.parent, kids);
      return root;
    }
    default: {
      if (!s.node.kids) return mutateTree(rng, root, trail, donors);
      const tag = rng.pick([0x02, 0x04, 0x05, 0x06, 0x0c, 0x17, 0x18, 0x01, 0x03]);
      const child: DerTree = { id: Uint8Array.of(tag), content: interestingContent(rng, tag) };
      const at = rng.int(s.node.kids.length + 1);
      trail.push(`der: ${where}: inserted child 0x${tag.toString(16)} at ${at}`);
      const kids = [...s.node.kids];
      kids.splice(at, 0, child);
      s.node.kids = kids;
      return root;
    }
  }
}

/** Corrupt one written length: non-minimal, indefinite, off by one, too long, huge. */
function corruptLength(
  rng: Prng,
  bytes: Uint8Array,
  headers: readonly Header[],
  trail: Trail,
): Uint8Array {
  if (headers.length === 0) return bytes;
  const h = rng.pick(headers);
  const n = h.contentLength;
  const choices: [number, () => Uint8Array][] = [
    [2, () => Uint8Array.of(0x81, n & 0xff)], // long form for a short length (or a wrong one)
    [2, () => Uint8Array.of(0x82, (n >> 8) & 0xff, n & 0xff)],
    [1, () => Uint8Array.of(0x80)], // indefinite
    [2, () => encodeLength(n + 1)],
    [2, () => encodeLength(Math.max(0, n - 1))],
    [1, () => Uint8Array.of(0x84, 0xff, 0xff, 0xff, 0xff)],
    [1, () => Uint8Array.of(0x85, 0x01, 0x00, 0x00, 0x00, 0x00)],
    [1, () => Uint8Array.of(0x88, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)],
    [1, () => Uint8Array.of(0xff)],
    [1, () => encodeLength(n * 2 + 7)],
  ];
  const len = rng.weighted(choices)();
  trail.push(`der: length at ${h.lenStart} (${n}) -> ${Buffer.from(len).toString('hex')}`);
  return concat(bytes.subarray(0, h.lenStart), len, bytes.subarray(h.lenEnd));
}

/**
 * Mutate DER bytes: 1-3 structural steps on the tree, then (sometimes) a corrupted length,
 * or (when the input is not DER, and sometimes anyway) byte havoc.
 */
export function mutateDer(
  rng: Prng,
  input: Uint8Array,
  trail: Trail,
  donors: readonly Uint8Array[] = [],
): Uint8Array {
  const tree = rng.chance(0.9) ? parseDerTree(input) : undefined;
  if (!tree) return havoc(rng, input, trail, donors);
  const donorTrees = donors.length
    ? [parseDerTree(rng.pick(donors))].filter((t): t is DerTree => t !== undefined)
    : [];
  let root = clone(tree);
  const steps = 1 + rng.smallSize(2);
  for (let i = 0; i < steps; i++) root = mutateTree(rng, root, trail, donorTrees);
  const { bytes, headers } = writeDerTree(root);
  if (rng.chance(0.15)) return corruptLength(rng, bytes, headers, trail);
  if (rng.chance(0.05)) return havoc(rng, bytes, trail, donors, 2);
  return bytes;
}
