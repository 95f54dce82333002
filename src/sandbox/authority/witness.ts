/**
 * The sandbox's witnesses (`stella sandbox up --witnesses N`): each an Ed25519 key that
 * cosigns the sandbox logs' checkpoints (C2SP tlog-cosignature v1, ../../tlog/cosignature.ts)
 * the way a real witness does: per log it remembers the largest tree it cosigned and cosigns a
 * new checkpoint only when the log proves it consistent with that one (RFC 6962 consistency
 * proof, checked by ../../tlog/merkle.ts). So after `stella sandbox fork` the witnesses stop
 * cosigning the log's second history, and a verifier whose policy needs them notices.
 * What each witness cosigned is handed to `onCosigned` (the sandbox writes it to its data
 * directory) and restored with `restore`, so a restarted witness still refuses a rolled-back or
 * forked history. Pure apart from the clock it is given.
 */
import { bytesEqual } from '../../util/encoding.js';
import { verifyConsistency } from '../../tlog/merkle.js';
import { cosignatureLine, formatWitnessVkey, type WitnessKey } from '../../tlog/cosignature.js';
import { deterministicEd25519Signer } from '../../x509/issue.js';
import { isStellaError } from '../../errors.js';

export interface TreeView {
  origin: string;
  treeSize: number;
  rootHash: Uint8Array;
  /** The log's consistency proof from `size1` to this tree (its own tree). */
  proofFrom(size1: number): Uint8Array[];
}

/** Per log origin, the largest tree a witness cosigned. */
export type WitnessMemory = Map<string, { treeSize: number; rootHash: Uint8Array }>;

export class SandboxWitness {
  readonly key: WitnessKey;
  readonly #sign: (m: Uint8Array) => Uint8Array;
  readonly #seen: WitnessMemory = new Map();
  /** Called after each cosignature that changed what this witness remembers. */
  onCosigned: ((w: SandboxWitness) => void) | undefined;

  constructor(name: string, seed: Uint8Array) {
    const signer = deterministicEd25519Signer(seed);
    this.key = { name, publicKey: signer.spki.slice(signer.spki.length - 32) };
    this.#sign = (m) => signer.sign(m);
  }

  /** What this witness remembers (a copy). */
  memory(): WitnessMemory {
    return new Map(this.#seen);
  }

  /** Take back what this witness remembered before a restart. */
  restore(memory: WitnessMemory): void {
    this.#seen.clear();
    for (const [origin, v] of memory) this.#seen.set(origin, v);
  }

  get vkey(): string {
    return formatWitnessVkey(this.key);
  }

  /** A cosignature line for `noteText`, or undefined when the tree is not consistent with what this witness cosigned before. */
  cosign(noteText: string, tree: TreeView, nowMs: number): string | undefined {
    const prev = this.#seen.get(tree.origin);
    if (prev) {
      if (tree.treeSize < prev.treeSize) return undefined;
      if (tree.treeSize === prev.treeSize) {
        if (!bytesEqual(prev.rootHash, tree.rootHash)) return undefined;
      } else {
        try {
          verifyConsistency(
            prev.treeSize,
            tree.treeSize,
            tree.proofFrom(prev.treeSize),
            prev.rootHash,
            tree.rootHash,
          );
        } catch (e) {
          if (isStellaError(e)) return undefined;
          throw e;
        }
      }
    }
    if (tree.treeSize > 0 && prev?.treeSize !== tree.treeSize) {
      this.#seen.set(tree.origin, { treeSize: tree.treeSize, rootHash: tree.rootHash });
      this.onCosigned?.(this);
    }
    return cosignatureLine(noteText, this.key, Math.floor(nowMs / 1000), this.#sign);
  }
}

/** Cosign a log's signed checkpoint with every witness that agrees to. */
export function cosignCheckpoint(
  signed: string,
  noteText: string,
  tree: TreeView,
  witnesses: readonly SandboxWitness[],
  nowMs: number,
): string {
  const lines = witnesses
    .map((w) => w.cosign(noteText, tree, nowMs))
    .filter((l): l is string => l !== undefined);
  return lines.length === 0 ? signed : signed + lines.map((l) => `${l}\n`).join('');
}
