/**
 * A bounded memo of signature-verification results, used for links between CA certificates
 * only (intermediate signed by root, TSA chains): every bundle under one trust root repeats
 * them. Per-bundle checks (leaf, SCT, SET, checkpoint, timestamp token, artifact signature)
 * are never memoized, so benchmarks that repeat bundles still measure real work. Keys are
 * identified by object identity (trust material and parsed CA certificates are long-lived),
 * data by its SHA-256, the signature by its bytes; a hit means the very same check was done.
 */
import type { KeyObject } from 'node:crypto';
import { sha256 } from '../crypto.js';
import { toHex } from '../util/encoding.js';

const MAX_ENTRIES = 4096;
const results = new Map<string, boolean>();
const keyIds = new WeakMap<KeyObject, number>();
let nextKeyId = 1;

function keyId(key: KeyObject): number {
  let id = keyIds.get(key);
  if (id === undefined) {
    id = nextKeyId++;
    keyIds.set(key, id);
  }
  return id;
}

/** Run `verify` once per distinct (key, algorithm, data, signature) and remember the answer. */
export function memoizedVerify(
  key: KeyObject,
  algorithm: string,
  data: Uint8Array,
  signature: Uint8Array,
  verify: () => boolean,
): boolean {
  const k = `${keyId(key)}|${algorithm}|${toHex(sha256(data))}|${toHex(signature)}`;
  const hit = results.get(k);
  if (hit !== undefined) {
    // Refresh recency.
    results.delete(k);
    results.set(k, hit);
    return hit;
  }
  const ok = verify();
  if (results.size >= MAX_ENTRIES) results.delete(results.keys().next().value as string);
  results.set(k, ok);
  return ok;
}
