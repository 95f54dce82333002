/**
 * Rotation rules and the export round trip through the real CLI: review items 5 (rotations
 * touch only what rotations added; versions advance by one; no expired rotation is made)
 * and 11 (what export writes imports back and verifies).
 */
import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EXIT_CODES } from '../../../src/errors.js';
import { runCli } from '../../helpers/cli.js';
import { SAMPLES_TRUSTED_ROOT, verifyBlobArgs } from '../../helpers/samples.js';
import {
  caEntry,
  DAY,
  makeCa,
  pemOf,
  rotationKeyPair,
  tempDir,
  trustedRootOf,
} from '../../trust/store/helpers.js';

function env(store: string) {
  return { env: { STELLA_TRUST_STORE: store } };
}

function json(stdout: string): Record<string, any> {
  return JSON.parse(stdout) as Record<string, any>;
}

/** A store whose rotations one key may sign, and a function that makes signed rotations. */
function rotationSetup(label: string) {
  const dir = tempDir(label);
  const store = path.join(dir, 'trust.db');
  const k = rotationKeyPair();
  writeFileSync(path.join(dir, 'keys.pem'), k.publicPem);
  writeFileSync(path.join(dir, 'k.pem'), k.privatePem);
  const expires = new Date(Date.now() + 30 * DAY).toISOString();
  const create = async (root: string, version: number, opts: { expires?: string } = {}) => {
    const rootFile = path.join(dir, `root-v${version}.json`);
    writeFileSync(rootFile, root);
    const tar = path.join(dir, `rotation-v${version}.tar`);
    const r = await runCli([
      'trust',
      'rotation',
      'create',
      '--root',
      rootFile,
      '--version',
      String(version),
      '--expires',
      opts.expires ?? expires,
      '--sign-with',
      path.join(dir, 'k.pem'),
      '--output',
      tar,
    ]);
    return { tar, r };
  };
  return {
    dir,
    store,
    create,
    init: () =>
      runCli(
        ['trust', 'init', '--rotation-keys', path.join(dir, 'keys.pem'), '--threshold', '1'],
        env(store),
      ),
  };
}

test('H53: a rotation that lists a hand-imported entry is refused (exit 103) until the operator adopts it; versions advance by exactly one', async (t) => {
  const now = Date.now();
  const { dir, store, create, init } = rotationSetup('cli-conflict');
  t.is((await init()).code, 0);
  const a = await makeCa('Hand Root', now - 365 * DAY, now + 3650 * DAY);
  const b = await makeCa('Rotated Root', now - DAY, now + 3650 * DAY);
  writeFileSync(path.join(dir, 'a.pem'), pemOf(a.der));
  const handEnd = new Date(now + 365 * DAY).toISOString();
  const imp = await runCli(
    [
      'trust',
      'import',
      path.join(dir, 'a.pem'),
      '--uri',
      'https://fulcio.hand.test',
      '--valid-from',
      '2024-01-01T00:00:00Z',
      '--valid-until',
      handEnd,
      '--json',
    ],
    env(store),
  );
  t.is(imp.code, 0, imp.stderr);
  const id = json(imp.stdout).added[0].id as number;

  // The root lists A open-ended: it would widen the operator's window.
  const v1 = await create(
    trustedRootOf([caEntry([a.der], Date.UTC(2024, 0, 1)), caEntry([b.der], now - DAY)]),
    1,
  );
  t.is(v1.r.code, 0, v1.r.stderr);
  const refused = await runCli(['trust', 'rotate', v1.tar], env(store));
  t.is(refused.code, EXIT_CODES.ROTATION_CONFLICT);
  t.regex(
    refused.stderr,
    new RegExp(
      `^error: rotation: rotation version 1 lists an entry imported by hand: #${id} ca O=stella\\.test, CN=Hand Root \\(imported by hand from .*a\\.pem\\); rotations manage only the entries rotations added, so it was not applied \\(to hand it to rotations, with the window the rotation gives: --adopt ${id}\\)\\n$`,
    ),
  );
  const listed = json((await runCli(['trust', 'list', '--json'], env(store))).stdout);
  t.is(listed.entries.length, 1);
  t.is(listed.entries[0].validUntil, new Date(handEnd).toISOString());

  const dry = await runCli(
    ['trust', 'rotate', v1.tar, '--dry-run', '--adopt', String(id)],
    env(store),
  );
  t.is(dry.code, 0, dry.stderr);
  t.regex(
    dry.stdout,
    new RegExp(
      `\\^ #${id} ca .*Hand Root adopted from hand import: 2024-01-01T00:00:00.000Z\\.\\.${new Date(handEnd).toISOString().replace(/\./g, '\\.')} -> 2024-01-01T00:00:00.000Z\\.\\.open`,
    ),
  );
  const bad = await runCli(['trust', 'rotate', v1.tar, '--adopt', '99'], env(store));
  t.is(bad.code, EXIT_CODES.INPUT_INVALID);
  const ok = await runCli(['trust', 'rotate', v1.tar, '--adopt', String(id), '--json'], env(store));
  t.is(ok.code, 0, ok.stderr);
  t.deepEqual(
    json(ok.stdout)
      .changes.map((c: { action: string }) => c.action)
      .sort(),
    ['add', 'adopt'],
  );
  const hist = json((await runCli(['trust', 'history', '--json'], env(store))).stdout);
  t.true(
    hist.history.some(
      (h: { action: string; entryId: number }) => h.action === 'rotate-adopt' && h.entryId === id,
    ),
  );

  // Version 3 before 2: refused, naming the version to apply first.
  const v3 = await create(trustedRootOf([caEntry([b.der], now - DAY)]), 3);
  const gap = await runCli(['trust', 'rotate', v3.tar], env(store));
  t.is(gap.code, EXIT_CODES.ROTATION_VERSION_GAP);
  t.regex(
    gap.stderr,
    /rotation version 3 is not the next version \(the last applied is 1: apply version 2 first\)/,
  );
  const v2 = await create(trustedRootOf([caEntry([b.der], now - DAY)]), 2);
  t.is((await runCli(['trust', 'rotate', v2.tar], env(store))).code, 0);
  t.is((await runCli(['trust', 'rotate', v3.tar], env(store))).code, 0);
});

test('H53: trust rotation create refuses an expiry that is not in the future (exit 60) and writes nothing', async (t) => {
  const { create } = rotationSetup('cli-expired');
  const a = await makeCa('Expired Root', Date.now() - 365 * DAY, Date.now() + 365 * DAY);
  const { tar, r } = await create(trustedRootOf([caEntry([a.der], Date.now() - DAY)]), 1, {
    expires: '2020-01-01T00:00:00Z',
  });
  t.is(r.code, EXIT_CODES.ROTATION_EXPIRED);
  t.regex(
    r.stderr,
    /^error: rotation: --expires 2020-01-01T00:00:00.000Z is not in the future: every host would refuse this rotation as expired\n$/,
  );
  t.false(existsSync(tar));
});

test('item 11: after retire and a rotation that moves the start past it, export imports back, exports the same bytes, and verifies', async (t) => {
  const now = Date.now();
  const { dir, store, create, init } = rotationSetup('cli-export');
  t.is((await init()).code, 0);
  // The samples' trust (imported by hand) so that a real bundle verifies against the export.
  t.is((await runCli(['trust', 'import', SAMPLES_TRUSTED_ROOT], env(store))).code, 0);
  const a = await makeCa('Moved Root', now - 2 * 365 * DAY, now + 3650 * DAY);
  const v1 = await create(trustedRootOf([caEntry([a.der], now - 365 * DAY)]), 1);
  t.is((await runCli(['trust', 'rotate', v1.tar], env(store))).code, 0);
  const entries = json((await runCli(['trust', 'list', '--json'], env(store))).stdout).entries as {
    id: number;
    subject: string;
  }[];
  const id = entries.find((e) => e.subject.includes('Moved Root'))!.id;
  t.is(
    (
      await runCli(
        ['trust', 'retire', String(id), '--at', new Date(now - 100 * DAY).toISOString()],
        env(store),
      )
    ).code,
    0,
  );
  // The new root starts A after the operator retired it: A trusts nothing now.
  const v2 = await create(trustedRootOf([caEntry([a.der], now - 10 * DAY)]), 2);
  t.is((await runCli(['trust', 'rotate', v2.tar], env(store))).code, 0);
  const list = await runCli(['trust', 'list'], env(store));
  t.regex(list.stdout, /Moved Root \(never valid: ends before it starts\)/);

  const out = path.join(dir, 'exported.json');
  const exp = await runCli(['trust', 'export', '--output', out], env(store));
  t.is(exp.code, 0, exp.stderr);
  const fresh = path.join(dir, 'fresh.db');
  t.is((await runCli(['trust', 'init'], env(fresh))).code, 0);
  const imp = await runCli(['trust', 'import', out], env(fresh));
  t.is(imp.code, 0, imp.stderr);
  const again = await runCli(['trust', 'export', '--output', '-'], env(fresh));
  t.is(again.stdout, readFileSync(out, 'utf8'), 'export -> import -> export gives the same bytes');
  for (const trust of [
    ['--trusted-root', out],
    ['--store', store],
    ['--store', fresh],
  ]) {
    const v = await runCli(verifyBlobArgs(...trust));
    t.is(v.code, 0, `${trust.join(' ')}: ${v.stderr}`);
  }
});
