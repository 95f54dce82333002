/**
 * Which identities a certificate offers to an identity pattern, each labelled with where it
 * came from: the SAN (URI, email, Fulcio's username other-name .7), the OIDC subject Fulcio
 * copies into 1.3.6.1.4.1.57264.1.24, and — only when .24 is absent, as in certificates from
 * Fulcio before v1.8.6 — a subject DERIVED from the other Fulcio extensions in the platform's
 * default `sub` format:
 *
 *   GitHub  repo:<owner>/<repo>:ref:<ref>            (.5/.12 repository, .6/.14 ref)
 *           repo:<owner>/<repo>:environment:<env>    (.23 deployment environment)
 *           repo:<owner>/<repo>:pull_request          (.2/.20 trigger pull_request[_target])
 *   GitLab  project_path:<group>/<project>:ref_type:<branch|tag>:ref:<name>   (.12, .14)
 *   Gitea   <org>/<repo>:ref:<ref>                   (.12, .14)
 *
 * A derived subject is only what the default template would have said: platforms let owners
 * change the `sub` template, so a match on one is reported as derived.
 *
 * A value with control characters (C0, DEL, C1, bidirectional controls, line separators) or
 * not in Unicode NFC is listed with the reason, and never matches: such a value can look like
 * another identity on screen.
 */
import type { Certificate } from './certificate.js';
import { certificateIdentities, oidcIssuer } from './certificate.js';
import { fulcioExtensionValue } from './fulcio-extensions.js';
import { OID } from './oids.js';
import { withoutTrailing } from '../util/text.js';

export type CiPlatformName = 'github' | 'gitlab' | 'gitea';

export interface IdentityCandidate {
  /** 'SAN URI', 'SAN email', 'SAN otherName', 'OIDC subject (1.3.6.1.4.1.57264.1.24)' or 'derived subject (GitHub)'. */
  field: string;
  value: string;
  /** Set for a subject derived from other extensions (no .24 in the certificate). */
  derived?: { platform: CiPlatformName; from: string[] };
  /** Why this value can never match (control characters, not NFC). */
  unusable?: string;
}

/** C0 and C1 controls, DEL, bidirectional marks/embeddings/isolates, line and paragraph separators. */

const CONTROL =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** Why `value` must never match an identity pattern, or undefined when it may. */
export function unusableIdentityReason(value: string): string | undefined {
  const c = CONTROL.exec(value);
  if (c)
    return `contains the control character U+${c[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at offset ${c.index}`;
  if (value.normalize('NFC') !== value)
    return 'is not in Unicode NFC (it may look like another identity)';
  return undefined;
}

/** What `.` in a pattern does not match. */
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

/**
 * What follows `scheme://host/` in `uri` (one of `schemes`, a non-empty host), or undefined.
 * These URL readers are written out rather than as patterns: their input is a certificate's
 * extension values, and a backtracking pattern over them (`(.+?)\/*$` was one) costs the
 * square of their length.
 */
function pathAfterHost(uri: string, schemes: readonly string[]): string | undefined {
  const scheme = schemes.find((p) => uri.startsWith(p));
  if (scheme === undefined) return undefined;
  const slash = uri.indexOf('/', scheme.length);
  if (slash <= scheme.length) return undefined;
  return uri.slice(slash + 1);
}

/** The path of an http(s) URL without the leading and trailing slashes ("owner/repo"), or undefined. */
export function urlPath(uri: string | undefined): string | undefined {
  const path = uri === undefined ? undefined : pathAfterHost(uri, ['http://', 'https://']);
  if (!path || LINE_TERMINATOR.test(path)) return undefined;
  // At least one character is kept: "https://host///" gives "/".
  return withoutTrailing(path, '/') || '/';
}

/** GitLab's ci_config_ref_uri shape: https://host/group/project//path/.gitlab-ci.yml@ref. */
export function isGitlabConfigRef(uri: string): boolean {
  const path = pathAfterHost(uri, ['https://']);
  if (path === undefined) return false;
  const line = path.split(LINE_TERMINATOR, 1)[0]!;
  const pathsJoin = line.indexOf('//', 1);
  return pathsJoin > 0 && line.indexOf('@', pathsJoin + 3) > 0;
}

/** Which CI platform's extensions these are, from their shape (the issuer URL may be a private one). */
export function detectPlatform(cert: Certificate): CiPlatformName | undefined {
  const ext = (n: string) => fulcioExtensionValue(cert, n);
  let issuer: string | undefined;
  try {
    issuer = oidcIssuer(cert);
  } catch {
    issuer = undefined;
  }
  if (
    ext('github-workflow-repository') !== undefined ||
    issuer === 'https://token.actions.githubusercontent.com'
  )
    return 'github';
  const config = ext('build-config-uri') ?? ext('build-signer-uri');
  // GitLab's ci_config_ref_uri: host/group/project//path/.gitlab-ci.yml@ref
  if (
    (config !== undefined && isGitlabConfigRef(config)) ||
    /\/-\/jobs\/\d+$/.test(ext('run-invocation-uri') ?? '')
  )
    return 'gitlab';
  if (ext('source-repository-uri') !== undefined && ext('source-repository-ref') !== undefined)
    return 'gitea';
  return undefined;
}

/** The platform's default subject, derived from the other Fulcio extensions. */
export function derivedSubject(cert: Certificate): IdentityCandidate | undefined {
  const platform = detectPlatform(cert);
  if (!platform) return undefined;
  const ext = (n: string) => fulcioExtensionValue(cert, n);
  const from: string[] = [];
  const pick = (...names: string[]): string | undefined => {
    for (const n of names) {
      const v = ext(n);
      if (v !== undefined && v !== '') {
        from.push(n);
        return v;
      }
    }
    return undefined;
  };
  const repoFromUri = (): string | undefined => {
    const p = urlPath(ext('source-repository-uri'));
    if (p !== undefined) from.push('source-repository-uri');
    return p;
  };
  const label = { github: 'GitHub', gitlab: 'GitLab', gitea: 'Gitea' }[platform];
  let value: string | undefined;
  switch (platform) {
    case 'github': {
      const repo = pick('github-workflow-repository') ?? repoFromUri();
      if (repo === undefined) return undefined;
      const env = pick('deployment-environment');
      if (env !== undefined) {
        value = `repo:${repo}:environment:${env}`;
        break;
      }
      const trigger = pick('build-trigger', 'github-workflow-trigger');
      if (trigger === 'pull_request' || trigger === 'pull_request_target') {
        value = `repo:${repo}:pull_request`;
        break;
      }
      if (trigger !== undefined) from.pop();
      const ref = pick('source-repository-ref', 'github-workflow-ref');
      if (ref === undefined) return undefined;
      value = `repo:${repo}:ref:${ref}`;
      break;
    }
    case 'gitlab': {
      const project = repoFromUri();
      const ref = pick('source-repository-ref');
      if (project === undefined || ref === undefined) return undefined;
      const m = /^refs\/(heads|tags)\/(.+)$/.exec(ref);
      if (!m) return undefined;
      value = `project_path:${project}:ref_type:${m[1] === 'heads' ? 'branch' : 'tag'}:ref:${m[2]}`;
      break;
    }
    case 'gitea': {
      const repo = repoFromUri();
      const ref = pick('source-repository-ref');
      if (repo === undefined || ref === undefined) return undefined;
      value = `${repo}:ref:${ref}`;
      break;
    }
  }
  return { field: `derived subject (${label})`, value, derived: { platform, from } };
}

/** Every identity value `cert` offers, labelled; unusable ones say why. */
export function identityCandidates(cert: Certificate): IdentityCandidate[] {
  const out: IdentityCandidate[] = certificateIdentities(cert).map((c) => ({ ...c }));
  if (!cert.fulcio.values.has(OID.fulcioSubject)) {
    const d = derivedSubject(cert);
    if (d) out.push(d);
  }
  for (const c of out) {
    const why = unusableIdentityReason(c.value);
    if (why) c.unusable = why;
  }
  return out;
}
