import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { StellaError } from '../../src/errors.js';
import { derToPem, pemBlocks, pemToDer, pemToDerList } from '../../src/util/pem.js';
import { textsOf } from '../helpers/random-text.js';

const spki = new Uint8Array(
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({
    type: 'spki',
    format: 'der',
  }),
);
const keyPem = derToPem(spki, 'PUBLIC KEY');

test('a block round-trips through derToPem and both readers', (t) => {
  t.deepEqual(pemToDer(keyPem, ['PUBLIC KEY']), { label: 'PUBLIC KEY', der: spki });
  t.deepEqual(pemToDerList(`${keyPem}text between\n${keyPem}`, 'PUBLIC KEY'), [spki, spki]);
});

test('a block whose END names another label is refused by both readers, whichever label is wanted', (t) => {
  const mismatched = keyPem.replace('-----END PUBLIC KEY-----', '-----END CERTIFICATE-----');
  const one = t.throws(() => pemToDer(mismatched, ['PUBLIC KEY', 'CERTIFICATE']), {
    instanceOf: StellaError,
  });
  t.regex(one?.message ?? '', /is not a single PEM public key or certificate/);
  const list = t.throws(() => pemToDerList(mismatched, 'PUBLIC KEY', { what: 'key file' }), {
    instanceOf: StellaError,
  });
  t.is(list?.message, 'key file: BEGIN PUBLIC KEY closed by END CERTIFICATE');
  // The right label, in a list reader asked for another: named as found.
  const other = t.throws(() => pemToDerList(keyPem, 'CERTIFICATE', { what: 'chain' }), {
    instanceOf: StellaError,
  });
  t.is(other?.message, 'chain: expected CERTIFICATE, found PUBLIC KEY');
});

test('a private key where a public key is wanted is named as one, with how to get its public key; its body is never read', (t) => {
  for (const label of ['PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED SIGSTORE PRIVATE KEY']) {
    // A body that is not base64: refused for the label before the body is decoded.
    const text = `-----BEGIN ${label}-----\n*secret*\n-----END ${label}-----\n`;
    const e = t.throws(() => pemToDerList(text, 'PUBLIC KEY', { what: '--key' }), {
      instanceOf: StellaError,
    });
    t.is(
      e?.message,
      `--key: expected PUBLIC KEY, found ${label}: that is a private key; give its public key (\`cosign public-key --key KEY\`, or \`openssl pkey -in KEY -pubout\`)`,
    );
  }
  // Where a certificate is wanted the hint is not given (nothing to derive).
  const cert = t.throws(
    () =>
      pemToDerList('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', 'CERTIFICATE'),
    { instanceOf: StellaError },
  );
  t.is(cert?.message, 'PEM: expected CERTIFICATE, found PRIVATE KEY');
});

test('a block with nothing between BEGIN and END is refused as empty by both readers, not read as zero bytes', (t) => {
  const empty = '-----BEGIN PUBLIC KEY-----\n\n\n-----END PUBLIC KEY-----\n';
  for (const read of [
    () => pemToDer(empty, ['PUBLIC KEY']),
    () => pemToDerList(empty, 'PUBLIC KEY'),
    () => pemToDerList(`${keyPem}${empty}`, 'PUBLIC KEY'),
  ]) {
    const e = t.throws(read, { instanceOf: StellaError });
    t.is(e.code, 'CERTIFICATE_MALFORMED');
    t.is(e.message, 'PEM PUBLIC KEY: empty block');
  }
});

/** The pattern pemBlocks replaced, for the equivalence test. */
const REPLACED_BLOCK_RE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;

test('pemBlocks finds the blocks the replaced pattern found; a BEGIN with no END after it is reported, and nothing after it is read', (t) => {
  const pieces = [
    '-----BEGIN CERTIFICATE-----\n',
    '-----BEGIN PUBLIC KEY-----\r\n',
    '-----END CERTIFICATE-----',
    '-----END PUBLIC KEY-----',
    '-----END x-----',
    '-----BEGIN ',
    'MIIB',
    '\n',
    'subject=x',
  ];
  for (const text of textsOf(pieces, 5000, 10)) {
    const found = [...pemBlocks(text)];
    const replaced = [...text.matchAll(REPLACED_BLOCK_RE)].map((m) => ({
      begin: m[1],
      body: m[2],
      end: m[3],
    }));
    const terminated = found.filter((b) => b.end !== undefined);
    t.deepEqual(terminated, replaced, JSON.stringify(text));
    // An unterminated block can only be the last one found: nothing after it can close.
    t.true(
      found.slice(0, -1).every((b) => b.end !== undefined),
      JSON.stringify(text),
    );
  }
});

test('a PEM file cut short is refused, not read in part; a file of BEGIN lines alone is refused at once', (t) => {
  const cut = `${keyPem}${keyPem.slice(0, 40)}`;
  const e = t.throws(() => pemToDerList(cut, 'PUBLIC KEY', { what: 'key file' }), {
    instanceOf: StellaError,
  });
  t.is(e?.message, 'key file: BEGIN PUBLIC KEY has no END line (truncated?)');
  // 4 MiB of BEGIN lines (trust import's limit): the replaced pattern searched the rest of the
  // text again from each of them (~3 minutes).
  const begins = '-----BEGIN CERTIFICATE-----\n'.repeat((4 * 1024 * 1024) / 28);
  const many = t.throws(() => pemToDerList(begins, 'CERTIFICATE', { what: 'bundle.pem' }), {
    instanceOf: StellaError,
  });
  t.is(many?.message, 'bundle.pem: BEGIN CERTIFICATE has no END line (truncated?)');
});
