/**
 * Watches for JWK exports of keys that key generation made. On Node 20 such an export can
 * hang the process for ever (src/crypto.ts, publicSpkiDer), so Stella must never make one; a
 * hang is rare (one in tens of thousands of exports), so tests check the cause instead: while
 * `run` runs, every key generateKeyPairSync returns, and every key createPublicKey derives from
 * one (it shares the generated key's lock), is marked, and each JWK export of a marked key is
 * recorded with its caller. node:crypto's ES module bindings are updated too, so src/ modules
 * that imported these functions by name call the wrappers. Everything is restored after.
 */
import crypto, { KeyObject } from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';

export async function jwkExportsOfGeneratedKeys(run: () => unknown): Promise<string[]> {
  const generated = new WeakSet<KeyObject>();
  const exports: string[] = [];
  const mark = (k: unknown): void => {
    if (k instanceof KeyObject) generated.add(k);
  };
  const generate = crypto.generateKeyPairSync;
  const derive = crypto.createPublicKey;
  // PublicKeyObject and PrivateKeyObject each define their own export().
  const sample = generate('ed25519');
  const prototypes = [sample.publicKey, sample.privateKey].map(
    (k) => Object.getPrototypeOf(k) as { export: KeyObject['export'] },
  );
  const exportKeys = prototypes.map((p) => p.export);
  prototypes.forEach((p, i) => {
    const exportKey = exportKeys[i]!;
    p.export = function (this: KeyObject, options?: { format?: string }) {
      if (options?.format === 'jwk' && generated.has(this))
        exports.push(
          `${this.type} ${this.asymmetricKeyType} key: ${new Error().stack?.split('\n')[2]?.trim()}`,
        );
      return (exportKey as (o?: unknown) => unknown).call(this, options);
    } as KeyObject['export'];
  });
  crypto.generateKeyPairSync = function (this: unknown, ...args: unknown[]) {
    const pair = (
      generate as (...a: unknown[]) => { publicKey: unknown; privateKey: unknown }
    ).apply(this, args);
    mark(pair.publicKey);
    mark(pair.privateKey);
    return pair;
  } as typeof crypto.generateKeyPairSync;
  crypto.createPublicKey = function (this: unknown, key: Parameters<typeof derive>[0]) {
    const k = derive.call(this, key);
    if (key instanceof KeyObject && generated.has(key)) generated.add(k);
    return k;
  };
  syncBuiltinESMExports();
  try {
    await run();
  } finally {
    crypto.generateKeyPairSync = generate;
    crypto.createPublicKey = derive;
    prototypes.forEach((p, i) => (p.export = exportKeys[i]!));
    syncBuiltinESMExports();
  }
  return exports;
}
