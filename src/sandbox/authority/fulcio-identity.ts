/**
 * Fulcio's mapping from verified OIDC claims to certificate content: the SAN, the Sigstore
 * extensions (1.3.6.1.4.1.57264.1.*) and the proof-of-possession challenge. Mirrors Fulcio's
 * identity config (config/identity/config.yaml: the github-workflow and gitlab-pipeline CI
 * provider templates) and docs/oid-info.md.
 *
 * Gitea has no Fulcio template upstream. Its Actions tokens carry GitHub-style claims, so the
 * GitHub template is applied with the forge's own URL: SAN = SERVER/OWNER/REPO/WORKFLOW@REF
 * from `workflow_ref` (or the repository URL when that claim is absent).
 */
import { fail } from '../../errors.js';
import type { OidcClaims } from './oidc.js';
import { withoutTrailing } from '../../util/text.js';

export type FulcioIdentityKind =
  'github-workflow' | 'gitlab-pipeline' | 'gitea-workflow' | 'email' | 'uri';

export interface FulcioIdentity {
  kind: FulcioIdentityKind;
  san: { type: 'uri' | 'email'; value: string };
  /** Fulcio string extensions as (OID, value) in OID order; `fulcioExtension` encodes each. */
  extensions: Array<{ oid: string; value: string }>;
  /** What the client must sign to prove possession: the email for email tokens, else `sub`. */
  challenge: string;
}

const F = (n: number): string => `1.3.6.1.4.1.57264.1.${n}`;

function str(claims: Record<string, unknown>, name: string): string | undefined {
  const v = claims[name];
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function need(claims: Record<string, unknown>, name: string, kind: string): string {
  const v = str(claims, name);
  if (v === undefined)
    fail('FULCIO_REJECTED', 'signing', `Fulcio: ${kind} token lacks the "${name}" claim`);
  return v;
}

/** Which template applies. Explicit per-issuer config wins; otherwise the claim shape decides. */
export function detectIdentityKind(claims: Record<string, unknown>): FulcioIdentityKind {
  const sub = str(claims, 'sub') ?? '';
  if (str(claims, 'job_workflow_ref') !== undefined && sub.startsWith('repo:'))
    return 'github-workflow';
  if (str(claims, 'ci_config_ref_uri') !== undefined && str(claims, 'project_path') !== undefined)
    return 'gitlab-pipeline';
  const repo = str(claims, 'repository');
  if (repo !== undefined && str(claims, 'workflow_ref') !== undefined && sub.startsWith(`${repo}:`))
    return 'gitea-workflow';
  if (str(claims, 'email') !== undefined) return 'email';
  return 'uri';
}

export interface IdentityOptions {
  /** The forge's web URL for the CI templates; default from the kind (https://github.com, ...). */
  serverUrl?: string;
  kind?: FulcioIdentityKind;
  /** Leave out the OIDC subject extension (.24), as Fulcio before v1.8.6 did. */
  omitSubject?: boolean;
}

/** Adds Sigstore extension 1.3.6.1.4.1.57264.1.n when there is a value for it. */
type AddExtension = (n: number, value: string | undefined) => void;

/** What a template gives besides its extensions: the SAN, and the challenge when it is not `sub`. */
interface Template {
  san: FulcioIdentity['san'];
  challenge?: string;
}

/** Fulcio's github-workflow template: SAN = the job's workflow file at its ref. */
function githubWorkflow(
  claims: OidcClaims,
  issuerUrl: string,
  serverUrl: string | undefined,
  add: AddExtension,
): Template {
  const url = withoutTrailing(serverUrl ?? 'https://github.com', '/');
  const jobWorkflowRef = need(claims, 'job_workflow_ref', 'GitHub');
  const repository = need(claims, 'repository', 'GitHub');
  const owner = str(claims, 'repository_owner');
  const workflowRef = str(claims, 'workflow_ref');
  // Deprecated GitHub-specific extensions (.2-.6), still issued by Fulcio.
  add(2, str(claims, 'event_name'));
  add(3, str(claims, 'sha'));
  add(4, str(claims, 'workflow'));
  add(5, repository);
  add(6, str(claims, 'ref'));
  add(8, issuerUrl);
  add(9, `${url}/${jobWorkflowRef}`);
  add(10, str(claims, 'job_workflow_sha'));
  add(11, str(claims, 'runner_environment'));
  add(12, `${url}/${repository}`);
  add(13, str(claims, 'sha'));
  add(14, str(claims, 'ref'));
  add(15, str(claims, 'repository_id'));
  add(16, owner !== undefined ? `${url}/${owner}` : undefined);
  add(17, str(claims, 'repository_owner_id'));
  add(18, workflowRef !== undefined ? `${url}/${workflowRef}` : undefined);
  add(19, str(claims, 'workflow_sha'));
  add(20, str(claims, 'event_name'));
  const runId = str(claims, 'run_id');
  const attempt = str(claims, 'run_attempt');
  add(
    21,
    runId !== undefined && attempt !== undefined
      ? `${url}/${repository}/actions/runs/${runId}/attempts/${attempt}`
      : undefined,
  );
  add(22, str(claims, 'repository_visibility'));
  add(23, str(claims, 'environment'));
  return { san: { type: 'uri', value: `${url}/${jobWorkflowRef}` } };
}

/** Fulcio's gitlab-pipeline template: SAN = the CI config file at its ref. */
function gitlabPipeline(
  claims: OidcClaims,
  issuerUrl: string,
  serverUrl: string | undefined,
  add: AddExtension,
): Template {
  const configRefUri = need(claims, 'ci_config_ref_uri', 'GitLab');
  const projectPath = need(claims, 'project_path', 'GitLab');
  const url = withoutTrailing(serverUrl ?? `https://${configRefUri.split('/')[0]}`, '/');
  const ref = str(claims, 'ref');
  const refType = str(claims, 'ref_type');
  const namespace = str(claims, 'namespace_path');
  const jobId = str(claims, 'job_id');
  add(8, issuerUrl);
  add(9, `https://${configRefUri}`);
  add(10, str(claims, 'ci_config_sha'));
  add(11, str(claims, 'runner_environment'));
  add(12, `${url}/${projectPath}`);
  add(13, str(claims, 'sha'));
  add(14, ref !== undefined ? `refs/${refType === 'branch' ? 'heads' : 'tags'}/${ref}` : undefined);
  add(15, str(claims, 'project_id'));
  add(16, namespace !== undefined ? `${url}/${namespace}` : undefined);
  add(17, str(claims, 'namespace_id'));
  add(18, `https://${configRefUri}`);
  add(19, str(claims, 'ci_config_sha'));
  add(20, str(claims, 'pipeline_source'));
  add(21, jobId !== undefined ? `${url}/${projectPath}/-/jobs/${jobId}` : undefined);
  add(22, str(claims, 'project_visibility'));
  add(23, str(claims, 'environment'));
  return { san: { type: 'uri', value: `https://${configRefUri}` } };
}

/** The GitHub template with the forge's own URL (Gitea has no upstream template). */
function giteaWorkflow(
  claims: OidcClaims,
  issuerUrl: string,
  serverUrl: string | undefined,
  add: AddExtension,
): Template {
  const url = withoutTrailing(serverUrl ?? str(claims, 'server_url') ?? 'https://gitea.com', '/');
  const repository = need(claims, 'repository', 'Gitea');
  const owner = str(claims, 'repository_owner');
  const workflowRef = str(claims, 'workflow_ref');
  const signer = workflowRef !== undefined ? `${url}/${workflowRef}` : `${url}/${repository}`;
  add(8, issuerUrl);
  add(9, signer);
  add(11, str(claims, 'runner_environment'));
  add(12, `${url}/${repository}`);
  add(13, str(claims, 'sha'));
  add(14, str(claims, 'ref'));
  add(16, owner !== undefined ? `${url}/${owner}` : undefined);
  add(18, signer);
  add(19, str(claims, 'sha'));
  add(20, str(claims, 'event_name'));
  const runId = str(claims, 'run_id');
  add(21, runId !== undefined ? `${url}/${repository}/actions/runs/${runId}` : undefined);
  add(23, str(claims, 'environment'));
  return { san: { type: 'uri', value: signer } };
}

/** An email token: only with email_verified, and the email is what the client signs. */
function emailIdentity(claims: OidcClaims, issuerUrl: string, add: AddExtension): Template {
  const email = need(claims, 'email', 'email');
  if (claims['email_verified'] !== true)
    fail(
      'FULCIO_REJECTED',
      'signing',
      'Fulcio: email not verified by the issuer (email_verified is not true)',
    );
  add(8, issuerUrl);
  return { san: { type: 'email', value: email }, challenge: email };
}

/** Any other token: its subject must be a URI. */
function uriIdentity(sub: string, issuerUrl: string, add: AddExtension): Template {
  let ok: boolean;
  try {
    ok = /^[a-z][a-z0-9+.-]*:/i.test(sub) && new URL(sub).protocol.length > 1;
  } catch {
    ok = false;
  }
  if (!ok)
    fail(
      'FULCIO_REJECTED',
      'signing',
      `Fulcio: cannot derive a certificate identity from subject "${sub}" (not a CI token, email or URI)`,
    );
  add(8, issuerUrl);
  return { san: { type: 'uri', value: sub } };
}

export function fulcioIdentity(
  claims: OidcClaims,
  issuerUrl: string,
  opts: IdentityOptions = {},
): FulcioIdentity {
  const kind = opts.kind ?? detectIdentityKind(claims);
  const sub = claims.sub;
  const ext: Array<{ oid: string; value: string }> = [];
  const add: AddExtension = (n, value) => {
    if (value !== undefined && value !== '') ext.push({ oid: F(n), value });
  };
  add(1, issuerUrl);
  const template = ((): Template => {
    switch (kind) {
      case 'github-workflow':
        return githubWorkflow(claims, issuerUrl, opts.serverUrl, add);
      case 'gitlab-pipeline':
        return gitlabPipeline(claims, issuerUrl, opts.serverUrl, add);
      case 'gitea-workflow':
        return giteaWorkflow(claims, issuerUrl, opts.serverUrl, add);
      case 'email':
        return emailIdentity(claims, issuerUrl, add);
      case 'uri':
        return uriIdentity(sub, issuerUrl, add);
    }
  })();
  if (!opts.omitSubject) add(24, sub);
  return { kind, san: template.san, extensions: ext, challenge: template.challenge ?? sub };
}
