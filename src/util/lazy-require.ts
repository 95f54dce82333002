/**
 * A CommonJS dependency loaded on first use instead of at start-up. For big libraries only
 * some runs need (the RE2 engine for non-literal identity patterns, the YAML parser for
 * policy files): `stella attest verify` with an exact identity never loads them, and a
 * process only pays for what it uses (README "Speed"). The bundled verify path keeps this call
 * as a run-time require (a local `require` is not one esbuild follows), resolved from this
 * module's own location.
 */
import type { createRequire as CreateRequire } from 'node:module';

/**
 * `require` resolving from this module, made on first use: importing node:module at start-up
 * costs about a millisecond of Node's own loading, which a run that needs no lazy module
 * should not pay. process.getBuiltinModule (Node ≥ 20.16) reaches it synchronously.
 */
let requireHere: NodeJS.Require | undefined;

function requireFromHere(specifier: string): unknown {
  if (requireHere === undefined) {
    const nodeModule = process.getBuiltinModule('node:module') as {
      createRequire: typeof CreateRequire;
    };
    requireHere = nodeModule.createRequire(import.meta.url);
  }
  return requireHere(specifier);
}

/**
 * `() => require(specifier)`, loaded once. The caller states the module's type:
 * `lazyRequire('x') as () => typeof import('x')`.
 */
export function lazyRequire(specifier: string): () => unknown {
  let loaded: unknown;
  return () => (loaded ??= requireFromHere(specifier));
}
