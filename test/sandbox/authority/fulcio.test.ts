import test from 'ava';
import {
  X509Certificate,
  generateKeyPairSync,
  sign,
  type KeyPairKeyObjectResult,
} from 'node:crypto';
import { StellaError } from '../../../src/errors.js';
import { defaultDigestForKey } from '../../../src/crypto.js';
import { utf8, toBase64 } from '../../../src/util/encoding.js';
import { parseCertificate } from '../../../src/x509/certificate.js';
import { OID } from '../../../src/x509/oids.js';
import { parseSctList, verifyEmbeddedScts } from '../../../src/x509/sct.js';
import { LEAF_LIFETIME_MS } from '../../../src/sandbox/authority/fulcio.js';
import type { MintTokenOptions } from '../../../src/sandbox/authority/oidc.js';
import { NOW, makeAuthority, signerKey } from './helpers.js';
import { pemToDerList } from '../../../src/util/pem.js';

const authority = makeAuthority();
const signer = signerKey();

function issue(token: MintTokenOptions, popOver?: string) {
  const jwt = authority.oidc.mintToken(token);
  const claims = authority.oidc.verifyToken(jwt, { audience: 'sigstore', now: token.now });
  return authority.fulcio.issueSigningCertificate({
    claims,
    issuerUrl: authority.oidc.issuerUrl,
    subjectPublicKeySpki: signer.key.spki,
    proofOfPossession: signer.key.sign(utf8.encode(popOver ?? claims.sub)),
    now: token.now,
  });
}

const F = (n: number): string => `1.3.6.1.4.1.57264.1.${n}`;

test('GitHub leaf: parses with node:crypto, chains to the root, 10 minutes, Fulcio shape', (t) => {
  const { chain } = issue({ platform: 'github', repo: 'org/repo', now: NOW });
  const [leaf, inter, root] = chain.map((d) => new X509Certificate(Buffer.from(d)));
  t.true(leaf!.verify(inter!.publicKey));
  t.true(inter!.verify(root!.publicKey));
  t.true(root!.verify(root!.publicKey));
  t.true(leaf!.checkIssued(inter!));
  t.falsy(leaf!.subject);
  t.deepEqual([...parseCertificate(chain[0]).subjectDer], [0x30, 0x00]);
  t.is(
    leaf!.subjectAltName,
    'URI:https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main',
  );
  t.is(new Date(leaf!.validTo).getTime() - new Date(leaf!.validFrom).getTime(), LEAF_LIFETIME_MS);
  t.true(inter!.ca);
  t.false(leaf!.ca);

  const c = parseCertificate(chain[0]);
  const ext = (oid: string) => c.extensions.find((e) => e.oid === oid);
  t.true(ext(OID.subjectAltName)!.critical);
  t.true(ext(OID.keyUsage)!.critical);
  t.deepEqual([...c.keyUsage!], ['digitalSignature']);
  t.deepEqual(c.extKeyUsage, [OID.ekuCodeSigning]);
  t.truthy(c.subjectKeyId);
  t.deepEqual(c.authorityKeyId, parseCertificate(chain[1]).subjectKeyId);
  t.false(c.hasCtPoison);
  t.is(c.unhandledCriticalExtensions.length, 0);

  const v = c.fulcio.values;
  t.is(c.fulcio.issuerV1, 'https://oidc.test.invalid');
  t.is(c.fulcio.issuerV2, 'https://oidc.test.invalid');
  t.is(v.get(F(9)), 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main');
  t.is(v.get(F(11)), 'github-hosted');
  t.is(v.get(F(12)), 'https://github.com/org/repo');
  t.is(v.get(F(14)), 'refs/heads/main');
  t.is(v.get(F(16)), 'https://github.com/org');
  t.is(v.get(F(20)), 'push');
  t.regex(v.get(F(21))!, /^https:\/\/github\.com\/org\/repo\/actions\/runs\/\d+\/attempts\/1$/);
  t.is(v.get(F(24)), 'repo:org/repo:ref:refs/heads/main');
  // .8 is a DER UTF8String, .1 the raw bytes.
  t.is(ext(F(8))!.value[0], 0x0c);
  t.deepEqual(Buffer.from(ext(F(1))!.value).toString(), 'https://oidc.test.invalid');
});

test('the embedded SCT verifies against the authority CT log', (t) => {
  const { chain, sctTimestamp } = issue({ platform: 'github', repo: 'org/repo', now: NOW });
  const leaf = parseCertificate(chain[0]);
  const scts = parseSctList(leaf.embeddedSctList!);
  t.is(scts.length, 1);
  t.is(scts[0]!.timestamp, sctTimestamp);
  const verified = verifyEmbeddedScts(
    leaf,
    parseCertificate(chain[1]),
    authority.trustMaterial().ctlogs,
  );
  t.is(verified[0]!.baseUrl, 'https://ctfe.test.invalid');
  // Another CT log's key does not verify it.
  const other = makeAuthority('another authority');
  t.throws(
    () => verifyEmbeddedScts(leaf, parseCertificate(chain[1]), other.trustMaterial().ctlogs),
    { instanceOf: StellaError },
  );
});

test('the precertificate carries the CT poison and the same TBS otherwise', (t) => {
  const jwt = authority.oidc.mintToken({ platform: 'github', repo: 'org/repo', now: NOW });
  const claims = authority.oidc.verifyToken(jwt, { audience: 'sigstore', now: NOW });
  const input = {
    claims,
    issuerUrl: authority.oidc.issuerUrl,
    subjectPublicKeySpki: signer.key.spki,
    proofOfPossession: signer.key.sign(utf8.encode(claims.sub)),
    now: NOW,
  };
  const pre = parseCertificate(authority.fulcio.precertificate(input));
  const leaf = parseCertificate(authority.fulcio.issueSigningCertificate(input).chain[0]);
  t.true(pre.hasCtPoison);
  t.is(pre.embeddedSctList, undefined);
  t.is(pre.serialNumber, leaf.serialNumber);
  t.deepEqual(
    pre.extensions.filter((e) => e.oid !== OID.ctPoison).map((e) => e.oid),
    leaf.extensions.filter((e) => e.oid !== OID.ctSctList).map((e) => e.oid),
  );
});

test('GitLab and Gitea leaves: SAN per platform', (t) => {
  const gl = parseCertificate(
    issue({ platform: 'gitlab', repo: 'group/project', environment: 'prod', now: NOW }).chain[0],
  );
  t.deepEqual(gl.subjectAltName!.uris, [
    'https://gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main',
  ]);
  t.is(gl.fulcio.values.get(F(12)), 'https://gitlab.com/group/project');
  t.is(gl.fulcio.values.get(F(14)), 'refs/heads/main');
  t.is(gl.fulcio.values.get(F(23)), 'prod', '.23 (Deployment Environment) is a DER UTF8String');
  t.is(gl.fulcio.values.get(F(24)), 'project_path:group/project:ref_type:branch:ref:main');
  t.false(gl.fulcio.values.has(F(2)), 'GitHub-only legacy extensions are not issued for GitLab');

  const gt = parseCertificate(
    issue({ platform: 'gitea', repo: 'org/repo', now: NOW, serverUrl: 'https://git.example.org' })
      .chain[0],
  );
  t.deepEqual(gt.subjectAltName!.uris, [
    'https://git.example.org/org/repo/.gitea/workflows/release.yml@refs/heads/main',
  ]);
  t.is(gt.fulcio.values.get(F(24)), 'org/repo:ref:refs/heads/main');
});

test('issuance is deterministic', (t) => {
  const a = issue({ platform: 'github', repo: 'org/repo', now: NOW });
  const b = issue({ platform: 'github', repo: 'org/repo', now: NOW });
  t.deepEqual(a.chain, b.chain);
});

test('proof of possession over the wrong value, or by another key, is refused', (t) => {
  const err = t.throws(
    () =>
      issue(
        { platform: 'github', repo: 'org/repo', now: NOW },
        'repo:other/repo:ref:refs/heads/main',
      ),
    { instanceOf: StellaError },
  );
  t.is(err?.code, 'FULCIO_REJECTED');
  t.regex(err.message, /proof of possession/);

  const jwt = authority.oidc.mintToken({ platform: 'github', repo: 'org/repo', now: NOW });
  const claims = authority.oidc.verifyToken(jwt, { audience: 'sigstore', now: NOW });
  const other = signerKey('someone else');
  const err2 = t.throws(
    () =>
      authority.fulcio.issueSigningCertificate({
        claims,
        issuerUrl: authority.oidc.issuerUrl,
        subjectPublicKeySpki: signer.key.spki,
        proofOfPossession: other.key.sign(utf8.encode(claims.sub)),
        now: NOW,
      }),
    { instanceOf: StellaError },
  );
  t.is(err2?.code, 'FULCIO_REJECTED');
});

test('a certificate is issued only when the CA covers its whole lifetime: from creation to the last 10 minutes', (t) => {
  const jwt = authority.oidc.mintToken({ platform: 'github', repo: 'org/repo', now: NOW });
  const claims = authority.oidc.verifyToken(jwt, { audience: 'sigstore', now: NOW });
  const issueAt = (now: number) =>
    authority.fulcio.issueSigningCertificate({
      claims,
      issuerUrl: authority.oidc.issuerUrl,
      subjectPublicKeySpki: signer.key.spki,
      proofOfPossession: signer.key.sign(utf8.encode(claims.sub)),
      now,
    });
  const last = authority.fulcio.notAfter - LEAF_LIFETIME_MS;
  for (const now of [authority.fulcio.createdAt, last]) {
    const leaf = parseCertificate(issueAt(now).chain[0]);
    t.is(leaf.notBefore, Math.floor(now / 1000) * 1000);
  }
  // Before the CA exists, past the point where a leaf would outlive it, or no time at all
  // (NaN compares false both ways, so it must be refused on its own).
  for (const now of [authority.fulcio.createdAt - 1, last + 1, Number.NaN, 1.5 + NOW]) {
    const e = t.throws(() => issueAt(now), { instanceOf: StellaError }, String(now));
    t.is(e?.code, 'FULCIO_REJECTED');
    t.is(
      e?.message,
      'Fulcio: the CA is not valid for the whole lifetime of a certificate issued now',
    );
  }
});

test('createSigningCertificate: the Fulcio v2 request/response JSON', (t) => {
  const jwt = authority.oidc.mintToken({ platform: 'github', repo: 'org/repo', now: NOW });
  const request = {
    credentials: { oidcIdentityToken: jwt },
    publicKeyRequest: {
      publicKey: { algorithm: 'ECDSA', content: signer.pem },
      proofOfPossession: toBase64(
        signer.key.sign(utf8.encode('repo:org/repo:ref:refs/heads/main')),
      ),
    },
  };
  const res = authority.fulcio.createSigningCertificate(request, {
    now: NOW,
    oidcIssuers: [authority.oidc.trusted()],
  });
  const pems = res.signedCertificateEmbeddedSct.chain.certificates;
  t.is(pems.length, 3);
  t.deepEqual(pemToDerList(pems[2]!)[0], authority.fulcio.rootCertificate);

  const code = (fn: () => unknown) => t.throws(fn, { instanceOf: StellaError })?.code;
  t.is(
    code(() =>
      authority.fulcio.createSigningCertificate(request, {
        now: NOW + 3_600_000,
        oidcIssuers: [authority.oidc.trusted()],
      }),
    ),
    'OIDC_TOKEN_EXPIRED',
  );
  t.is(
    code(() =>
      authority.fulcio.createSigningCertificate(
        { ...request, credentials: {} },
        { now: NOW, oidcIssuers: [authority.oidc.trusted()] },
      ),
    ),
    'OIDC_TOKEN_MISSING',
  );
  t.is(
    code(() => authority.fulcio.createSigningCertificate(request, { now: NOW, oidcIssuers: [] })),
    'OIDC_TOKEN_INVALID',
  );
  const badPop = {
    ...request,
    publicKeyRequest: { ...request.publicKeyRequest, proofOfPossession: 'not base64!' },
  };
  t.is(
    code(() =>
      authority.fulcio.createSigningCertificate(badPop, {
        now: NOW,
        oidcIssuers: [authority.oidc.trusted()],
      }),
    ),
    'FULCIO_REJECTED',
  );
  // The key and its proof are each required, named, before the token is looked at.
  const { publicKey, proofOfPossession } = request.publicKeyRequest;
  for (const [publicKeyRequest, field] of [
    [{ proofOfPossession }, 'publicKey.content'],
    [{ publicKey: { algorithm: 'ECDSA', content: '' }, proofOfPossession }, 'publicKey.content'],
    [{ publicKey: { algorithm: 'ECDSA', content: 7 }, proofOfPossession }, 'publicKey.content'],
    [{ publicKey }, 'proofOfPossession'],
    [{ publicKey, proofOfPossession: '' }, 'proofOfPossession'],
  ] as const) {
    const e = t.throws(
      () =>
        authority.fulcio.createSigningCertificate(
          { ...request, publicKeyRequest },
          { now: NOW, oidcIssuers: [authority.oidc.trusted()] },
        ),
      { instanceOf: StellaError },
    );
    t.is(e.code, 'FULCIO_REJECTED', JSON.stringify(publicKeyRequest));
    t.is(e.message, `Fulcio: publicKeyRequest.${field} is required`);
  }
  const csr = t.throws(
    () =>
      authority.fulcio.createSigningCertificate(
        { credentials: request.credentials, certificateSigningRequest: 'LS0t' },
        { now: NOW, oidcIssuers: [authority.oidc.trusted()] },
      ),
    { instanceOf: StellaError },
  );
  t.is(csr.code, 'FULCIO_REJECTED');
  t.regex(csr.message, /certificate signing requests are not supported; send publicKeyRequest/);
  for (const notObject of ['{}', 42, null, [request]]) {
    const e = t.throws(
      () =>
        authority.fulcio.createSigningCertificate(notObject, {
          now: NOW,
          oidcIssuers: [authority.oidc.trusted()],
        }),
      { instanceOf: StellaError },
    );
    t.is(e.code, 'FULCIO_REJECTED', JSON.stringify(notObject));
    t.regex(e.message, /request body must be a JSON object/);
  }
  const foreign = makeAuthority('another authority').oidc;
  const foreignJwt = foreign.mintToken({ platform: 'github', repo: 'org/repo', now: NOW });
  t.is(
    code(() =>
      authority.fulcio.createSigningCertificate(
        { ...request, credentials: { oidcIdentityToken: foreignJwt } },
        { now: NOW, oidcIssuers: [authority.oidc.trusted()] },
      ),
    ),
    'OIDC_TOKEN_INVALID',
  );
});

test('trustBundle and configuration documents', (t) => {
  const tb = authority.fulcio.trustBundle();
  t.is(tb.chains.length, 1);
  t.deepEqual(
    tb.chains[0]!.certificates.map((p) => pemToDerList(p)[0]),
    [authority.fulcio.intermediateCertificate, authority.fulcio.rootCertificate],
  );
  t.deepEqual(authority.fulcio.configuration(), {
    issuers: [
      { issuerUrl: 'https://oidc.test.invalid', audience: 'sigstore', challengeClaim: 'sub' },
    ],
  });
});

test("an OIDC issuer Fulcio is not configured for is refused; the wildcard '*' admits any http(s) issuer URL, and only a URL", (t) => {
  t.is(
    authority.fulcio.issuerConfig('https://oidc.test.invalid/').issuerUrl,
    'https://oidc.test.invalid',
  );
  for (const issuer of ['https://other.example', 'https://oidc.test.invalid.evil'])
    t.throws(() => authority.fulcio.issuerConfig(issuer), {
      instanceOf: StellaError,
      code: 'FULCIO_REJECTED',
      message: `Fulcio: OIDC issuer "${issuer}" is not configured`,
    });
  const wildcard = makeAuthority('wildcard issuers', [{ issuerUrl: '*' }]);
  t.is(wildcard.fulcio.issuerConfig('https://other.example/').issuerUrl, 'https://other.example');
  for (const issuer of ['other.example', 'ftp://other.example', 'https://other example'])
    t.throws(() => wildcard.fulcio.issuerConfig(issuer), { code: 'FULCIO_REJECTED' });
});

test('key types: ECDSA P-256 and P-384, Ed25519 and RSA of 2048 bits or more get certificates; other curves and short RSA keys do not', (t) => {
  const sub = 'repo:org/repo:ref:refs/heads/main';
  const request = (key: KeyPairKeyObjectResult) => ({
    credentials: {
      oidcIdentityToken: authority.oidc.mintToken({
        platform: 'github',
        repo: 'org/repo',
        now: NOW,
      }),
    },
    publicKeyRequest: {
      publicKey: { content: key.publicKey.export({ type: 'spki', format: 'pem' }) as string },
      // Signed as each key type signs by default: Ed25519 plain, P-384 with SHA-384.
      proofOfPossession: toBase64(
        sign(defaultDigestForKey(key.publicKey), utf8.encode(sub), key.privateKey),
      ),
    },
  });
  const issue = (key: KeyPairKeyObjectResult) =>
    authority.fulcio.createSigningCertificate(request(key), {
      now: NOW,
      oidcIssuers: [authority.oidc.trusted()],
    });
  for (const key of [
    generateKeyPairSync('ec', { namedCurve: 'prime256v1' }),
    generateKeyPairSync('ec', { namedCurve: 'secp384r1' }),
    generateKeyPairSync('ed25519'),
    generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ])
    t.is(issue(key).signedCertificateEmbeddedSct.chain.certificates.length, 3);
  for (const [key, why] of [
    [
      generateKeyPairSync('ec', { namedCurve: 'secp521r1' }),
      'Fulcio: unsupported EC curve secp521r1',
    ],
    [
      generateKeyPairSync('rsa', { modulusLength: 1024 }),
      'Fulcio: unsupported public key type rsa',
    ],
  ] as const) {
    const e = t.throws(() => issue(key), { instanceOf: StellaError }) as StellaError;
    t.is(e.code, 'FULCIO_REJECTED');
    t.is(e.message, why);
  }
});
