/**
 * Reading a YAML document strictly (duplicate keys refused) with line numbers for messages:
 * the one entry point for signer.yaml and policy files.
 */
import type { Document, Node } from 'yaml';
import { fail, type ErrorCode } from '../errors.js';
import { lazyRequire } from './lazy-require.js';
import { clipped } from './text.js';

/** The YAML parser (250 kB), loaded only when a YAML file is read. */
export const yaml = lazyRequire('yaml') as () => typeof import('yaml');

export interface YamlDocument {
  doc: Document.Parsed;
  /** The line (1-based) where a node starts, when the parser knows it. */
  lineOf: (node: Node | null | undefined) => number | undefined;
}

/** Parse `text`; the first syntax error fails with `code`: "<where>: line N: not valid YAML: …". */
export function parseYamlStrict(text: string, where: string, code: ErrorCode): YamlDocument {
  const { LineCounter, parseDocument } = yaml();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line ?? lines.linePos(e.pos[0]).line;
    // The parser's message can quote the offending text: cut, as any stranger's value is.
    const message = clipped(e.message.split('\n')[0]!, 300);
    fail(code, 'config', `${where}: line ${line}: not valid YAML: ${message}`, {
      line,
    });
  }
  return {
    doc,
    lineOf: (node) => (node?.range ? lines.linePos(node.range[0]).line : undefined),
  };
}
