/**
 * The sandbox witness cosigns a log's tree only when it is consistent with the largest tree it
 * cosigned before for that origin: grown with a valid consistency proof, or the same tree again.
 * A smaller tree, another root at the same size, or a history that does not extend the old one
 * gets no cosignature, and what it remembers is not moved.
 */
import test from 'ava';
import { MerkleTree } from '../../../src/tlog/merkle.js';
import { SandboxWitness, type TreeView } from '../../../src/sandbox/authority/witness.js';
import { seedFromString } from '../../../src/sandbox/authority/keys.js';
import { utf8 } from '../../../src/util/encoding.js';

const ORIGIN = 'log.test.invalid';
const NOW = Date.UTC(2026, 11, 4);

function treeOf(entries: readonly string[]): MerkleTree {
  const tree = new MerkleTree();
  for (const e of entries) tree.appendData(utf8.encode(e));
  return tree;
}

function view(tree: MerkleTree, size = tree.size, origin = ORIGIN): TreeView {
  return {
    origin,
    treeSize: size,
    rootHash: tree.root(size),
    proofFrom: (m) => tree.consistencyProof(m, size),
  };
}

const entries = (n: number, tag = 'e'): string[] => [...Array(n).keys()].map((i) => `${tag}${i}`);

function witness(): { w: SandboxWitness; cosigned: () => number } {
  const w = new SandboxWitness('witness.test.invalid', seedFromString('witness tests'));
  let count = 0;
  w.onCosigned = () => count++;
  return { w, cosigned: () => count };
}

test('a grown tree with a valid consistency proof is cosigned and remembered', (t) => {
  const { w, cosigned } = witness();
  const tree = treeOf(entries(9));
  t.truthy(w.cosign('note 5\n', view(tree, 5), NOW));
  t.truthy(w.cosign('note 9\n', view(tree, 9), NOW));
  t.is(cosigned(), 2);
  t.is(w.memory().get(ORIGIN)?.treeSize, 9);
  // The same tree again: cosigned, and nothing new to remember.
  t.truthy(w.cosign('note 9\n', view(tree, 9), NOW));
  t.is(cosigned(), 2);
});

test('a smaller tree than the one cosigned is refused, even one the larger tree contains', (t) => {
  const { w, cosigned } = witness();
  const tree = treeOf(entries(9));
  t.truthy(w.cosign('note 9\n', view(tree, 9), NOW));
  t.is(w.cosign('note 5\n', view(tree, 5), NOW), undefined);
  t.is(cosigned(), 1);
  t.is(w.memory().get(ORIGIN)?.treeSize, 9);
});

test('another root at the same size, or a larger tree that does not extend the old one, is refused', (t) => {
  const { w } = witness();
  t.truthy(w.cosign('note\n', view(treeOf(entries(6))), NOW));
  t.is(w.cosign('note\n', view(treeOf(entries(6, 'fork'))), NOW), undefined);
  const forked = treeOf([...entries(3), ...entries(7, 'fork')]);
  t.is(w.cosign('note\n', view(forked), NOW), undefined);
  t.is(w.memory().get(ORIGIN)?.treeSize, 6);
  // Another origin is remembered apart.
  t.truthy(w.cosign('note\n', view(forked, forked.size, 'other.test.invalid'), NOW));
});

test("a fault that is not a refused proof (the log's own proof code throwing) reaches the caller: nothing is cosigned or remembered", (t) => {
  const { w, cosigned } = witness();
  const tree = treeOf(entries(9));
  t.truthy(w.cosign('note 5\n', view(tree, 5), NOW));
  const broken: TreeView = {
    ...view(tree, 9),
    proofFrom: () => {
      throw new TypeError('the log could not build its proof');
    },
  };
  t.throws(() => w.cosign('note 9\n', broken, NOW), {
    instanceOf: TypeError,
    message: 'the log could not build its proof',
  });
  t.is(cosigned(), 1);
  t.is(w.memory().get(ORIGIN)?.treeSize, 5);
});

test('a restored witness keeps refusing what it refused before the restart', (t) => {
  const { w } = witness();
  const tree = treeOf(entries(8));
  t.truthy(w.cosign('note\n', view(tree), NOW));
  const { w: restarted } = witness();
  restarted.restore(w.memory());
  t.is(restarted.cosign('note\n', view(tree, 4), NOW), undefined);
  t.is(restarted.cosign('note\n', view(treeOf(entries(8, 'fork'))), NOW), undefined);
  t.truthy(restarted.cosign('note\n', view(tree), NOW));
});

test('an empty tree is cosigned and not remembered: the first entries after it are cosigned too (a consistency proof from size 0 does not exist)', (t) => {
  const { w, cosigned } = witness();
  const tree = treeOf(entries(3));
  t.truthy(w.cosign('note 0\n', view(tree, 0), NOW));
  t.is(cosigned(), 0, 'nothing to remember');
  t.is(w.memory().get(ORIGIN), undefined);
  t.truthy(w.cosign('note 3\n', view(tree, 3), NOW));
  t.is(w.memory().get(ORIGIN)?.treeSize, 3);
});
