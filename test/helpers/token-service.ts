/**
 * A token service for the registry's `auth.token` mode (the WWW-Authenticate Bearer flow):
 * `GET /token?service=…&scope=repository:NAME:ACTIONS` with Basic credentials answers a JWT
 * (ES256, x5c header) granting the requested actions; the registry trusts the self-signed
 * certificate through its `rootcertbundle`. Wrong or missing credentials: 401.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSign, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

export interface TokenService {
  realm: string;
  service: string;
  issuer: string;
  rootCertPem: string;
  /** Requests seen: the Authorization header's presence and the scope asked for. */
  requests: { authorized: boolean; scope: string | null }[];
  /**
   * The fields the answer carries the token in (default both, as the distribution registry's
   * token server writes it). Settable: an OAuth2-style service gives only `access_token`.
   */
  fields: ('token' | 'access_token')[];
  /** Settable: when set, every request is answered with this status and no token. */
  status: number | undefined;
  close(): Promise<void>;
}

const b64url = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');

export async function startTokenService(username: string, password: string): Promise<TokenService> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=stella-test-token-signer',
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 86400_000),
    keys,
    signingAlgorithm: alg,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64')}\n-----END PRIVATE KEY-----\n`;
  const service = 'stella-test-registry';
  const issuer = 'stella-test-token-issuer';
  const requests: TokenService['requests'] = [];
  // The service as returned (its `fields` set by tests), made once it listens: before that
  // no request can come.
  let self: TokenService | undefined;
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://token');
    const scope = url.searchParams.get('scope');
    requests.push({ authorized: req.headers.authorization !== undefined, scope });
    if (self!.status !== undefined) {
      res
        .writeHead(self!.status, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ details: 'not now' }));
      return;
    }
    if (req.headers.authorization !== expected) {
      res
        .writeHead(401, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ details: 'bad credentials' }));
      return;
    }
    const access = [];
    const m = scope ? /^repository:([^:]+):([a-z,]+)$/.exec(scope) : null;
    if (m) access.push({ type: 'repository', name: m[1], actions: m[2]!.split(',') });
    const now = Math.floor(Date.now() / 1000);
    const header = {
      alg: 'ES256',
      typ: 'JWT',
      x5c: [Buffer.from(cert.rawData).toString('base64')],
    };
    const claims = {
      iss: issuer,
      sub: username,
      aud: url.searchParams.get('service') ?? service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: String(Math.random()),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('SHA256').update(input).sign({ key: keyPem, dsaEncoding: 'ieee-p1363' });
    const token = `${input}.${b64url(sig)}`;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(
      JSON.stringify({
        ...Object.fromEntries(self!.fields.map((f) => [f, token])),
        expires_in: 300,
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  self = {
    realm,
    service,
    issuer,
    rootCertPem: cert.toString('pem'),
    requests,
    fields: ['token', 'access_token'],
    status: undefined,
    close: () => new Promise((r) => server.close(() => r())),
  };
  return self;
}
