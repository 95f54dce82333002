import test from 'ava';
import { parseYamlStrict } from '../../src/util/yaml.js';
import { StellaError } from '../../src/errors.js';

test('a syntax error names the file and line, and the parser message is cut when it quotes the text', (t) => {
  const plain = t.throws(() => parseYamlStrict('a: 1\na: 2\n', 'policy.yaml', 'POLICY_INVALID'), {
    instanceOf: StellaError,
  });
  t.is(plain?.code, 'POLICY_INVALID');
  t.regex(plain?.message ?? '', /^policy\.yaml: line 2: not valid YAML: Map keys must be unique/);
  // The yaml package's message for an unsupported version quotes the rest of the directive:
  // 5,000 characters of it made a 5 KB error line (found by the policy fuzz target).
  const long = t.throws(
    () =>
      parseYamlStrict(
        `%YAML 1.1"${'a'.repeat(5000)}\n---\nx: 1\n`,
        'policy.yaml',
        'POLICY_INVALID',
      ),
    { instanceOf: StellaError },
  );
  t.regex(
    long?.message ?? '',
    /^policy\.yaml: line 1: not valid YAML: Unsupported YAML version 1\.1"a+… \(\d+ characters\)$/,
  );
  t.true((long?.message.length ?? 0) < 400, long?.message);
});
