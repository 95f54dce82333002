/**
 * The one reader of a private key file (export-bundle --seal-key, trust rotation create
 * --sign-with). It reads what `openssl` writes and what cosign writes:
 *
 *   - PEM PKCS#8 (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`, after any `EC PARAMETERS` block, as
 *     `openssl ecparam -genkey` writes it) or PKCS#1 (`RSA PRIVATE KEY`), unencrypted;
 *   - cosign's encrypted key (`cosign generate-key-pair`: `ENCRYPTED SIGSTORE PRIVATE KEY`, or
 *     `ENCRYPTED COSIGN PRIVATE KEY` from older releases), decrypted with $COSIGN_PASSWORD as
 *     cosign decrypts it (pkg/cosign/keys.go LoadPrivateKey; go-securesystemslib's
 *     `encrypted` package): a JSON envelope, scrypt with one of the three parameter sets that
 *     package writes, NaCl secretbox (XSalsa20-Poly1305), a PKCS#8 key inside.
 *
 * Node's `createPrivateKey` reads the DER, never the PEM text: the PEM is read by the one
 * strict decoder (util/pem.ts), so a file with junk in a body or a block cut short is refused
 * here as everywhere else.
 */
import { createPrivateKey, scryptSync, type KeyObject } from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { fail } from '../errors.js';
import { utf8 } from '../util/encoding.js';
import { FILE_LIMITS, readTextFileBounded } from '../util/fs.js';
import {
  parseJsonStrict,
  readBase64,
  readObject,
  readString,
  readUint,
  type JsonReadContext,
} from '../util/json.js';
import { pemFileBlocks } from '../util/pem.js';
import { quoted, PATH_CHARS_SHOWN } from '../util/text.js';

/**
 * What a wrong password may have that its owner did not mean: cosign takes every byte, and so
 * does Stella, so `echo "$PW" |` gives the password and a line break.
 */
function passwordHint({ value, hint }: KeyPassword): string {
  if (hint !== undefined) return ` (${hint})`;
  if (value === '') return ' (it is empty)';
  if (/[\r\n]$/.test(value))
    return " (it ends in a line break, which counts: echo adds one, printf '%s' does not)";
  return '';
}

/** The environment variable cosign reads a key's password from (and Stella, for cosign's keys). */
export const COSIGN_PASSWORD_ENV = 'COSIGN_PASSWORD';

const PLAIN_LABELS = {
  'PRIVATE KEY': 'pkcs8',
  'EC PRIVATE KEY': 'sec1',
  'RSA PRIVATE KEY': 'pkcs1',
} as const;
const COSIGN_LABELS = ['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'] as const;
/** Labels a person may give by mistake, each refused saying what it is. */
const MISTAKEN_LABELS = {
  'PUBLIC KEY': 'a public key, not a private key',
  CERTIFICATE: 'a certificate, not a private key',
  'ENCRYPTED PRIVATE KEY':
    'an encrypted PKCS#8 key (openssl -aes256); Stella reads an unencrypted PEM key or a cosign key ($COSIGN_PASSWORD): write it unencrypted (openssl pkcs8 -in KEY -out KEY.pem, mode 0600)',
} as const;
const LABELS = [
  ...Object.keys(PLAIN_LABELS),
  ...COSIGN_LABELS,
  ...Object.keys(MISTAKEN_LABELS),
  'EC PARAMETERS',
] as const;

/**
 * go-securesystemslib's `encrypted` package accepts exactly these scrypt parameters (legacy,
 * standard, OWASP); anything else is refused before any memory is spent on it.
 */
const SCRYPT_PARAMS = [
  { N: 32768, r: 8, p: 1 },
  { N: 65536, r: 8, p: 1 },
  { N: 131072, r: 8, p: 1 },
] as const;
/** scrypt needs 128 * N * r bytes: 128 MiB for the largest set; Node's default cap is 32 MiB. */
const SCRYPT_MAXMEM = 256 * 1024 * 1024;
const SECRETBOX_KEY_BYTES = 32;
const SECRETBOX_NONCE_BYTES = 24;

/** A cosign key's password, and where it came from, which the refusal of a wrong one names. */
export interface KeyPassword {
  value: string;
  /** `$COSIGN_PASSWORD`, `the password typed`, `the password on standard input`. */
  from: string;
  /** Said after the refusal of a wrong one, in place of what its value alone suggests. */
  hint?: string;
}

export interface PrivateKeyFileOptions {
  /** The flag, for messages (`--seal-key`). */
  what: string;
  /** Refuse a file others can read or write, or another user's (util/fs.ts `secret`). */
  secret?: boolean;
  /**
   * A cosign key's password, asked only for one (the command's: $COSIGN_PASSWORD, else the
   * terminal, else standard input; commands/private-key-ref.ts); undefined when none was given.
   */
  password: () => string | KeyPassword | undefined;
}

/** A private key file, as the module comment says. */
export function readPrivateKeyFile(path: string, opts: PrivateKeyFileOptions): KeyObject {
  const text = readTextFileBounded(path, {
    what: opts.what,
    maxBytes: FILE_LIMITS.keyBytes,
    ...(opts.secret ? { secret: true } : {}),
  });
  return parsePrivateKeyPem(text, `${opts.what} ${quoted(path, PATH_CHARS_SHOWN)}`, opts.password);
}

/**
 * The one private key in `text` (`named` says what it is, for messages). `password` is asked
 * only for a cosign key; undefined means none was given ($COSIGN_PASSWORD unset, no terminal
 * to ask on). An empty password is a password, as cosign takes it.
 */
export function parsePrivateKeyPem(
  text: string,
  named: string,
  password: () => string | KeyPassword | undefined,
): KeyObject {
  const refuse = (why: string, cause?: unknown): never =>
    fail('INPUT_INVALID', 'input', `${named}: ${why}`, undefined, { cause });
  const blocks = pemFileBlocks(text, LABELS, {
    code: 'INPUT_INVALID',
    what: named,
  }).filter((b) => b.label !== 'EC PARAMETERS');
  if (blocks.length === 0) refuse('not a PEM private key (no PEM block found)');
  if (blocks.length > 1)
    refuse(`${blocks.length} keys (${blocks.map((b) => b.label).join(', ')}); give one per file`);
  const { label, der } = blocks[0]!;
  if (label in MISTAKEN_LABELS) refuse(MISTAKEN_LABELS[label as keyof typeof MISTAKEN_LABELS]);
  if (!(COSIGN_LABELS as readonly string[]).includes(label)) {
    const type = PLAIN_LABELS[label as keyof typeof PLAIN_LABELS];
    try {
      return createPrivateKey({ key: Buffer.from(der), format: 'der', type });
    } catch (e) {
      return refuse(
        `not a readable ${label} (${type === 'pkcs8' ? 'PKCS#8' : type.toUpperCase()})`,
        e,
      );
    }
  }
  const asked = password();
  if (asked === undefined)
    return refuse(
      `a cosign encrypted private key: set $${COSIGN_PASSWORD_ENV} to its password, or run on a terminal to be asked (as cosign sign --key does)`,
    );
  const given = typeof asked === 'string' ? { value: asked, from: 'the password given' } : asked;
  const plain = decryptCosignKey(der, given, refuse);
  const view = Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
  try {
    return createPrivateKey({ key: view, format: 'der', type: 'pkcs8' });
  } catch (e) {
    // cosign refuses the same (its LoadPrivateKey parses PKCS#8 only).
    return refuse('decrypted, but the key inside is not PKCS#8', e);
  } finally {
    plain.fill(0);
  }
}

/**
 * go-securesystemslib `encrypted.Decrypt`: the envelope is JSON
 * `{"kdf":{"name":"scrypt","params":{"N","r","p"},"salt"},"cipher":{"name":"nacl/secretbox","nonce"},"ciphertext"}`
 * with base64 byte fields; the secretbox key is scrypt(password, salt, N, r, p, 32).
 */
function decryptCosignKey(
  envelope: Uint8Array,
  password: KeyPassword,
  refuse: (why: string, cause?: unknown) => never,
): Uint8Array {
  const ctx: JsonReadContext = {
    code: 'INPUT_INVALID',
    check: 'input',
    prefix: 'cosign key envelope: ',
  };
  const doc = readObject(
    parseJsonStrict(envelope, {
      maxDepth: 4,
      maxBytes: FILE_LIMITS.keyBytes,
      what: 'cosign key envelope',
      code: 'INPUT_INVALID',
      limitCode: 'INPUT_INVALID',
      check: 'input',
    }),
    'key',
    ctx,
    { required: ['kdf', 'cipher', 'ciphertext'] },
  );
  const kdf = readObject(doc.kdf, 'kdf', ctx, { required: ['name', 'params', 'salt'] });
  const cipher = readObject(doc.cipher, 'cipher', ctx, { required: ['name', 'nonce'] });
  if (readString(kdf.name, 'kdf.name', ctx) !== 'scrypt')
    refuse(`cosign key envelope: unknown kdf ${quoted(String(kdf.name), 40)} (expected scrypt)`);
  if (readString(cipher.name, 'cipher.name', ctx) !== 'nacl/secretbox')
    refuse(
      `cosign key envelope: unknown cipher ${quoted(String(cipher.name), 40)} (expected nacl/secretbox)`,
    );
  const params = readObject(kdf.params, 'kdf.params', ctx, { required: ['N', 'r', 'p'] });
  const [N, r, p] = [
    readUint(params.N, 'kdf.params.N', ctx),
    readUint(params.r, 'kdf.params.r', ctx),
    readUint(params.p, 'kdf.params.p', ctx),
  ];
  if (!SCRYPT_PARAMS.some((s) => s.N === N && s.r === r && s.p === p))
    refuse(
      `cosign key envelope: unsupported scrypt parameters N=${N} r=${r} p=${p} (cosign writes N=32768, 65536 or 131072 with r=8 p=1)`,
    );
  const salt = readBase64(kdf.salt, 'kdf.salt', ctx);
  const nonce = readBase64(cipher.nonce, 'cipher.nonce', ctx);
  if (nonce.length !== SECRETBOX_NONCE_BYTES)
    refuse(
      `cosign key envelope: cipher.nonce is ${nonce.length} bytes, not ${SECRETBOX_NONCE_BYTES}`,
    );
  const ciphertext = readBase64(doc.ciphertext, 'ciphertext', ctx);
  const key = scryptSync(utf8.encode(password.value), salt, SECRETBOX_KEY_BYTES, {
    N,
    r,
    p,
    maxmem: SCRYPT_MAXMEM,
  });
  try {
    return xsalsa20poly1305(new Uint8Array(key), nonce).decrypt(ciphertext);
  } catch (e) {
    return refuse(
      `cannot decrypt this cosign key: ${password.from} is not its password, or the file is damaged${passwordHint(password)}`,
      e,
    );
  } finally {
    key.fill(0);
  }
}
