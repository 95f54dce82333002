/**
 * src/archive/gzip.ts's writer: gzipChunks makes one member that the bounded reader, zlib and
 * gzip(1) read back to the input, with a header that names no platform (Node's own gzip writes
 * the OS it runs on), so the bytes depend only on the input.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { defaultGunzipLimits, gunzipBounded, gzipChunks } from '../../src/archive/gzip.js';

async function gzipped(chunks: Uint8Array[]): Promise<Buffer> {
  const out: Uint8Array[] = [];
  async function* source() {
    yield* chunks;
  }
  await gzipChunks(source(), (c) => out.push(Uint8Array.from(c)));
  return Buffer.concat(out);
}

async function gunzipped(bytes: Uint8Array): Promise<Buffer> {
  async function* source() {
    // A few bytes at a time: the reader must not depend on where the writer's chunks fell.
    for (let i = 0; i < bytes.length; i += 777) yield bytes.subarray(i, i + 777);
  }
  const out: Uint8Array[] = [];
  for await (const c of gunzipBounded(source(), defaultGunzipLimits(64 * 1024 * 1024)))
    out.push(Uint8Array.from(c));
  return Buffer.concat(out);
}

const cases: [string, Uint8Array[]][] = [
  ['nothing', []],
  ['an empty chunk', [new Uint8Array(0)]],
  ['one byte', [Uint8Array.of(7)]],
  ['random chunks, one empty', [randomBytes(100_000), new Uint8Array(0), randomBytes(3)]],
  ['tar-like zeros', [new Uint8Array(300_000), Buffer.from('{"a":1}'), new Uint8Array(1_000)]],
];

for (const [name, chunks] of cases)
  test(`gzipChunks: ${name} round-trips through the bounded reader and zlib, with the fixed header`, async (t) => {
    const input = Buffer.concat(chunks);
    const gz = await gzipped(chunks);
    t.deepEqual([...gz.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff]);
    t.true(gunzipSync(gz).equals(input));
    t.true((await gunzipped(gz)).equals(input));
    // The trailer: CRC-32 and the length, little-endian.
    t.is(gz.readUInt32LE(gz.length - 4), input.length);
    t.true((await gzipped(chunks)).equals(gz), 'the same bytes again');
  });

test('gzipChunks: how the input is cut into chunks does not change the output', async (t) => {
  const input = randomBytes(200_000);
  const whole = await gzipped([input]);
  const cut = await gzipped([
    input.subarray(0, 1),
    input.subarray(1, 70_001),
    input.subarray(70_001),
  ]);
  t.true(cut.equals(whole));
});

test('gzipChunks: an error from the source is the error, nothing is swallowed', async (t) => {
  async function* failing() {
    yield Uint8Array.of(1, 2, 3);
    throw new Error('source broke');
  }
  await t.throwsAsync(
    gzipChunks(failing(), () => undefined),
    { message: 'source broke' },
  );
});

test('gzipChunks: 40 drawn inputs cut at drawn places (empty pieces included) all give the bytes of the whole, and read back', async (t) => {
  // A fixed linear congruential sequence: the same draws every run.
  let state = 0x5eed;
  const next = (n: number) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % n;
  };
  for (let round = 0; round < 40; round++) {
    const input = new Uint8Array(next(70_000));
    // Runs of one byte among noise: compressible in places, as a tar of JSON is.
    for (let i = 0; i < input.length; i++) input[i] = next(4) === 0 ? next(256) : 0x20;
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < input.length;) {
      const len = next(5) === 0 ? 0 : 1 + next(20_000);
      pieces.push(input.subarray(at, at + len));
      at += len;
    }
    const gz = await gzipped(pieces);
    t.true(gz.equals(await gzipped([input])), `round ${round}: cut-independent`);
    t.true(gunzipSync(gz).equals(input), `round ${round}: zlib reads it`);
    t.true((await gunzipped(gz)).equals(input), `round ${round}: the bounded reader reads it`);
  }
});
