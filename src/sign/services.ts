/**
 * Which services one signing run talks to: the CA, one or more Rekor logs (all of one API
 * version) and zero or more TSAs, with their timeouts and retries. From a Sigstore signing
 * config when there is one (./signing-config.ts selects), else from signer.yaml's URL keys
 * (fulcio.url, rekor.url + rekor.majorApiVersion, tsa.url) and the --fulcio-url/--rekor-url
 * overrides.
 */
import { fail } from '../errors.js';
import { PUBLIC_GOOD_FULCIO_URL, PUBLIC_GOOD_REKOR_URL, type SignerConfig } from './config.js';
import {
  selectSigningServices,
  type SelectedServices,
  type SigningConfig,
} from './signing-config.js';
import { withoutTrailing } from '../util/text.js';

export interface Endpoint {
  url: string;
  timeoutMs: number;
  retries: number;
}

export interface ServicePlan {
  fulcio: Endpoint;
  rekor: (Endpoint & { apiVersion: 1 | 2 })[];
  tsa: Endpoint[];
  /** What the signing config's rules chose (undefined without a signing config). */
  selected: SelectedServices | undefined;
}

export interface PlanOverrides {
  fulcioUrl?: string | undefined;
  rekorUrl?: string | undefined;
}

const trim = (u: string) => withoutTrailing(u, '/');

export function planServices(
  config: SignerConfig,
  signingConfig: SigningConfig | undefined,
  overrides: PlanOverrides,
  nowMs: number,
): ServicePlan {
  if (signingConfig) {
    if (overrides.fulcioUrl !== undefined || overrides.rekorUrl !== undefined) {
      fail(
        'INPUT_INVALID',
        'input',
        '--fulcio-url and --rekor-url cannot be combined with a signing config: its caUrls and rekorTlogUrls name the services',
      );
    }
    const selected = selectSigningServices(signingConfig, nowMs);
    return {
      fulcio: {
        url: trim(selected.ca.url),
        timeoutMs: config.fulcio.timeoutMs,
        retries: config.fulcio.retries,
      },
      rekor: selected.rekor.map((s) => ({
        url: trim(s.url),
        timeoutMs: config.rekor.timeoutMs,
        retries: config.rekor.retries,
        apiVersion: selected.rekorApiVersion,
      })),
      tsa: selected.tsa.map((s) => ({
        url: s.url,
        timeoutMs: config.tsa.timeoutMs,
        retries: config.tsa.retries,
      })),
      selected,
    };
  }
  const rekorUrl = trim(overrides.rekorUrl ?? config.rekor.url);
  const fulcioUrl = trim(overrides.fulcioUrl ?? config.fulcio.url);
  if (
    fulcioUrl !== PUBLIC_GOOD_FULCIO_URL &&
    rekorUrl === PUBLIC_GOOD_REKOR_URL &&
    overrides.rekorUrl === undefined &&
    !config.rekor.explicit
  ) {
    fail(
      'CONFIG_INVALID',
      'config',
      `a private Fulcio (${fulcioUrl}) needs an explicit Rekor URL: without one, entries (and the identities in their certificates) would go to the public Rekor ${PUBLIC_GOOD_REKOR_URL}; pass --rekor-url or set rekor.url in signer.yaml (to ${PUBLIC_GOOD_REKOR_URL} if that is really meant)`,
    );
  }
  if (config.rekor.majorApiVersion === 2 && config.tsa.url === undefined) {
    fail(
      'CONFIG_INVALID',
      'config',
      'Rekor v2 gives no signed entry timestamp: signer.yaml needs tsa.url with rekor.majorApiVersion 2',
    );
  }
  return {
    fulcio: { url: fulcioUrl, timeoutMs: config.fulcio.timeoutMs, retries: config.fulcio.retries },
    rekor: [
      {
        url: rekorUrl,
        timeoutMs: config.rekor.timeoutMs,
        retries: config.rekor.retries,
        apiVersion: config.rekor.majorApiVersion ?? 1,
      },
    ],
    tsa:
      config.tsa.url === undefined
        ? []
        : [{ url: config.tsa.url, timeoutMs: config.tsa.timeoutMs, retries: config.tsa.retries }],
    selected: undefined,
  };
}

/** Does checking this plan's answers need trust material (a TSA, or a Rekor v2 log with no SET)? */
export function planNeedsTrust(plan: ServicePlan): boolean {
  return plan.tsa.length > 0 || plan.rekor.some((r) => r.apiVersion === 2);
}
