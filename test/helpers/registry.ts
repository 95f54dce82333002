/**
 * A real OCI registry for tests: Debian's docker-registry (the CNCF distribution registry
 * 2.8) serving a config written into a temp dir — filesystem storage there, 127.0.0.1 on a
 * free port — optionally with htpasswd (bcrypt, made with `htpasswd -B`) or token auth (a
 * token service the test runs, whose signing certificate the config trusts).
 *
 * scripts/ensure-test-tools.sh installs the packages (npm test's pretest); where it could not,
 * `registryMissingReason()` says why and the tests are declared skipped.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function which(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why the registry tests cannot run here, or undefined when they can. */
export function registryMissingReason(): string | undefined {
  if (!which('docker-registry'))
    return 'docker-registry (Debian package docker-registry) is not installed and scripts/ensure-test-tools.sh could not install it: skipping the OCI registry tests';
  if (!which('htpasswd'))
    return 'htpasswd (Debian package apache2-utils) is not installed: skipping the OCI registry tests';
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RunningRegistry {
  /** host:port */
  host: string;
  dir: string;
  log(): string;
  close(): Promise<void>;
}

export interface RegistryOptions {
  htpasswd?: { username: string; password: string };
  token?: { realm: string; service: string; issuer: string; rootCertPem: string };
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<RunningRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'stella-registry-'));
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const lines = [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '  secret: stella-test-secret',
    ];
    if (opts.htpasswd) {
      const file = join(dir, 'htpasswd');
      const line = execFileSync(
        'htpasswd',
        ['-nbB', opts.htpasswd.username, opts.htpasswd.password],
        { encoding: 'utf8' },
      ).trim();
      writeFileSync(file, `${line}\n`);
      lines.push('auth:', '  htpasswd:', '    realm: stella-test', `    path: ${file}`);
    } else if (opts.token) {
      const cert = join(dir, 'token-root.pem');
      writeFileSync(cert, opts.token.rootCertPem);
      lines.push(
        'auth:',
        '  token:',
        `    realm: ${opts.token.realm}`,
        `    service: ${opts.token.service}`,
        `    issuer: ${opts.token.issuer}`,
        `    rootcertbundle: ${cert}`,
      );
    }
    const config = join(dir, 'config.yml');
    writeFileSync(config, lines.join('\n') + '\n');
    let output = '';
    const child: ChildProcess = spawn('docker-registry', ['serve', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => (output += String(d)));
    child.stderr?.on('data', (d) => (output += String(d)));
    const host = `127.0.0.1:${port}`;
    const up = await waitUp(host, child);
    if (up) {
      return {
        host,
        dir,
        log: () => output,
        close: async () => {
          if (child.exitCode === null) {
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
            if (child.exitCode === null) child.kill('SIGKILL');
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
    lastError = new Error(`docker-registry did not start on ${host}: ${output.slice(-2000)}`);
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

async function waitUp(host: string, child: ChildProcess): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) return false;
    try {
      const r = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      if (r.status === 200 || r.status === 401) return true;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
