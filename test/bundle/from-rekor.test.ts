import test from 'ava';
import { BUNDLE_LIMITS } from '../../src/bundle/model.js';
import { StellaError } from '../../src/errors.js';
import { toBase64, utf8 } from '../../src/util/encoding.js';
import { sha256 } from '../../src/crypto.js';
import { parseBundle } from '../../src/bundle/parse.js';
import { serializeBundle } from '../../src/bundle/serialize.js';
import { bundleFromRekorResponse, tlogEntryFromRekor } from '../../src/bundle/from-rekor.js';
import { NOW, makeAuthority, signerKey } from '../sandbox/authority/helpers.js';

const authority = makeAuthority();
const signer = signerKey();
const data = utf8.encode('bundle me');
const signature = signer.key.sign(data);
const created = authority.rekor.createEntry(
  {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: Buffer.from(sha256(data)).toString('hex') } },
      signature: {
        content: toBase64(signature),
        publicKey: { content: toBase64(utf8.encode(signer.pem)) },
      },
    },
  },
  { now: NOW },
);

test('a v0.3 bundle from a Rekor answer round-trips through the strict parser', (t) => {
  const b = bundleFromRekorResponse({
    content: {
      kind: 'messageSignature',
      messageDigest: { algorithm: 'SHA2_256', digest: sha256(data) },
      signature,
    },
    signer: { publicKeyHint: 'hint' },
    rekorEntry: created.response,
  });
  t.is(b.version, '0.3');
  const e = b.verificationMaterial.tlogEntries[0]!;
  t.deepEqual(e.kindVersion, { kind: 'hashedrekord', version: '0.0.1' });
  t.deepEqual(e.logId, authority.rekor.logId);
  t.deepEqual(parseBundle(serializeBundle(b)), b);
});

test('an answer without proof, checkpoint or SET is refused: "Rekor proof missing"', (t) => {
  const e = Object.values(created.response)[0]!;
  const variants = [
    { ...e, verification: { ...e.verification, inclusionProof: undefined } },
    {
      ...e,
      verification: {
        ...e.verification,
        inclusionProof: { ...e.verification.inclusionProof, checkpoint: '' },
      },
    },
    { ...e, verification: { inclusionProof: e.verification.inclusionProof } },
  ];
  for (const v of variants) {
    const err = t.throws(() => tlogEntryFromRekor(v as never), { instanceOf: StellaError });
    t.is(err?.code, 'REKOR_PROOF_MISSING');
    t.regex(err.message, /^Rekor proof missing/);
  }
  const err = t.throws(() => tlogEntryFromRekor({ ...e, logID: 'nothex' }), {
    instanceOf: StellaError,
  });
  t.is(err?.code, 'REKOR_REJECTED');
  t.throws(() => tlogEntryFromRekor({ a: e, b: e }), { instanceOf: StellaError });
});

test("an answer whose one entry is not a JSON object is REKOR_REJECTED, not a TypeError (the library reads Rekor's answer as untrusted)", (t) => {
  for (const entry of [null, [], 5, 'entry', true]) {
    const err = t.throws(() => tlogEntryFromRekor({ ['ab'.repeat(32)]: entry } as never), {
      instanceOf: StellaError,
    });
    t.is(err.code, 'REKOR_REJECTED', `${JSON.stringify(entry)}: ${err.message}`);
    t.regex(err.message, /the entry in Rekor's answer is not a JSON object/);
  }
  for (const answer of [null, [], 'x'])
    t.is(
      t.throws(() => tlogEntryFromRekor(answer as never), { instanceOf: StellaError }).code,
      'REKOR_REJECTED',
    );
});

test("an inclusion proof's root hash and hashes must be 64 lowercase hex digits each, at most the proof limit of them", (t) => {
  const e = Object.values(created.response)[0]!;
  const proof = e.verification.inclusionProof;
  const withProof = (p: Record<string, unknown>) => ({
    ...e,
    verification: { ...e.verification, inclusionProof: { ...proof, ...p } },
  });
  for (const rootHash of [undefined, 5, 'zz'.repeat(32), 'AB'.repeat(32), 'ab'.repeat(31)]) {
    const err = t.throws(() => tlogEntryFromRekor(withProof({ rootHash }) as never), {
      instanceOf: StellaError,
    });
    t.is(err.code, 'REKOR_REJECTED', JSON.stringify(rootHash));
    t.regex(err.message, /inclusionProof\.rootHash is not 64 lowercase hex digits/);
  }
  const hash = 'ab'.repeat(32);
  for (const hashes of [undefined, 'ab', [5], ['zz'.repeat(32)], new Array(65).fill(hash)]) {
    const err = t.throws(() => tlogEntryFromRekor(withProof({ hashes }) as never), {
      instanceOf: StellaError,
    });
    t.is(err.code, 'REKOR_REJECTED', JSON.stringify(hashes)?.slice(0, 40));
    t.regex(err.message, /inclusionProof\.hashes is not a list of 64-hex-digit hashes/);
  }
  t.notThrows(() => tlogEntryFromRekor(withProof({}) as never));
  // The limit itself is taken (the proof is judged later, against its root).
  t.is(BUNDLE_LIMITS.maxProofHashes, 64);
  t.notThrows(() => tlogEntryFromRekor(withProof({ hashes: new Array(64).fill(hash) }) as never));
});
