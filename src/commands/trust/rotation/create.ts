import { Flags } from '@oclif/core';
import { StellaCommand } from '../../base.js';
import { formatTime, parseTimeFlag } from '../../../util/time.js';
import { writeStdout } from '../../render.js';

export default class TrustRotationCreate extends StellaCommand {
  static override summary = 'Make a signed rotation bundle for air-gapped hosts';
  static override description = [
    'Signs the new trusted root, its version and an expiry with each --sign-with key and writes a',
    'plain tar (payload.json, root.json, signatures.json). To replace the rotation keys too, give',
    '--new-rotation-keys and --new-threshold, and sign with enough old AND new keys.',
  ].join(' ');
  static override examples = [
    '<%= config.bin %> trust rotation create --root new-trusted_root.json --version 2 --expires 2026-12-31T00:00:00Z --sign-with k1.pem --sign-with k2.pem --output rotation.tar',
  ];
  static override flags = {
    root: Flags.string({ description: 'the new trusted_root.json', required: true }),
    version: Flags.integer({
      description: 'rotation version: exactly one more than the last applied on the hosts',
      required: true,
      min: 1,
    }),
    expires: Flags.string({
      description: 'expiry (RFC 3339, in the future); hosts refuse the rotation after it',
      required: true,
    }),
    'sign-with': Flags.string({
      description:
        'private key to sign with (a file or env://VAR; PEM, or a cosign.key with $COSIGN_PASSWORD; repeatable)',
      required: true,
      multiple: true,
    }),
    'new-rotation-keys': Flags.string({
      description: 'PEM public keys that replace the rotation keys',
    }),
    'new-threshold': Flags.integer({ description: 'threshold for the new rotation keys', min: 1 }),
    output: Flags.string({ char: 'o', description: 'output tar file', required: true }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TrustRotationCreate);
    const t = await import('../../../trust/store/index.js');
    const r = await import('../../../trust/rotation/index.js');
    const {
      checkWritableTarget,
      FILE_LIMITS,
      readFileBounded,
      readTextFileBounded,
      writeFileAtomic,
    } = await import('../../../util/fs.js');
    const { TRUSTED_ROOT_LIMITS } = await import('../../../trust/trusted-root.js');
    if ((flags['new-rotation-keys'] === undefined) !== (flags['new-threshold'] === undefined)) {
      this.usage('--new-rotation-keys and --new-threshold go together');
    }
    checkWritableTarget(flags.output, {
      what: 'rotation bundle (--output)',
      inputs: [
        { what: '--root', path: flags.root },
        ...flags['sign-with'].map((path) => ({ what: '--sign-with', path })),
        { what: '--new-rotation-keys', path: flags['new-rotation-keys'] },
      ],
    });
    const root = {
      bytes: readFileBounded(flags.root, {
        what: '--root',
        maxBytes: TRUSTED_ROOT_LIMITS.maxBytes,
        limitCode: 'TRUSTED_ROOT_INVALID',
      }),
    };
    const { readPrivateKeyRef } = await import('../../private-key-ref.js');
    const signWith = flags['sign-with'].map((p) => readPrivateKeyRef(p, '--sign-with'));
    const newKeys = flags['new-rotation-keys']
      ? {
          keys: t.parsePublicKeysPem(
            readTextFileBounded(flags['new-rotation-keys'], {
              what: '--new-rotation-keys',
              maxBytes: FILE_LIMITS.keyBytes,
            }),
            flags['new-rotation-keys'],
          ),
          threshold: flags['new-threshold']!,
        }
      : undefined;
    const out = await r.createRotation({
      rootBytes: root.bytes,
      version: flags.version,
      expires: parseTimeFlag(flags.expires, '--expires', 'end'),
      signWith,
      newRotationKeys: newKeys,
    });
    writeFileAtomic(flags.output, out.tar, { what: 'rotation bundle' });
    const summary = {
      output: flags.output,
      version: out.payload.version,
      expires: formatTime(out.payload.expires),
      rootSha256: out.payload.root.sha256,
      signatures: signWith.length,
      rotatesKeys: newKeys !== undefined,
    };
    if (this.jsonMode) {
      this.printJson({ ok: true, ...summary });
      return;
    }
    writeStdout(
      `wrote ${flags.output}: rotation version ${summary.version}, expires ${summary.expires}, ${summary.signatures} signature(s), root sha256 ${summary.rootSha256}\n`,
    );
  }
}
