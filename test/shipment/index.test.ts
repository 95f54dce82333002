/**
 * `stella/shipment` with `stella/archive` and `stella/sign` as a library caller uses them, with
 * no command in between: a cosign key read with its password, a shipment built and sealed with
 * it, written to a file, then verified from that file with the seal required. The entry points
 * resolving by package name is test/index.test.ts's.
 */
import test from 'ava';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildExportArchive, fileSource, readExportArchive } from '../../src/archive/index.js';
import { readPrivateKeyFile } from '../../src/sign/index.js';
import { keySeal, verifyShipment, type ExporterTrust } from '../../src/shipment/index.js';
import { readTarStrict, writeTar } from '../../src/archive/tar.js';
import { EXPORT_TAR_LIMITS } from '../../src/archive/export.js';
import { keyIdOf } from '../../src/crypto.js';

import { StellaError } from '../../src/errors.js';

import { PROJECT_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';
import {
  testAuthority,
  ORG_REPO_POLICY,
  signedExportInputs,
} from '../helpers/authority-bundles.js';

const T0 = Date.UTC(2025, 5, 1);
const COSIGN_KEY = path.join(PROJECT_ROOT, 'test/fixtures/sign/cosign-keys/cosign-ec-p256.key');

test('library: a shipment sealed with a cosign key (readPrivateKeyFile + keySeal + buildExportArchive) verifies from its file (fileSource + verifyShipment) with the seal required; an entry swapped breaks the seal', async (t) => {
  const a = testAuthority('shipment-library');
  const bundles = signedExportInputs(a, 3, { label: 'library artifact', now: T0 });
  const key = readPrivateKeyFile(COSIGN_KEY, { what: 'the seal key', password: () => 'hello' });
  const sealer = keySeal(key);
  t.is(sealer.keyId, keyIdOf(createPublicKey(key)), 'named as the trust store names it');
  const { archive } = await buildExportArchive({ bundles, seal: sealer.seal });
  const dir = tempDir(t, 'stella-shipment-library-');
  const file = path.join(dir, 'shipment.tar');
  writeFileSync(file, archive);
  t.truthy(readExportArchive(archive).seal, 'the archive carries manifest.sigstore.json');

  const exporters: ExporterTrust = {
    keys: [{ keyId: sealer.keyId, key: createPublicKey(key) }],
    identities: [],
  };
  const verify = (f: string) =>
    verifyShipment({
      source: fileSource(f),
      trust: a.trustMaterial(),
      policy: ORG_REPO_POLICY,
      exporters,
      jobs: 1,
    });
  const summary = await verify(file);
  t.deepEqual(summary.seal, { status: 'verified', by: `exporter key ${sealer.keyId}` });
  t.is(summary.passed, 3);
  t.is(summary.failed, 0);

  // Two bundles swapped in place: each still matches an entry, not its own.
  const files = readTarStrict(readFileSync(file), EXPORT_TAR_LIMITS);
  const names = [...files.keys()];
  const [x, y] = names.filter((n) => n.startsWith('bundles/'));
  const swapped = path.join(dir, 'swapped.tar');
  writeFileSync(
    swapped,
    await writeTar(
      names.map((n) => ({
        name: n,
        data: files.get(n === x ? y! : n === y ? x! : n)!,
      })),
    ),
  );
  const e = await t.throwsAsync(verify(swapped), { instanceOf: StellaError });
  t.is(e.code, 'SEALED_ARCHIVE_MISMATCH');
});

test('library: keySeal refuses a public key and a key that is not ECDSA, naming it as told', (t) => {
  const key = readPrivateKeyFile(COSIGN_KEY, { what: 'k', password: () => 'hello' });
  t.is(
    t.throws(() => keySeal(createPublicKey(key), 'my key'), { instanceOf: StellaError })!.message,
    'my key: a private key is required to seal',
  );
  const { privateKey } = generateKeyPairSync('ed25519');
  t.is(
    t.throws(() => keySeal(privateKey), { instanceOf: StellaError })!.message,
    'the seal key: an ECDSA key (P-256, P-384 or P-521) is required',
  );
});
