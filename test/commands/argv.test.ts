/**
 * The command line as oclif users expect it, through the real CLI (issue 11): `stella help`,
 * `stella help attest verify`, `-h`, topics with their own text; one wording for usage errors
 * on every command (the fast verify launcher included), `--json` usage errors as one JSON
 * object on stdout, a flag given twice refused everywhere, the positional artifact. And the
 * reader itself (src/commands/argv.ts), case by case.
 */
import test from 'ava';
import { runCli, usageStderr, usageJson } from '../helpers/cli.js';
import { COMMANDS } from '../../src/commands/index.js';
import { asksForJson, closest, parseArgv } from '../../src/commands/argv.js';
import { StellaError } from '../../src/errors.js';
import { PROJECT_ROOT } from '../helpers/paths.js';
import { join } from 'node:path';

const S = (f: string) => join(PROJECT_ROOT, 'samples', f);
const IDENTITY = [
  '--certificate-identity',
  'https://github.com/stella-samples/demo/.github/workflows/release.yml@refs/heads/main',
  '--certificate-oidc-issuer',
  'https://oidc.stella.invalid',
];

test('stella help, stella help attest verify, -h and --help all print help (exit 0)', async (t) => {
  const top = await runCli(['help']);
  t.is(top.code, 0, top.stderr);
  t.regex(top.stdout, /TOPICS[\s\S]*attest[\s\S]*sandbox[\s\S]*trust/);
  for (const args of [
    ['help', 'attest', 'verify'],
    ['attest', 'verify', '-h'],
    ['attest', 'verify', '--help'],
  ]) {
    const r = await runCli(args);
    t.is(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stdout, /USAGE\s+\$ stella attest verify \[ARTIFACT\]/, args.join(' '));
  }
  const sign = await runCli(['attest', 'sign', '-h']);
  t.is(sign.code, 0, sign.stderr);
  t.regex(sign.stdout, /\$ stella attest sign \[ARTIFACT\]/);
  const ac = await runCli(['autocomplete', 'bash']);
  t.is(ac.code, 0, ac.stderr);
  t.regex(ac.stdout, /stella/);
});

test("topics trust keys and trust rotation have their own description, not a subcommand's", async (t) => {
  const keys = await runCli(['trust', 'keys', '--help']);
  t.is(keys.code, 0, keys.stderr);
  t.regex(keys.stdout, /^Rotation keys: who may sign/);
  const rotation = await runCli(['help', 'trust', 'rotation']);
  t.regex(rotation.stdout, /^Create signed rotations of the trust root/);
});

test('help paragraphs are not hard-wrapped by hand (oclif wraps them once)', async (t) => {
  for (const [id, cmd] of Object.entries(COMMANDS)) {
    const description = (cmd as { description?: string }).description ?? '';
    t.false(
      /[^.:]\n[a-z]/.test(description),
      `${id}: its description has a line break inside a sentence`,
    );
  }
});

// Every command: an unknown flag and a repeated flag are usage errors in the same words,
// exit 2, and with --json one object on stdout.
const REPEATED: { args: string[]; flag: string }[] = [
  {
    args: [
      'attest',
      'verify',
      '--bundle',
      S('blob.sigstore.json'),
      '--bundle',
      S('blob.sigstore.json'),
      '--artifact',
      S('artifact.txt'),
      '--trusted-root',
      S('trusted_root.json'),
      ...IDENTITY,
    ],
    flag: 'bundle',
  },
  {
    args: [
      'attest',
      'verify',
      '--require-rekor',
      '--require-rekor',
      '--bundle',
      S('blob.sigstore.json'),
      '--artifact',
      S('artifact.txt'),
      ...IDENTITY,
    ],
    flag: 'require-rekor',
  },
  {
    args: ['attest', 'sign', '--keyless', '--artifact', 'a', '--output', 'x', '--output', 'y'],
    flag: 'output',
  },
  {
    args: ['attest', 'export-bundle', '--all', '--output', 'a.tar', '--output', 'b.tar'],
    flag: 'output',
  },
  { args: ['trust', 'list', '--store', 'a', '--store', 'b'], flag: 'store' },
  { args: ['trust', 'import', 'x.pem', '--uri', 'https://a', '--uri', 'https://b'], flag: 'uri' },
  {
    args: [
      'sandbox',
      'token',
      '--data-dir',
      'a',
      '--platform',
      'github',
      '--platform',
      'gitlab',
      '--repo',
      'o/r',
    ],
    flag: 'platform',
  },
];

for (const r of REPEATED) {
  test(`a flag given twice is an error: ${r.args.slice(0, 2).join(' ')} --${r.flag}`, async (t) => {
    const human = await runCli(r.args);
    t.is(human.code, 2, human.stdout + human.stderr);
    t.is(human.stdout, '');
    t.is(
      human.stderr,
      usageStderr(`--${r.flag} was given twice: it takes one value, give it once`),
    );
    const json = await runCli([...r.args.filter((a) => a !== '--json'), '--json']);
    t.is(json.code, 2);
    const out = JSON.parse(json.stdout);
    t.deepEqual(out.ok, false);
    t.is(out.error.code, 'USAGE_ERROR');
    t.is(out.error.exitCode, 2);
    t.regex(out.error.message, /was given twice/);
  });
}

test('a repeatable flag may be repeated: export-bundle --bundle twice', async (t) => {
  const r = await runCli([
    'attest',
    'export-bundle',
    '--all',
    '--bundle',
    S('blob.sigstore.json'),
    '--bundle',
    S('attestation.sigstore.json'),
    '--output',
    '/dev/null/x.tar',
    '--json',
  ]);
  t.not(r.code, 2, r.stdout);
});

test('unknown flags and missing values: the same wording on the fast verify path and on every oclif command', async (t) => {
  const fast = await runCli(['attest', 'verify', '--bogus']);
  const oclif = await runCli(['trust', 'list', '--bogus']);
  t.is(fast.code, 2);
  t.is(oclif.code, 2);
  t.is(fast.stderr, usageStderr('unknown flag --bogus'));
  t.is(oclif.stderr, fast.stderr);
  const typo = await runCli(['attest', 'verify', '--trusted-rot', 'x']);
  t.regex(typo.stderr, /^error: unknown flag --trusted-rot \(did you mean --trusted-root\?\)/);
  const missing = await runCli(['attest', 'verify', '--bundle']);
  t.is(missing.stderr, usageStderr('--bundle needs a value'));
  const missingOclif = await runCli(['trust', 'list', '--store']);
  t.is(missingOclif.stderr, usageStderr('--store needs a value'));
  // A value not among the options: the reader's message (oclif's flag table carries the options).
  const option = await runCli([
    'attest',
    'sign',
    '--keyless',
    '--artifact',
    'x',
    '--type',
    'tarball',
    '--json',
  ]);
  t.is(option.code, 2);
  const err = JSON.parse(option.stdout).error;
  t.is(err.code, 'USAGE_ERROR');
  t.is(
    err.message,
    '--type must be one of blob, image (got "tarball"); cosign attest\'s --type (the predicate type) is --predicate-type here',
  );
  // cosign lines pasted as they are, through the real commands' flag tables.
  for (const [args, message] of [
    [
      ['attest', 'sign', '--keyless', '--yes', '--bundle', 'out.json', 'a.txt'],
      'unknown flag --yes: Stella never asks for confirmation: leave --yes out',
    ],
    [
      ['attest', 'sign', '--keyless', '--bundle', 'out.json', 'a.txt'],
      "unknown flag --bundle: cosign sign-blob's --bundle FILE is --output FILE (-o) here: the bundle is what Stella writes",
    ],
    [
      ['attest', 'verify', '--bundle', 'b.json', '--type', 'slsaprovenance1', 'a.txt'],
      "unknown flag --type: cosign verify-blob-attestation's --type is --predicate-type here (a URI, or cosign's name for one such as slsaprovenance1)",
    ],
    [
      ['attest', 'verify', '--bundle', 'b.json', '--insecure-ignore-tlog', 'a.txt'],
      "unknown flag --insecure-ignore-tlog: a log entry is required only with --require-rekor (or a policy environment's requireRekor), and one a bundle carries is always checked: leave --insecure-ignore-tlog out",
    ],
  ] as const) {
    const r = await runCli([...args]);
    t.is(r.code, 2, args.join(' '));
    t.is(r.stderr, usageStderr(message), args.join(' '));
  }
  const extra = await runCli(['trust', 'show', '3', 'extra']);
  t.is(extra.stderr, usageStderr('unexpected argument "extra": this command takes at most 1 (ID)'));
});

test('--json usage errors print one JSON object on stdout, on the fast path too', async (t) => {
  for (const args of [
    ['attest', 'verify', '--json'],
    ['attest', 'verify', '--json', '--nope'],
    ['trust', 'show', '--json', '--nope'],
    ['attest', 'verify', '--json', '--artifact', 'x', '--certificate-identity', '('],
  ]) {
    const r = await runCli(args);
    t.is(r.code, 2, args.join(' '));
    const out = JSON.parse(r.stdout);
    t.is(out.ok, false);
    t.is(out.error.code, 'USAGE_ERROR', args.join(' '));
  }
});

test('attest verify takes the artifact as an argument (cosign verify-blob FILE), not twice', async (t) => {
  const ok = await runCli([
    'attest',
    'verify',
    S('artifact.txt'),
    '--bundle',
    S('blob.sigstore.json'),
    '--trusted-root',
    S('trusted_root.json'),
    ...IDENTITY,
  ]);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /Verified OK/);
  const twice = await runCli([
    'attest',
    'verify',
    S('artifact.txt'),
    '--artifact',
    S('artifact.txt'),
    '--bundle',
    S('blob.sigstore.json'),
    ...IDENTITY,
  ]);
  t.is(twice.code, 2);
  t.regex(twice.stderr, /^error: the artifact was given twice/);
  const two = await runCli(['attest', 'verify', S('artifact.txt'), S('artifact.txt')]);
  t.is(two.code, 2);
  t.regex(two.stderr, /^error: unexpected argument .*: this command takes at most 1 \(ARTIFACT\)/);
});

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof StellaError && e.code === 'USAGE_ERROR') return e.message;
    throw e;
  }
  throw new Error('no usage error');
}

test('the reader: =, short flags, -, --, switches, repeatable flags', (t) => {
  const shape = {
    flags: [
      { name: 'output', char: 'o', takesValue: true },
      { name: 'json', takesValue: false },
      { name: 'bundle', takesValue: true, multiple: true },
      { name: 'color', takesValue: false, allowNo: true },
    ],
    args: ['artifact'],
  };
  t.deepEqual(parseArgv(['--output=a', '--json', '-'], shape), {
    flags: { output: 'a', json: true },
    positionals: ['-'],
  });
  t.deepEqual(parseArgv(['-o', 'a'], shape).flags, { output: 'a' });
  t.deepEqual(parseArgv(['-oa'], shape).flags, { output: 'a' });
  t.deepEqual(
    parseArgv(['--output', '-'], shape).flags,
    { output: '-' },
    '- is a value (standard input)',
  );
  t.deepEqual(parseArgv(['--bundle', 'a', '--bundle=b'], shape).flags, { bundle: ['a', 'b'] });
  t.deepEqual(parseArgv(['--no-color'], shape).flags, { color: false });
  t.deepEqual(parseArgv(['--', '--json'], shape), { flags: {}, positionals: ['--json'] });
  t.is(
    usage(() => parseArgv(['-o', 'a', '--output', 'b'], shape)),
    '--output was given twice (as -o and --output): it takes one value, give it once',
  );
  t.is(
    usage(() => parseArgv(['--json=yes'], shape)),
    '--json is a switch and takes no value (got "--json=yes")',
  );
  t.is(
    usage(() => parseArgv(['--output', '--json'], shape)),
    '--output needs a value',
  );
  t.is(
    usage(() => parseArgv(['--color', '--no-color'], shape)),
    '--color was given twice (as --color and --no-color): it takes one value, give it once',
  );
  t.is(
    usage(() => parseArgv(['-x'], shape)),
    'unknown flag -x',
  );
  // A value that only looks like a flag (no flag has that name) is the value, as oclif reads it:
  // an identity pattern or a file name may begin with dashes.
  t.deepEqual(parseArgv(['--output', '--not-a-flag'], shape).flags, { output: '--not-a-flag' });
  t.deepEqual(parseArgv(['--output', '--outputs=x'], shape).flags, { output: '--outputs=x' });
  t.deepEqual(parseArgv(['--output', '-q'], shape).flags, { output: '-q' });
  t.is(
    usage(() => parseArgv(['--output', '--json=1'], shape)),
    '--output needs a value',
  );
  t.is(
    usage(() => parseArgv(['--output', '-o'], shape)),
    '--output needs a value',
  );
});

test("the verify flag table's repeatable flags stay repeatable through argvShapeOfSpecs (the fast path's shape)", async (t) => {
  const { argvShapeOfSpecs } = await import('../../src/commands/flag-spec.js');
  const { VERIFY_FLAGS, VERIFY_ARGS } = await import('../../src/commands/attest/verify-spec.js');
  const shape = argvShapeOfSpecs(VERIFY_FLAGS, VERIFY_ARGS);
  const one = parseArgv(['--artifact', 'a.txt', '--bundle', 'b.json'], shape);
  t.deepEqual(one.flags['artifact'], ['a.txt'], 'a repeatable flag is a list even when given once');
  const two = parseArgv(['--archive', 'x.tar', '--artifact', 'a', '--artifact', 'b'], shape);
  t.deepEqual(two.flags['artifact'], ['a', 'b']);
  t.throws(() => parseArgv(['--bundle', 'a', '--bundle', 'b'], shape), {
    message: /--bundle was given twice/,
  });
});

test('asksForJson: --json anywhere before --, never after it, never as part of another word', (t) => {
  t.true(asksForJson(['--json']));
  t.true(asksForJson(['attest', 'verify', '--bundle', 'b.json', '--json']));
  t.true(asksForJson(['--json', '--', 'x']));
  t.false(asksForJson(['--', '--json']));
  t.false(asksForJson(['--json-lines']));
  t.false(asksForJson(['--jsonx', '--bundle=--json']));
  t.false(asksForJson([]));
});

test('closest: the nearest known name within a few edits; none when all are far', (t) => {
  t.is(closest('trust:lst', ['trust:list', 'trust:show']), 'trust:list');
  t.is(closest('bundel', ['bundle', 'bundles']), 'bundle');
  t.is(closest('frobnicate', ['trust:list', 'attest:verify']), undefined);
  t.is(closest('x', new Set<string>()), undefined);
});

test('the reader: a required argument not given is named, with what it is; optional ones may be left out', (t) => {
  const shape = {
    flags: [{ name: 'json', takesValue: false }],
    args: ['file', 'extra'],
    requiredArgs: [{ name: 'file', description: 'rotation bundle (tar)' }],
  };
  const e = t.throws(() => parseArgv(['--json'], shape), { instanceOf: StellaError });
  t.is(e.message, 'missing required argument FILE: rotation bundle (tar)');
  t.deepEqual(e.details, { argument: 'file' });
  t.deepEqual(parseArgv(['a.tar'], shape).positionals, ['a.tar']);
  const bare = t.throws(() => parseArgv([], { ...shape, requiredArgs: [{ name: 'id' }] }), {
    instanceOf: StellaError,
  });
  t.is(bare.message, 'missing required argument ID');
  // The second of two required arguments.
  const two = { ...shape, requiredArgs: [{ name: 'file' }, { name: 'extra' }] };
  t.is(t.throws(() => parseArgv(['a.tar'], two))?.message, 'missing required argument EXTRA');
});

test('a missing required argument through the CLI: one line in our words (oclif said "Missing 1 required arg:; id  entry id"), exit 2', async (t) => {
  const cases: [string[], string][] = [
    [['trust', 'show'], 'missing required argument ID: entry id (from `stella trust list`)'],
    [['trust', 'rotate'], 'missing required argument FILE: rotation bundle (tar)'],
    [['policy', 'lint'], 'missing required argument FILE: policy file (YAML)'],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args);
    t.is(r.code, 2, args.join(' '));
    t.is(r.stderr, usageStderr(message));
    const json = await runCli([...args, '--json']);
    t.deepEqual(
      JSON.parse(json.stdout),
      usageJson(message, {
        details: { argument: args[0] === 'trust' && args[1] === 'show' ? 'id' : 'file' },
      }),
    );
  }
});

test('a missing required flag through the CLI: --keyless, left out as cosign sign-blob FILE leaves it, says why it is asked for; another is named alone', async (t) => {
  const keyless =
    'missing required flag --keyless: Stella signs keylessly only (an ephemeral key held in memory, a short-lived Fulcio certificate), and asks you to say so: add --keyless';
  const r = await runCli(['attest', 'sign', 'a.txt']);
  t.is(r.code, 2);
  t.is(r.stderr, usageStderr(keyless));
  const json = await runCli(['attest', 'sign', 'a.txt', '--json']);
  t.deepEqual(JSON.parse(json.stdout), usageJson(keyless, { details: { flag: 'keyless' } }));
  const other = await runCli(['trust', 'rotation', 'create']);
  t.is(other.code, 2);
  t.is(other.stderr, usageStderr('missing required flag --root'));
});

test('the reader: flags that exclude each other are named in the order given, whichever side declares it; a flag that needs others names them', (t) => {
  const shape = {
    flags: [
      { name: 'all', takesValue: false, exclusive: ['artifact'] },
      { name: 'artifact', takesValue: true, multiple: true },
      { name: 'predicate', takesValue: true, dependsOn: ['predicate-type', 'type'] },
      { name: 'predicate-type', takesValue: true },
      { name: 'type', takesValue: true },
    ],
  };
  const message = (argv: string[]) =>
    (t.throws(() => parseArgv(argv, shape), { instanceOf: StellaError }) as StellaError).message;
  t.is(message(['--all', '--artifact', 'a']), '--all and --artifact cannot be combined');
  t.is(message(['--artifact', 'a', '--all']), '--artifact and --all cannot be combined');
  t.deepEqual(
    (t.throws(() => parseArgv(['--artifact', 'a', '--all'], shape)) as StellaError).details,
    { flags: ['artifact', 'all'] },
  );
  t.is(message(['--predicate', 'p']), '--predicate needs --predicate-type and --type');
  t.is(message(['--predicate', 'p', '--type', 'x']), '--predicate needs --predicate-type');
  t.notThrows(() => parseArgv(['--predicate', 'p', '--type', 'x', '--predicate-type', 'u'], shape));
  t.notThrows(() => parseArgv(['--all'], shape));
  t.notThrows(() => parseArgv(['--artifact', 'a', '--artifact', 'b'], shape));
});

test("oclif's exclusive and dependsOn in Stella's words through the CLI (oclif said '--all=true cannot also be provided when using --artifact')", async (t) => {
  const digest = `sha256:${'a'.repeat(64)}`;
  for (const [args, message] of [
    [
      ['attest', 'export-bundle', '--artifact', digest, '--all', '--output', 'x.tar'],
      '--artifact and --all cannot be combined',
    ],
    [
      [
        'attest',
        'export-bundle',
        '--seal-key',
        'k.pem',
        '--seal-keyless',
        '--all',
        '--output',
        'x.tar',
      ],
      '--seal-key and --seal-keyless cannot be combined',
    ],
    [
      ['attest', 'sign', '--keyless', '--predicate', 'p.json', '--artifact', 'a.txt'],
      '--predicate needs --predicate-type',
    ],
    [
      ['policy', 'test', '--identity', 'x', '--policy', 'p.yaml', '--pattern', 'a'],
      '--policy and --pattern cannot be combined',
    ],
  ] as const) {
    const r = await runCli([...args]);
    t.is(r.code, 2, args.join(' '));
    t.is(r.stderr, usageStderr(message), args.join(' '));
  }
});

test("the reader: a flag of cosign's that Stella has on purpose no form of says why and what to give, only where the command has that", (t) => {
  const flag = (name: string) => ({ name, takesValue: true });
  const verify = { flags: [flag('bundle'), flag('certificate-oidc-issuer')] };
  const refusal = (argv: string[], shape: Parameters<typeof parseArgv>[1]) =>
    t.throws(() => parseArgv(argv, shape), { instanceOf: StellaError }).message;
  t.is(
    refusal(['--certificate-oidc-issuer-regexp', 'x'], verify),
    'unknown flag --certificate-oidc-issuer-regexp: issuers are compared exactly, never as a pattern: give --certificate-oidc-issuer URL, or several issuers in a policy file (--policy)',
  );
  t.regex(
    refusal(['--signature=s'], verify),
    /^unknown flag --signature: Stella verifies Sigstore bundles, not a detached signature/,
  );
  t.regex(
    refusal(['--certificate', 'c'], verify),
    /^unknown flag --certificate: Stella verifies Sigstore bundles, which carry the certificate/,
  );
  // A command without those flags (export-bundle has --bundle, but verifies nothing) gets the plain form.
  const exportShape = { flags: [flag('bundle'), flag('output')] };
  t.is(refusal(['--signature', 's'], exportShape), 'unknown flag --signature');
  t.is(
    refusal(['--certificate-oidc-issuer-regexp', 'x'], exportShape),
    'unknown flag --certificate-oidc-issuer-regexp',
  );
  // Names on Object.prototype are no flag of anyone's.
  t.is(refusal(['--constructor'], verify), 'unknown flag --constructor');
});

test("the reader: cosign's signing and verifying flags pasted into attest sign and verify say how to write them here", (t) => {
  const flag = (name: string, takesValue = true) => ({ name, takesValue });
  const sign = {
    flags: [flag('keyless', false), flag('output'), flag('predicate-type'), flag('type')],
  };
  const verify = {
    flags: [
      flag('bundle'),
      flag('certificate-oidc-issuer'),
      flag('predicate-type'),
      flag('offline', false),
      flag('jobs'),
    ],
  };
  const refusal = (argv: string[], shape: Parameters<typeof parseArgv>[1]) =>
    t.throws(() => parseArgv(argv, shape), { instanceOf: StellaError }).message;
  // cosign sign-blob --yes --bundle out.json --output-signature s --tlog-upload=false
  t.is(
    refusal(['--bundle', 'out.json'], sign),
    "unknown flag --bundle: cosign sign-blob's --bundle FILE is --output FILE (-o) here: the bundle is what Stella writes",
  );
  for (const f of ['--output-signature', '--output-certificate', '--output-attestation'])
    t.is(
      refusal([f, 'x'], sign),
      `unknown flag ${f}: Stella writes one Sigstore bundle, which holds the signature, the certificate and the log entry: give --output FILE`,
    );
  t.is(
    refusal(['--yes'], sign),
    'unknown flag --yes: Stella never asks for confirmation: leave --yes out',
  );
  // cosign's short form (`cosign sign-blob -y`), said in the form typed.
  t.is(refusal(['-y'], sign), 'unknown flag -y: Stella never asks for confirmation: leave -y out');
  t.regex(
    refusal(['--tlog-upload=false'], sign),
    /^unknown flag --tlog-upload: every signature Stella makes is logged in Rekor/,
  );
  // One name, two meanings: said as the command is.
  t.regex(
    refusal(['--new-bundle-format'], sign),
    /^unknown flag --new-bundle-format: Stella always writes a Sigstore bundle \(v0\.3\)/,
  );
  t.regex(
    refusal(['--new-bundle-format'], verify),
    /^unknown flag --new-bundle-format: Stella reads Sigstore bundles v0\.1 to v0\.3 as they are/,
  );
  // cosign verify-blob(-attestation) flags.
  t.is(
    refusal(['--type', 'slsaprovenance1'], verify),
    "unknown flag --type: cosign verify-blob-attestation's --type is --predicate-type here (a URI, or cosign's name for one such as slsaprovenance1)",
  );
  t.regex(
    refusal(['--rekor-url', 'https://rekor.sigstore.dev'], verify),
    /^unknown flag --rekor-url: verification is offline/,
  );
  t.regex(
    refusal(['--insecure-ignore-tlog'], verify),
    /^unknown flag --insecure-ignore-tlog: a log entry is required only with --require-rekor/,
  );
  t.regex(
    refusal(['--insecure-ignore-sct'], verify),
    /^unknown flag --insecure-ignore-sct: a Fulcio certificate's embedded SCT is always required/,
  );
  for (const f of ['--ca-roots', '--ca-intermediates', '--certificate-chain'])
    t.regex(
      refusal([f, 'ca.pem'], verify),
      new RegExp(
        `^unknown flag ${f}: CA certificates come from a trusted_root\\.json \\(--trusted-root\\) or the trust store`,
      ),
    );
  t.regex(
    refusal(['--use-signed-timestamps'], verify),
    /^unknown flag --use-signed-timestamps: a bundle's RFC 3161 timestamps are always verified/,
  );
  t.is(
    refusal(['--max-workers', '4'], verify),
    "unknown flag --max-workers: cosign's --max-workers is --jobs N here",
  );
  // Since stop 54: more of cosign verify-blob's flags.
  const verifyJson = { flags: [...verify.flags, flag('json', false)] };
  t.is(
    refusal(['--output', 'json'], verifyJson),
    "unknown flag --output: cosign verify's --output json is --json here (one JSON object on stdout)",
  );
  t.is(refusal(['--output', 'json'], verify), 'unknown flag --output', 'no --json, no advice');
  for (const [argv, advice] of [
    [
      ['--sct', 's.json'],
      /^unknown flag --sct: Stella checks the SCT embedded in the bundle's certificate/,
    ],
    [
      ['--rfc3161-timestamp', 't.der'],
      /^unknown flag --rfc3161-timestamp: a bundle carries its RFC 3161 timestamps/,
    ],
    [
      ['--timestamp-certificate-chain', 'c.pem'],
      /^unknown flag --timestamp-certificate-chain: TSA certificates come from a trusted_root\.json/,
    ],
    [
      ['--private-infrastructure'],
      /^unknown flag --private-infrastructure: a private deployment's trust is its trusted_root\.json/,
    ],
    [
      ['--check-claims'],
      /^unknown flag --check-claims: an attestation's subject is always checked/,
    ],
  ] as const)
    t.regex(refusal([...argv], verify), advice);
  // Since stop 57: a hardware key and a local OCI layout, said where the command has what the
  // advice names (attest verify has --key, --archive and --image).
  const verifyFull = {
    flags: [...verify.flags, flag('key'), flag('archive'), flag('image')],
  };
  t.regex(
    refusal(['--sk'], verifyFull),
    /^unknown flag --sk: Stella verifies offline and opens no hardware key: export the security key's public key at the boundary \(`cosign public-key --sk`\) and give it as --key PUB\.pem$/,
  );
  t.regex(
    refusal(['--local-image'], verifyFull),
    /^unknown flag --local-image: a local OCI layout is not read: .*--archive X\.tar/,
  );
  t.is(refusal(['--sk'], verify), 'unknown flag --sk', 'no --key, no advice');
  // And of cosign sign-blob's.
  for (const [argv, advice] of [
    [
      ['--oidc-issuer', 'https://x'],
      /^unknown flag --oidc-issuer: the token comes from --identity-token.*oidc\.issuer in signer\.yaml/,
    ],
    [
      ['--oidc-client-id', 'sigstore'],
      /^unknown flag --oidc-client-id: .*oidc\.clientId in signer\.yaml/,
    ],
    [
      ['--oidc-provider', 'github-actions'],
      /^unknown flag --oidc-provider: the CI platform is found from its environment/,
    ],
    [
      ['--timestamp-server-url', 'https://x'],
      /^unknown flag --timestamp-server-url: the TSA is tsa\.url in signer\.yaml/,
    ],
    [['--key', 'k.pem'], /^unknown flag --key: attest sign is keyless/],
    [
      ['--signing-algorithm', 'ecdsa-sha2-256-nistp256'],
      /^unknown flag --signing-algorithm: the algorithm is keyless\.algorithms\.preferred in signer\.yaml/,
    ],
    [
      ['--use-signing-config'],
      /^unknown flag --use-signing-config: Stella fetches no signing config through TUF: give the signing_config\.json with --signing-config FILE/,
    ],
  ] as const)
    t.regex(refusal([...argv], sign), advice);
  // Elsewhere, the plain form: the verifying advice is not given to sign, nor the signing advice to verify.
  t.is(refusal(['--key', 'k.pem'], verify), 'unknown flag --key');
  t.is(refusal(['--sct', 's'], sign), 'unknown flag --sct');
  t.is(refusal(['--yes'], verify), 'unknown flag --yes');
  t.is(refusal(['-y'], verify), 'unknown flag -y');
  t.is(refusal(['-q'], sign), 'unknown flag -q');
  t.is(refusal(['--ca-roots', 'x'], sign), 'unknown flag --ca-roots');
  t.is(refusal(['--yes'], { flags: [flag('output')] }), 'unknown flag --yes');
});

test("the reader: a value outside a flag's options is a usage error naming them, with the near one or, for sign --type, the cosign meaning", (t) => {
  const sign = {
    flags: [
      { name: 'keyless', takesValue: false },
      { name: 'predicate-type', takesValue: true },
      { name: 'predicate', takesValue: true, dependsOn: ['predicate-type'] },
      { name: 'type', takesValue: true, options: ['blob', 'image'] },
    ],
  };
  const refusal = (argv: string[], shape: Parameters<typeof parseArgv>[1]) =>
    t.throws(() => parseArgv(argv, shape), { instanceOf: StellaError });
  t.deepEqual(parseArgv(['--type', 'image'], sign).flags, { type: 'image' });
  // cosign attest --predicate p.json --type slsaprovenance1: said before "needs --predicate-type".
  const e = refusal(['--predicate', 'p.json', '--type', 'slsaprovenance1'], sign);
  t.is(e.code, 'USAGE_ERROR');
  t.is(
    e.message,
    '--type must be one of blob, image (got "slsaprovenance1"); cosign attest\'s --type (the predicate type) is --predicate-type here',
  );
  t.is(
    refusal(['--type=imag'], sign).message,
    '--type must be one of blob, image (got "imag") (did you mean image?)',
  );
  // Another command's --type, or any other flag with options: the options, and nothing of cosign.
  const other = { flags: [{ name: 'type', takesValue: true, options: ['blob', 'image'] }] };
  t.is(
    refusal(['--type', 'slsaprovenance1'], other).message,
    '--type must be one of blob, image (got "slsaprovenance1")',
  );
});
