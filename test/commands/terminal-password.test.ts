/**
 * A cosign key's password asked on the terminal (src/commands/terminal-password.ts), as cosign
 * asks when $COSIGN_PASSWORD is unset: through the real CLI on a real pseudo-terminal, made by
 * util-linux's `script` (Debian's bsdutils, which scripts/ensure-test-tools.sh installs when
 * absent). What is typed is not echoed, a wrong password is refused, and Ctrl-C leaves the
 * terminal echoing again.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EXIT_CODES } from '../../src/errors.js';
import { CLI, PROJECT_ROOT } from '../helpers/paths.js';
import { osTool } from '../helpers/os-tools.js';
import { tempDir } from '../helpers/temp.js';

const SCRIPT = osTool('/usr/bin/script', 'bsdutils');
const declare = SCRIPT.missing === undefined ? test : test.skip;
const skipped = SCRIPT.missing === undefined ? '' : ` [skipped: ${SCRIPT.missing}]`;
const PROMPT = 'Enter password for private key (--seal-key ';

/** A POSIX-shell word for `s`. */
const sh = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * `command` run by sh on a new pseudo-terminal (its standard input redirected by `redirect`,
 * if given); `typed` is sent once the prompt is shown.
 * Returns everything the terminal showed. The shell prints `exit=N` after the CLI ends, then
 * the terminal's echo setting as `stty` reports it.
 */
function onTerminal(command: string[], typed: string, redirect = ''): Promise<string> {
  // The trap (a handler, not an ignore, so the CLI still gets SIGINT's default) keeps this
  // shell alive past a Ctrl-C, to report.
  const line = `trap 'true' INT; ${command.map(sh).join(' ')}${redirect}; echo "exit=$?"; stty -a | tr ' ' '\\n' | grep -x -- '-\\{0,1\\}echo'`;
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.COSIGN_PASSWORD;
  const child = spawn(SCRIPT.path, ['-qec', `sh -c ${sh(line)}`, '/dev/null'], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let shown = '';
  let sent = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no end on the terminal; it showed: ${shown}`));
    }, 60_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      shown += chunk;
      if (!sent && shown.includes(PROMPT)) {
        sent = true;
        child.stdin.write(typed);
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(shown.replace(/\r/g, ''));
    });
  });
}

function setup(t: import('ava').ExecutionContext): { key: string; out: string; args: string[] } {
  const dir = tempDir(t, 'stella-terminal-password-');
  const key = path.join(dir, 'cosign.key');
  writeFileSync(
    key,
    readFileSync(path.join(PROJECT_ROOT, 'test/fixtures/sign/cosign-keys/sigstore-ec-p256.key')),
    { mode: 0o600 },
  );
  const out = path.join(dir, 'sealed.tar');
  return {
    key,
    out,
    args: [process.execPath, CLI, 'attest', 'export-bundle']
      .concat(['--bundle', path.join(PROJECT_ROOT, 'samples', 'blob.sigstore.json')])
      .concat(['--seal-key', key, '--output', out]),
  };
}

declare(
  `the password of a cosign key is asked on the terminal when $COSIGN_PASSWORD is unset, and not echoed${skipped}`,
  async (t) => {
    const s = setup(t);
    const shown = await onTerminal(s.args, 'hello\n');
    t.true(shown.includes(`${PROMPT}${s.key}): \n`), shown);
    t.regex(shown, /exported 1 bundle\(s\) for 1 artifact\(s\)/);
    t.regex(shown, /\nexit=0\n/);
    t.false(shown.includes('hello'), 'what was typed is not shown');
    t.regex(shown, /\necho\n?$/, 'the terminal echoes again');
    t.true(existsSync(s.out));
  },
);

declare(
  `a wrong password typed on the terminal is refused as a wrong $COSIGN_PASSWORD is; nothing is written${skipped}`,
  async (t) => {
    const s = setup(t);
    const shown = await onTerminal(s.args, 'hellO\n');
    t.regex(shown, /cannot decrypt this cosign key/);
    t.regex(shown, new RegExp(`\\nexit=${EXIT_CODES.INPUT_INVALID}\\n`));
    t.regex(shown, /\necho\n?$/);
    t.false(existsSync(s.out));
  },
);

declare(
  `Ctrl-C at the password prompt ends the command and leaves the terminal echoing${skipped}`,
  async (t) => {
    const s = setup(t);
    // The terminal turns ^C into SIGINT for the whole foreground group: the CLI and the shell
    // reading the password, whose trap turns echo back on.
    const shown = await onTerminal(s.args, '\x03');
    t.regex(shown, /\nexit=130\n/);
    t.regex(shown, /\necho\n?$/, shown);
    t.false(existsSync(s.out));
  },
);

declare(
  `with a terminal but standard input not one (a file, a pipe), no password is asked: it is read from standard input, as cosign reads it, saying so on the terminal${skipped}`,
  async (t) => {
    const s = setup(t);
    const empty = await onTerminal(s.args, 'hello\n', ' < /dev/null');
    t.false(empty.includes(PROMPT), empty);
    t.true(
      empty.includes(
        `reading the password for --seal-key ${s.key} from standard input ($COSIGN_PASSWORD is not set)`,
      ),
      empty,
    );
    t.regex(
      empty,
      /standard input was empty: set \$COSIGN_PASSWORD to the key's password, or pipe it in/,
    );
    t.regex(empty, new RegExp(`\\nexit=${EXIT_CODES.INPUT_INVALID}\\n`));
    t.false(existsSync(s.out));
    const file = path.join(path.dirname(s.key), 'password');
    writeFileSync(file, 'hello');
    const read = await onTerminal(s.args, '', ` < ${file}`);
    t.false(read.includes(PROMPT), read);
    t.regex(read, /\nexit=0\n/);
    t.true(existsSync(s.out));
  },
);

declare(
  `Ctrl-D at the password prompt is said as no password typed, and the terminal echoes again${skipped}`,
  async (t) => {
    const s = setup(t);
    const shown = await onTerminal(s.args, '\x04');
    t.true(
      shown.includes(
        `--seal-key ${JSON.stringify(s.key)}: no password was typed (the input ended)`,
      ),
      shown,
    );
    t.regex(shown, new RegExp(`\\nexit=${EXIT_CODES.INPUT_INVALID}\\n`));
    t.regex(shown, /\necho\n?$/);
    t.false(existsSync(s.out));
  },
);
