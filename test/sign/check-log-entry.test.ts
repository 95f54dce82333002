/**
 * checkLogEntry: the signer refuses a Rekor answer that does not prove its own signature. Real
 * entries come from the in-memory sandbox Rekor log; each case changes one thing.
 */
import test from 'ava';
import { StellaError } from '../../src/errors.js';
import { sha256 } from '../../src/crypto.js';
import { toBase64, toHex, utf8 } from '../../src/util/encoding.js';
import type { BundleContent } from '../../src/bundle/model.js';
import { tlogEntryFromRekor } from '../../src/bundle/from-rekor.js';
import { parseCertificate } from '../../src/x509/certificate.js';
import type { RekorEntryResult, RekorLogEntry } from '../../src/sign/rekor-client.js';
import { checkLogEntry } from '../../src/sign/sign.js';
import { NOW, makeAuthority, signerKey } from '../sandbox/authority/helpers.js';
import { derToPem } from '../../src/util/pem.js';
import { leafHash } from '../../src/tlog/merkle.js';

const authority = makeAuthority('check log entry');
const signer = signerKey();

function leafFor(repo: string) {
  const claims = authority.oidc.verifyToken(
    authority.oidc.mintToken({ platform: 'github', repo, now: NOW }),
    { audience: 'sigstore', now: NOW },
  );
  const { chain } = authority.fulcio.issueSigningCertificate({
    claims,
    issuerUrl: authority.oidc.issuerUrl,
    subjectPublicKeySpki: signer.key.spki,
    proofOfPossession: signer.key.sign(utf8.encode(claims.sub)),
    now: NOW,
  });
  return parseCertificate(chain[0]);
}

const leaf = leafFor('org/repo');
const otherLeaf = leafFor('org/other');

function logged(data: Uint8Array): { content: BundleContent; result: RekorEntryResult } {
  const signature = signer.key.sign(data);
  const created = authority.rekor.createEntry(
    {
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: toHex(sha256(data)) } },
        signature: {
          content: toBase64(signature),
          publicKey: { content: toBase64(utf8.encode(derToPem(leaf.der))) },
        },
      },
    },
    { now: NOW },
  );
  const [uuid, entry] = Object.entries(created.response)[0]!;
  return {
    content: {
      kind: 'messageSignature',
      messageDigest: { algorithm: 'SHA2_256', digest: sha256(data) },
      signature,
    },
    result: { uuid, entry: entry },
  };
}

const ours = logged(utf8.encode('ours'));
const theirs = logged(utf8.encode('theirs'));
// Re-read ours against the current (two-leaf) tree so its proof has a hash to tamper with.
const oursNow: RekorEntryResult = {
  uuid: ours.result.uuid,
  entry: Object.values(authority.rekor.entryByIndex(0)!)[0] as RekorLogEntry,
};

function refused(
  t: import('ava').ExecutionContext,
  result: RekorEntryResult,
  content: BundleContent,
  why: RegExp,
  cert = leaf,
): void {
  const err = t.throws(() => checkLogEntry(result, content, cert), { instanceOf: StellaError });
  t.is(err?.code, 'REKOR_PROOF_MISSING', err?.message);
  t.regex(err.message, /^Rekor proof missing: /);
  t.regex(err.message, why);
}

function withProof(
  r: RekorEntryResult,
  change: (p: NonNullable<NonNullable<RekorLogEntry['verification']>['inclusionProof']>) => object,
): RekorEntryResult {
  const v = r.entry.verification!;
  return {
    uuid: r.uuid,
    entry: {
      ...r.entry,
      verification: {
        ...v,
        inclusionProof: { ...v.inclusionProof!, ...change(v.inclusionProof!) },
      },
    },
  };
}

test('an entry that proves our signature becomes the bundle tlog entry', (t) => {
  t.is(oursNow.entry.verification!.inclusionProof!.hashes.length, 1);
  t.deepEqual(checkLogEntry(oursNow, ours.content, leaf), tlogEntryFromRekor(oursNow.entry));
  t.deepEqual(
    checkLogEntry(theirs.result, theirs.content, leaf),
    tlogEntryFromRekor(theirs.result.entry),
  );
});

test('an entry for another signature, artifact or certificate is refused', (t) => {
  refused(t, theirs.result, ours.content, /not our signature: .*signature does not match/);
  refused(
    t,
    oursNow,
    {
      ...ours.content,
      messageDigest:
        theirs.content.kind === 'messageSignature' ? theirs.content.messageDigest : undefined,
    } as BundleContent,
    /not our signature/,
  );
  refused(t, oursNow, ours.content, /not our signature: .*certificate does not match/, otherLeaf);
});

test('an entry of another kind than proposed is refused', (t) => {
  const dsse: BundleContent = {
    kind: 'dsseEnvelope',
    payload: utf8.encode('{}'),
    payloadType: 'application/vnd.in-toto+json',
    signatures: [{ sig: new Uint8Array([1]), keyid: '' }],
  };
  refused(t, oursNow, dsse, /expected a dsse entry, got "hashedrekord"/);
});

test('a body that is not base64 canonical JSON is refused', (t) => {
  refused(
    t,
    { uuid: oursNow.uuid, entry: { ...oursNow.entry, body: '!!' } },
    ours.content,
    /base64/,
  );
  const padded = toBase64(
    utf8.encode(` ${Buffer.from(oursNow.entry.body, 'base64').toString('utf8')}`),
  );
  refused(
    t,
    { uuid: oursNow.uuid, entry: { ...oursNow.entry, body: padded } },
    ours.content,
    /canonical/,
  );
});

test('a proof that does not reach its root, or a checkpoint for another tree, is refused', (t) => {
  refused(
    t,
    withProof(oursNow, (p) => ({ hashes: [toHex(new Uint8Array(32))], rootHash: p.rootHash })),
    ours.content,
    /inclusion proof does not verify/,
  );
  refused(
    t,
    withProof(oursNow, () => ({ treeSize: 3 })),
    ours.content,
    /inclusion proof does not verify/,
  );
  // Proof from the one-leaf tree, checkpoint of the two-leaf tree: each is fine on its own.
  refused(
    t,
    withProof(ours.result, () => ({
      checkpoint: oursNow.entry.verification!.inclusionProof!.checkpoint,
    })),
    ours.content,
    /checkpoint does not commit/,
  );
  refused(
    t,
    withProof(oursNow, () => ({ checkpoint: 'not a signed note' })),
    ours.content,
    /checkpoint: /,
  );
});

test("the entry's UUID must be its body's leaf hash, with or without a tree ID", (t) => {
  const leafHex = toHex(leafHash(Buffer.from(oursNow.entry.body, 'base64')));
  t.is(oursNow.uuid.slice(-64), leafHex);
  // Rekor's sharded form: 16 hex digits of tree ID, then the leaf hash.
  t.notThrows(() =>
    checkLogEntry({ ...oursNow, uuid: `24296fb24b8ad77a${leafHex}` }, ours.content, leaf),
  );
  for (const uuid of [
    theirs.result.uuid,
    `24296fb24b8ad77a${theirs.result.uuid.slice(-64)}`,
    leafHex.toUpperCase(),
    `${leafHex}/../x`,
    `0${leafHex}`,
    '',
  ])
    refused(
      t,
      { ...oursNow, uuid },
      ours.content,
      /entry UUID .* is not the leaf hash of its body/,
    );
});
