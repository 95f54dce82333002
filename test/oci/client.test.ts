/**
 * The registry client's descriptor reader (OCI image spec, descriptor): every field a
 * registry sends is checked before it is used. The client's requests are tested against
 * loopback registries in registry.test.ts and auth.test.ts.
 */
import test from 'ava';
import { StellaError } from '../../src/errors.js';
import { MEDIA_TYPES, RegistryClient, digestOf, parseDescriptor } from '../../src/oci/client.js';
import { parseImageReference } from '../../src/oci/reference.js';
import { startFakeRegistry } from '../helpers/oci.js';

const GOOD = {
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${'ab'.repeat(32)}`,
  size: 527,
};

function refused(t: import('ava').ExecutionContext, v: unknown, message: RegExp, what: string) {
  const e = t.throws(() => parseDescriptor(v, 'layers[0]'), { instanceOf: StellaError }, what);
  t.is(e?.code, 'REGISTRY_RESPONSE_INVALID', what);
  t.regex(e?.message ?? '', message, what);
}

test('a descriptor with the three required fields is read as given', (t) => {
  t.deepEqual(parseDescriptor(GOOD, 'layers[0]'), GOOD);
  const long = { ...GOOD, mediaType: `application/${'x'.repeat(243)}` };
  t.is(long.mediaType.length, 255);
  t.deepEqual(parseDescriptor(long, 'layers[0]'), long, 'a media type of 255 characters');
  const sha512 = { ...GOOD, digest: `sha512:${'0'.repeat(128)}`, size: 0 };
  t.deepEqual(parseDescriptor(sha512, 'layers[0]'), sha512);
});

test('a media type that is missing, not a string, empty or longer than 255: refused, naming the descriptor', (t) => {
  const none: Record<string, unknown> = { ...GOOD };
  delete none.mediaType;
  for (const [label, v] of [
    ['missing', none],
    ['a number', { ...GOOD, mediaType: 7 }],
    ['empty', { ...GOOD, mediaType: '' }],
    ['256 characters', { ...GOOD, mediaType: `application/${'x'.repeat(244)}` }],
  ] as const)
    refused(t, v, /^layers\[0\] has no valid mediaType$/, label);
});

test('a digest or size that is not valid, or no object at all: refused', (t) => {
  for (const digest of [`sha384:${'0'.repeat(96)}`, `sha256:${'AB'.repeat(32)}`, 'sha256:', 3])
    refused(t, { ...GOOD, digest }, /has no valid digest/, String(digest));
  for (const size of [-1, 1.5, '527', 2 ** 53])
    refused(t, { ...GOOD, size }, /has no valid size/, String(size));
  for (const v of [null, [], 'x']) refused(t, v, /is not a descriptor object/, String(v));
});

test('artifactType and annotations when present: a string of at most 255, an object of strings', (t) => {
  t.deepEqual(
    parseDescriptor({ ...GOOD, artifactType: 'application/x', annotations: { a: 'b' } }, 'm'),
    { ...GOOD, artifactType: 'application/x', annotations: { a: 'b' } },
  );
  refused(t, { ...GOOD, artifactType: 'x'.repeat(256) }, /has an invalid artifactType/, 'long');
  refused(t, { ...GOOD, artifactType: 1 }, /has an invalid artifactType/, 'number');
  refused(t, { ...GOOD, annotations: { a: 1 } }, /annotation "a" is not a string/, 'value');
  refused(t, { ...GOOD, annotations: ['a'] }, /annotations must be an object of strings/, 'array');
});

test('a manifest push the registry says it stored under another digest is refused, naming both; its own digest is taken', async (t) => {
  let answer = '';
  const fake = await startFakeRegistry((req, res, url, body) => {
    if (req.method !== 'PUT' || url.pathname !== '/v2/org/app/manifests/v1') return false;
    res.writeHead(201, { 'Docker-Content-Digest': answer || digestOf(body) }).end();
    return true;
  });
  t.teardown(() => fake.close());
  const client = new RegistryClient(
    parseImageReference(`${fake.host}/org/app@sha256:${'a'.repeat(64)}`),
    {
      allowInsecure: true,
      retries: 0,
    },
  );
  const bytes = new TextEncoder().encode('{"schemaVersion":2}');
  const push = () => client.putManifest('v1', bytes, MEDIA_TYPES.ociManifest, 'the manifest');
  t.is((await push()).digest, digestOf(bytes));
  answer = `sha256:${'0'.repeat(64)}`;
  const e = await t.throwsAsync(push(), { instanceOf: StellaError });
  t.is(e.code, 'REGISTRY_RESPONSE_INVALID');
  t.regex(e.message, new RegExp(`stored it as "${answer}", its bytes hash to ${digestOf(bytes)}`));
});
