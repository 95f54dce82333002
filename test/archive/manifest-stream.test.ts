/**
 * manifest.cbor read as a stream: canonical entries are read by the entry table, without the
 * general decoder and the comparison with the re-encoded entry, so what the table accepts
 * must be exactly what encodeManifestEntry writes. Held there on entries at every integer
 * width and on every one-byte change of them; and the streamed reader judges each changed
 * manifest as the in-memory one (decodeManifest) does.
 */
import test from 'ava';
import { StellaError } from '../../src/errors.js';
import {
  decodeManifest,
  encodeManifest,
  encodeManifestEntry,
  EXPORT_FORMAT,
  EXPORT_FORMAT_VERSION,
  validateManifestEntry,
  type ExportManifest,
  type ExportManifestEntry,
} from '../../src/archive/manifest.js';
import { ManifestStream, readCanonicalEntry } from '../../src/archive/manifest-stream.js';
import { bytesEqual } from '../../src/util/encoding.js';

const hex = (c: string): string => c.repeat(64);
function entryWith(over: Partial<ExportManifestEntry>, n = 0): ExportManifestEntry {
  return {
    artifactDigest: `sha256:${hex('a')}`,
    path: `bundles/${hex('a')}/${n}.sigstore.json`,
    sha256: hex('b'),
    size: 6000,
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    content: 'messageSignature',
    identity: 'https://github.com/o/r/.github/workflows/release.yml@refs/heads/main',
    issuer: 'https://token.actions.githubusercontent.com',
    logIndex: 123_456,
    integratedTime: '2026-01-01T00:00:00Z',
    ...over,
  };
}

/** A manifest of `entries`, with a fixed header and no trusted root. */
function manifestOf(entries: ExportManifestEntry[]): ExportManifest {
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_FORMAT_VERSION,
    createdAt: '2026-01-01T00:00:00Z',
    trustedRoot: null,
    entries,
  };
}

/** Entries at every head width of each integer (and the text and null forms). */
const WIDTHS = [0, 23, 24, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];
const ENTRIES: ExportManifestEntry[] = [
  ...WIDTHS.map((v, n) => entryWith({ size: v, logIndex: WIDTHS[WIDTHS.length - 1 - n]! }, n)),
  entryWith({ identity: null, issuer: null, integratedTime: null }, 10),
  entryWith({ identity: 'ünïcødé 🔏 <script>', content: 'dsseEnvelope' }, 11),
  entryWith({ identity: 'x'.repeat(300), mediaType: 'm'.repeat(200) }, 12),
];

test('the entry table reads every entry encodeManifestEntry writes, whole', (t) => {
  for (const e of ENTRIES) {
    const bytes = encodeManifestEntry(e);
    const r = readCanonicalEntry(bytes);
    t.truthy(r, `logIndex ${e.logIndex}, size ${e.size}`);
    t.is(r!.length, bytes.byteLength);
    t.deepEqual(validateManifestEntry(r!.fields, 0), e);
  }
});

/** Each byte changed to a few other values. */
function* oneByteChanges(bytes: Uint8Array): Generator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i++) {
    const b = bytes[i]!;
    for (const v of new Set([
      b ^ 0x01,
      b ^ 0x20,
      b ^ 0x80,
      0x00,
      0xff,
      0xf6,
      0x1b,
      (b + 1) & 0xff,
    ])) {
      if (v === b) continue;
      const m = bytes.slice();
      m[i] = v;
      yield m;
    }
  }
}

test('what the entry table accepts from a changed entry is exactly the canonical encoding of what it read', (t) => {
  let accepted = 0;
  let changes = 0;
  for (const e of ENTRIES) {
    for (const m of oneByteChanges(encodeManifestEntry(e))) {
      changes++;
      let r: ReturnType<typeof readCanonicalEntry>;
      let valid: ExportManifestEntry;
      try {
        r = readCanonicalEntry(m);
        if (!r) continue;
        valid = validateManifestEntry(r.fields, 0);
      } catch (err) {
        // Refused (a text that is not UTF-8, a field out of range): nothing was accepted.
        t.true(err instanceof StellaError);
        continue;
      }
      accepted++;
      t.true(bytesEqual(m.subarray(0, r.length), encodeManifestEntry(valid)));
    }
  }
  // Changes inside texts (a digest's hex, an identity's letters) stay canonical.
  t.true(accepted > 0 && accepted < changes, `${accepted} of ${changes}`);
});

async function* chunks(bytes: Uint8Array, step: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += step) yield bytes.subarray(i, i + step);
}

/** The manifest read as a stream: its entries, or the refusal's code. */
async function streamed(bytes: Uint8Array, step: number): Promise<ExportManifestEntry[] | string> {
  try {
    const s = await ManifestStream.open(chunks(bytes, step), 1000);
    const out: ExportManifestEntry[] = [];
    for (let e = await s.next(); e; e = await s.next()) out.push(e);
    await s.finish();
    return out;
  } catch (e) {
    if (e instanceof StellaError) return e.code;
    throw e;
  }
}

function inMemory(bytes: Uint8Array): ExportManifestEntry[] | string {
  try {
    return decodeManifest(bytes, 1000).entries;
  } catch (e) {
    if (e instanceof StellaError) return e.code;
    throw e;
  }
}

test('every one-byte change of a manifest is judged by the streamed reader as by the in-memory one', async (t) => {
  const manifest = manifestOf(ENTRIES.slice(0, 3).concat(ENTRIES.slice(-3)));
  const good = encodeManifest(manifest);
  t.deepEqual(await streamed(good, 7), manifest.entries);
  t.deepEqual(inMemory(good), manifest.entries);
  let refused = 0;
  for (const [n, m] of [...oneByteChanges(good)].entries()) {
    const want = inMemory(m);
    if (typeof want === 'string') refused++;
    // A step that varies, so entries are cut at every place over the run.
    t.deepEqual(await streamed(m, 5 + (n % 300)), want, `change ${n}`);
  }
  t.true(refused > 0);
});

test('a manifest of as many entries as each width of the array head (23, 24, 255, 256, 65,535, 65,536) is read streamed as written', async (t) => {
  for (const count of [0, 1, 23, 24, 255, 256, 65_535, 65_536]) {
    const manifest = manifestOf(
      Array.from({ length: count }, (_, n) => entryWith({ logIndex: n }, n)),
    );
    const s = await ManifestStream.open(chunks(encodeManifest(manifest), 1 << 16), count);
    let read = 0;
    for (let e = await s.next(); e; e = await s.next()) {
      if (e.logIndex !== read) t.fail(`entry ${read} read as ${e.logIndex}`);
      read++;
    }
    await s.finish();
    // The head at each width is checked against the canonical prefix; under a boundary mutant
    // of encodeManifestPrefix (count <= 24 in one byte) a 24-entry manifest was refused.
    t.is(read, count);
  }
});

/** `entry`'s canonical bytes with the value after `key` rewritten by `rewrite`. */
function withValue(
  entry: ExportManifestEntry,
  key: string,
  rewrite: (value: Uint8Array) => number[],
  length: number,
): Uint8Array {
  const bytes = encodeManifestEntry(entry);
  const k = [0x60 + key.length, ...Array.from(key, (c) => c.charCodeAt(0))];
  const at = bytes.findIndex((_, i) => k.every((b, j) => bytes[i + j] === b)) + k.length;
  return new Uint8Array([
    ...bytes.subarray(0, at),
    ...rewrite(bytes.subarray(at, at + length)),
    ...bytes.subarray(at + length),
  ]);
}

test('an integer or a text in a longer head than it needs is refused as not canonical, by name', async (t) => {
  const e = entryWith({ size: 5, mediaType: 'x' });
  const variants: [string, Uint8Array][] = [
    ['size 5 in a one-byte head', withValue(e, 'size', () => [0x18, 5], 1)],
    ['size 5 in a two-byte head', withValue(e, 'size', () => [0x19, 0, 5], 1)],
    ['a one-letter text in a one-byte head', withValue(e, 'mediaType', () => [0x78, 1, 0x78], 2)],
  ];
  for (const [what, entry] of variants) {
    const manifest = encodeManifest(manifestOf([e]));
    const good = encodeManifestEntry(e);
    const at = manifest.byteLength - good.byteLength;
    const bytes = new Uint8Array([...manifest.subarray(0, at), ...entry]);
    const s = await ManifestStream.open(chunks(bytes, 64), 10);
    const err = await t.throwsAsync(s.next(), { instanceOf: StellaError }, what);
    t.is(
      err?.message,
      'manifest.cbor: entries[0]: not in the canonical encoding Stella writes',
      what,
    );
  }
});

test('a header refused inside the decoder keeps its own message: never "truncated", however the bytes arrive', async (t) => {
  const good = encodeManifest(manifestOf([entryWith({})]));
  const renamed = Buffer.from(good);
  const at = renamed.indexOf('format');
  renamed.write('formax', at);
  const notAMap = Uint8Array.from([0x85, ...good.subarray(1)]);
  for (const [bytes, message] of [
    [renamed, 'manifest.cbor: manifest: expected key format here, found "formax"'],
    [
      notAMap,
      'manifest.cbor: manifest: expected a map of exactly format, version, createdAt, trustedRoot, [consistency,] entries',
    ],
  ] as const)
    for (const step of [1, 7, 4096]) {
      const e = await t.throwsAsync(ManifestStream.open(chunks(bytes, step), 10), {
        instanceOf: StellaError,
      });
      t.is(e?.message, message, `${message} in chunks of ${step}`);
    }
});

test('a manifest cut anywhere is refused as truncated, naming the piece it was cut in, however the bytes arrive', async (t) => {
  const good = encodeManifest(manifestOf(ENTRIES.slice(0, 2)));
  const headerEnd =
    good.byteLength -
    ENTRIES.slice(0, 2).reduce((n, e) => n + encodeManifestEntry(e).byteLength, 0);
  for (let cut = 1; cut < good.byteLength; cut++)
    for (const step of [1, 7, 4096]) {
      const e = await t.throwsAsync(
        (async () => {
          const s = await ManifestStream.open(chunks(good.subarray(0, cut), step), 10);
          while (await s.next());
          await s.finish();
        })(),
        { instanceOf: StellaError },
      );
      // Cut just before a piece's last head, too: that head is missing, not read as 0.
      const piece =
        cut < headerEnd
          ? 'manifest header'
          : cut < headerEnd + encodeManifestEntry(ENTRIES[0]!).byteLength
            ? 'entries[0]'
            : 'entries[1]';
      t.is(
        e?.message,
        `manifest.cbor: truncated CBOR (${piece})`,
        `cut at ${cut}, chunks of ${step}`,
      );
    }
});

test('a manifest listing exactly the entries accepted is read, in memory and streamed; one more is refused by both', async (t) => {
  const manifest = manifestOf(ENTRIES.slice(0, 3));
  const bytes = encodeManifest(manifest);
  t.deepEqual(decodeManifest(bytes, 3).entries, manifest.entries);
  const s = await ManifestStream.open(chunks(bytes, 64), 3);
  t.is(s.count, 3);
  const said = 'manifest.cbor lists 3 bundles, more than the 2 accepted';
  t.like(
    t.throws(() => decodeManifest(bytes, 2)),
    { code: 'ARCHIVE_LIMIT_EXCEEDED', message: said },
  );
  t.like(await t.throwsAsync(ManifestStream.open(chunks(bytes, 64), 2)), {
    code: 'ARCHIVE_LIMIT_EXCEEDED',
    message: said,
  });
});
