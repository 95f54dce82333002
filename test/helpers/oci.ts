/**
 * OCI test helpers: push a minimal image (config + one layer) with Stella's own client; a
 * loopback referrers-API front for a real registry that has none; and a loopback "registry"
 * that misbehaves on purpose (401, 404, 500, malformed answers, oversize, wrong subject).
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { cosignRekorBundleOf, type CosignRekorBundle } from './cosign-legacy-file.js';
import { RegistryClient, digestOf, MEDIA_TYPES } from '../../src/oci/client.js';
import { parseImageReference, type ImageRef } from '../../src/oci/reference.js';

const enc = new TextEncoder();

/** Push a minimal OCI image (config + one layer) and return its reference by digest. */
export async function pushTestImage(
  host: string,
  repository: string,
  seed: string,
  opts: ConstructorParameters<typeof RegistryClient>[1] = { allowInsecure: true },
): Promise<ImageRef> {
  const repo = { registry: host, apiHost: host, repository };
  const client = new RegistryClient(repo, opts);
  const config = enc.encode(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [digestOf(enc.encode(seed))] },
      config: { Labels: { seed } },
    }),
  );
  const layer = enc.encode(seed);
  await client.pushBlob(config, 'config');
  await client.pushBlob(layer, 'layer');
  const manifest = imageManifest(config, layer);
  const digest = digestOf(manifest);
  await client.putManifest(digest, manifest, MEDIA_TYPES.ociManifest, 'image manifest');
  await client.putManifest('latest', manifest, MEDIA_TYPES.ociManifest, 'image manifest');
  return parseImageReference(`${host}/${repository}@${digest}`);
}

export function imageManifest(config: Uint8Array, layer: Uint8Array): Uint8Array {
  return enc.encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: {
        mediaType: MEDIA_TYPES.ociConfig,
        digest: digestOf(config),
        size: config.byteLength,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          digest: digestOf(layer),
          size: layer.byteLength,
        },
      ],
    }),
  );
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export interface Front {
  host: string;
  /** Requests seen, "METHOD path". */
  requests: string[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function forward(
  upstream: string,
  req: IncomingMessage,
  body: Buffer,
  res: ServerResponse,
  extraHeaders: Record<string, string> = {},
): Promise<void> {
  const [host, port] = upstream.split(':');
  return new Promise((resolve) => {
    const up = httpRequest(
      {
        host,
        port: Number(port),
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream },
      },
      (ur) => {
        const headers = { ...ur.headers, ...extraHeaders };
        // Locations the registry gives point at itself: rewrite them to the front.
        if (typeof headers.location === 'string')
          headers.location = headers.location.replace(
            `http://${upstream}`,
            `http://${req.headers.host}`,
          );
        res.writeHead(ur.statusCode ?? 502, headers);
        ur.pipe(res);
        ur.on('end', () => resolve());
      },
    );
    up.on('error', () => {
      res.writeHead(502).end();
      resolve();
    });
    up.end(body);
  });
}

/**
 * The referrers API in front of a real registry without it: `GET /v2/<name>/referrers/<digest>`
 * is computed from the registry's own manifests (every manifest pushed through the front is
 * read back from the registry and its subject compared), a manifest PUT with a subject is
 * answered with the `OCI-Subject` header the spec asks for, and everything else is forwarded.
 */
export interface FrontOptions {
  /** Serve the referrers API (default true); false: a plain forwarding proxy. */
  referrersApi?: boolean;
  /** Hold every GET of a referrers tag (`sha256-…`) this long before forwarding it: forces concurrent read–merge–push rounds to overlap. */
  delayTagReadsMs?: number;
}

export async function startReferrersFront(
  upstream: string,
  opts: FrontOptions = {},
): Promise<Front> {
  const api = opts.referrersApi ?? true;
  const pushed = new Map<string, Set<string>>(); // repository -> manifest digests
  const requests: string[] = [];
  const server = createServer(async (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://front');
    const referrers = /^\/v2\/(.+)\/referrers\/(sha256:[0-9a-f]{64})$/.exec(url.pathname);
    if (referrers && req.method === 'GET' && api) {
      const [, name, subject] = referrers as unknown as [string, string, string];
      const wanted = url.searchParams.get('artifactType');
      const manifests: unknown[] = [];
      for (const digest of pushed.get(name) ?? []) {
        const r = await fetch(`http://${upstream}/v2/${name}/manifests/${digest}`, {
          headers: { Accept: MEDIA_TYPES.ociManifest },
        });
        if (r.status !== 200) continue;
        const bytes = new Uint8Array(await r.arrayBuffer());
        const m = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
          mediaType?: string;
          artifactType?: string;
          config?: { mediaType?: string };
          subject?: { digest?: string };
          annotations?: Record<string, string>;
        };
        if (m.subject?.digest !== subject) continue;
        const artifactType = m.artifactType ?? m.config?.mediaType;
        if (wanted && artifactType !== wanted) continue;
        manifests.push({
          mediaType: m.mediaType ?? MEDIA_TYPES.ociManifest,
          digest,
          size: bytes.byteLength,
          artifactType,
          ...(m.annotations ? { annotations: m.annotations } : {}),
        });
      }
      res.writeHead(200, {
        'Content-Type': MEDIA_TYPES.ociIndex,
        ...(wanted ? { 'OCI-Filters-Applied': 'artifactType' } : {}),
      });
      res.end(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests }));
      return;
    }
    const manifestPut = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (manifestPut && req.method === 'PUT') {
      let subject: string | undefined;
      try {
        subject = (JSON.parse(body.toString('utf8')) as { subject?: { digest?: string } }).subject
          ?.digest;
      } catch {
        subject = undefined;
      }
      const name = manifestPut[1]!;
      const digest = digestOf(body);
      if (!pushed.has(name)) pushed.set(name, new Set());
      pushed.get(name)!.add(digest);
      await forward(upstream, req, body, res, subject && api ? { 'OCI-Subject': subject } : {});
      return;
    }
    if (
      req.method === 'GET' &&
      opts.delayTagReadsMs &&
      /\/manifests\/sha256-[0-9a-f]{64}$/.test(url.pathname)
    )
      await new Promise((r) => setTimeout(r, opts.delayTagReadsMs));
    await forward(upstream, req, body, res);
  });
  const host = await listen(server);
  return { host, requests, close: () => new Promise((r) => server.close(() => r())) };
}

export type Misbehaviour = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  /** The request's body, read whole. */
  body: Buffer,
) => boolean | Promise<boolean>;

/** A registry's 200 for stored content: its media type, digest and length, then the bytes. */
export function sendContent(res: ServerResponse, mediaType: string, bytes: Uint8Array): true {
  res.writeHead(200, {
    'Content-Type': mediaType,
    'Docker-Content-Digest': digestOf(bytes),
    'Content-Length': String(bytes.byteLength),
  });
  res.end(bytes);
  return true;
}

/** A loopback server answering /v2/ requests with `handler` (true = handled), else 404. */
export async function startFakeRegistry(handler: Misbehaviour): Promise<Front> {
  const requests: string[] = [];
  const server = createServer(async (req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ? '(auth)' : ''}`);
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    if (!(await handler(req, res, url, body))) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }),
      );
    }
  });
  const host = await listen(server);
  return { host, requests, close: () => new Promise((r) => server.close(() => r())) };
}

/**
 * A Sigstore bundle (protobuf-specs JSON) as cosign stores it on a `.att` layer: the DSSE
 * envelope is the layer's blob; the leaf certificate (base64 DER) and the Rekor entry with its
 * signed entry timestamp go in the `dev.sigstore.cosign/certificate` and
 * `dev.sigstore.cosign/bundle` annotations. Undefined for a bundle without an envelope, a
 * certificate or a SET.
 */
export function cosignAttestationParts(
  bundle: Record<string, any>,
):
  | { envelope: Record<string, unknown>; certificateB64: string; rekor: CosignRekorBundle }
  | undefined {
  const vm = bundle.verificationMaterial ?? {};
  const entry = vm.tlogEntries?.[0];
  const certificateB64: unknown =
    vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates?.[0]?.rawBytes;
  if (!bundle.dsseEnvelope || !entry?.inclusionPromise || typeof certificateB64 !== 'string')
    return undefined;
  return {
    envelope: bundle.dsseEnvelope,
    certificateB64,
    rekor: cosignRekorBundleOf(entry),
  };
}
