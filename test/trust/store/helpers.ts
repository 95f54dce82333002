/**
 * Test helpers for the trust store and rotation tests: temporary stores, a full dump of a
 * store's state (to prove "exactly as it was"), a private Fulcio PKI made with @peculiar/x509
 * (independent of the project's own issuer), and rotation key pairs.
 */
import * as x509 from '@peculiar/x509';
import Database from 'better-sqlite3';
import { generateKeyPairSync, webcrypto, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CertificateAuthority, TrustMaterial } from '../../../src/model/trust-material.js';
import { serializeTrustedRoot } from '../../../src/trust/trusted-root.js';
import { parseCertificate } from '../../../src/x509/certificate.js';
import { derToPem } from '../../../src/util/pem.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export const DAY = 24 * 3600 * 1000;
/** Fixed clock for deterministic states. */
export const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
export const CTX = { now: NOW, command: 'stella test' };

export function tempDir(label = 'store'): string {
  return mkdtempSync(path.join(tmpdir(), `stella-${label}-`));
}

export function tempStorePath(label = 'store'): string {
  return path.join(tempDir(label), 'trust.db');
}

export function writeTemp(dir: string, name: string, data: string | Uint8Array): string {
  const p = path.join(dir, name);
  writeFileSync(p, data);
  return p;
}

/**
 * Every row of every table, the schema version and the seal: equal dumps mean equal
 * stores. Opened read-only with raw SQLite (no Stella code in the way).
 */
export function dumpStore(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = (
      db
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .all() as { name: string }[]
    ).map((r) => r.name);
    const out: Record<string, unknown> = {
      user_version: db.pragma('user_version', { simple: true }),
    };
    for (const t of tables) {
      out[t] = (
        db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all() as Record<string, unknown>[]
      ).map((r) =>
        Object.fromEntries(
          Object.entries(r).map(([k, v]) => [
            k,
            v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
          ]),
        ),
      );
    }
    return JSON.stringify(out);
  } finally {
    db.close();
  }
}

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface TestCa {
  der: Uint8Array;
  cert: x509.X509Certificate;
  keys: webcrypto.CryptoKeyPair;
  name: string;
}

async function ecKeys(): Promise<webcrypto.CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
}

/** A self-signed root CA (or an intermediate when `issuer` is given). */
export async function makeCa(
  commonName: string,
  notBefore: number,
  notAfter: number,
  issuer?: TestCa,
  /** The key the authority key identifier names (default: the issuer's). */
  authorityKey?: webcrypto.CryptoKey,
): Promise<TestCa> {
  const keys = await ecKeys();
  const name = `CN=${commonName}, O=stella.test`;
  const extensions = [
    new x509.BasicConstraintsExtension(true, issuer ? 0 : 1, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  const cert = issuer
    ? await x509.X509CertificateGenerator.create({
        serialNumber: '0a' + commonName.length.toString(16).padStart(2, '0'),
        subject: name,
        issuer: issuer.cert.subject,
        notBefore: new Date(notBefore),
        notAfter: new Date(notAfter),
        signingAlgorithm: EC,
        publicKey: keys.publicKey as never,
        signingKey: issuer.keys.privateKey as never,
        extensions: [
          ...extensions,
          await x509.AuthorityKeyIdentifierExtension.create(
            (authorityKey ?? issuer.keys.publicKey) as never,
          ),
        ],
      })
    : await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: '01',
        name,
        notBefore: new Date(notBefore),
        notAfter: new Date(notAfter),
        signingAlgorithm: EC,
        keys: keys as never,
        extensions,
      });
  return { der: new Uint8Array(cert.rawData), cert, keys, name };
}

/**
 * "Private Intermediate", issued and signed by `root` and naming it, but with an authority key
 * identifier that names another key (a fresh root's): the link the chain check refuses.
 */
export async function misnamedIntermediate(
  root: TestCa,
  notBefore: number,
  notAfter: number,
): Promise<TestCa> {
  const other = await makeCa('Other Root', notBefore, notAfter);
  return makeCa('Private Intermediate', notBefore, notAfter, root, other.keys.publicKey);
}

/** A self-signed end-entity certificate (no basicConstraints, EKU timeStamping): a root it is not. */
export async function makeSelfSignedLeaf(notBefore: number, notAfter: number): Promise<Uint8Array> {
  const keys = await ecKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '02',
    name: 'CN=Lone TSA, O=stella.test',
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    signingAlgorithm: EC,
    keys: keys as never,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.8'], true),
    ],
  });
  return new Uint8Array(cert.rawData);
}

/** A Fulcio-style code-signing leaf issued by `issuer`, valid [notBefore, notAfter]. */
export async function makeLeaf(
  issuer: TestCa,
  notBefore: number,
  notAfter: number,
  serial = '1001',
): Promise<Uint8Array> {
  const keys = await ecKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: 'CN=leaf',
    issuer: issuer.cert.subject,
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    signingAlgorithm: EC,
    publicKey: keys.publicKey as never,
    signingKey: issuer.keys.privateKey as never,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.3'], false),
      new x509.SubjectAlternativeNameExtension(
        [{ type: 'url', value: 'https://ci.stella.test/workflows/release@refs/heads/main' }],
        true,
      ),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey as never),
    ],
  });
  return new Uint8Array(cert.rawData);
}

export function pemOf(...ders: Uint8Array[]): string {
  return ders.map((d) => derToPem(d)).join('');
}

/** A CertificateAuthority for a chain (issuing first, root last) and window. */
export function caEntry(
  chain: Uint8Array[],
  start: number,
  end?: number,
  uri = 'https://fulcio.stella.test',
): CertificateAuthority {
  const root = parseCertificate(chain[chain.length - 1]!);
  return { subject: root.subject, uri, certChain: chain, validFor: { start, end } };
}

export function trustedRootOf(
  cas: CertificateAuthority[],
  extra: Partial<TrustMaterial> = {},
): string {
  return serializeTrustedRoot({
    mediaType: '',
    certificateAuthorities: cas,
    tlogs: [],
    ctlogs: [],
    timestampAuthorities: [],
    ...extra,
  });
}

export interface RotationKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicPem: string;
  privatePem: string;
}

export function rotationKeyPair(type: 'ec' | 'ed25519' = 'ec'): RotationKeyPair {
  const { privateKey, publicKey } =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('ed25519');
  return {
    privateKey,
    publicKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
