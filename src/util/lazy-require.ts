/**
 * A CommonJS dependency loaded on first use instead of at start-up. For big libraries only
 * some runs need (the RE2 engine for non-literal identity patterns, the YAML parser for
 * policy files): `stella attest verify` with an exact identity never loads them, and a
 * process only pays for what it uses (README "Speed"). The bundled verify path keeps this call
 * as a run-time require (a local `require` is not one esbuild follows), resolved from this
 * module's own location.
 */
import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

/**
 * `() => require(specifier)`, loaded once. The caller states the module's type:
 * `lazyRequire('x') as () => typeof import('x')`.
 */
export function lazyRequire(specifier: string): () => unknown {
  let loaded: unknown;
  return () => (loaded ??= requireHere(specifier) as unknown);
}
