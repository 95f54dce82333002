/**
 * How broad an identity pattern is, decided by what it matches, not by how it is spelled
 * (the seed: "Never accept wildcards that could match any repository").
 *
 * The compiled pattern is run against synthetic identities in every form a CI certificate
 * offers — GitHub, GitLab and Gitea subjects (ref, environment and pull-request forms) and
 * their SAN URIs — for owners and repositories nobody chose: random names, and random names
 * glued to the words the pattern itself contains (`myorgq7k2x`, an owner anyone could
 * register next to `myorg`). Deterministic: the random names are drawn from a generator
 * seeded by the pattern.
 *
 * - broad: it matches an identity of such an unrelated owner (`.*`, `repo:.*`,
 *   `project_path:.*`, `[^/]+/[^:]+:.*`, `repo:my.*`, `https://github\.com/.*`, …). Refused
 *   unless the user says --allow-broad-identity (allowBroadIdentity in a policy file).
 * - owner-wide: it fixes the owner but matches random repositories of it (the seed's
 *   "Organization-Wide Trust"), or fixes a mail domain but matches random mailboxes at it
 *   (`.*@example\.com`: anyone the domain gives a mailbox signs; `mailboxes`). Verifies with a
 *   warning.
 * - any-ref: it fixes the repository but matches random branches, tags or environments of it
 *   (the seed's "Any ref" and "Any branch" rows). Verifies with a warning.
 */
import { sha256 } from '../crypto.js';
import { utf8 } from '../util/encoding.js';
import type { IdentityMatcher } from './identity-pattern.js';
import { quoted, withoutTrailing } from '../util/text.js';

export type IdentityBreadth =
  | { kind: 'broad'; example: string }
  | { kind: 'owner-wide'; owner: string; example: string; mailboxes?: true }
  | { kind: 'any-ref'; repository: string; example: string }
  | { kind: 'narrow' };

/**
 * A small deterministic generator (xorshift32) seeded from the pattern. A name is 1 to 10
 * characters long, or `length` when given, so a pattern that bounds a name's length
 * (`[a-z]{1,5}`) still meets names it admits. A name equal to one of `pinned` (the pattern's
 * own words) is made longer: a name the pattern chose is not one nobody chose.
 */
function generator(seedText: string, pinned: ReadonlySet<string>): (length?: number) => string {
  const h = sha256(utf8.encode(seedText));
  let s = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const alnum = `${letters}0123456789`;
  const draw = (length: number | undefined): string => {
    let out = letters[next() % 26]!;
    const len = length ?? 1 + (next() % 10);
    while (out.length < len) out += alnum[next() % alnum.length]!;
    return out;
  };
  return (length) => {
    let out = draw(length);
    // One character more until it is not a word of the pattern. Drawing again instead could
    // loop forever on a pattern that lists every name of a length (all 936 two-character ones).
    while (pinned.has(out)) out += alnum[next() % alnum.length]!;
    return out;
  };
}

/** The pattern with its escapes resolved (`\\.` is `.`): the text its literal parts spell. */
function unescaped(pattern: string): string {
  return pattern.replace(/\\(.)/g, '$1');
}

/**
 * Literal words in the pattern (escapes resolved): the names it pins. Never empty: a word
 * starts with a letter or digit, and only trailing dots and hyphens are cut.
 */
function literalWords(text: string): string[] {
  const words = new Set<string>();
  for (const m of text.matchAll(/[A-Za-z0-9][A-Za-z0-9_.-]*/g))
    words.add(withoutTrailing(m[0], '.-'));
  return [...words];
}

/**
 * The hosts the pattern names, for the SAN URI forms: its dotted words (`gitea.example.com`),
 * and what it spells between each `://` and the next `/`, port included, alternatives split:
 * so a self-hosted forge on a port (`https://gitea\.example\.com:3000/.*`) or on hosts without
 * a dot (`https?://(git|forge)/.*`) is searched as well; and UNNAMED_HOSTS when a host there is
 * not spelled out.
 */
function hostsOf(text: string, words: string[]): string[] {
  const hosts = new Set(words.filter((w) => w.includes('.') && !w.startsWith('refs')));
  for (const m of text.matchAll(/:\/\/([^/]*)\//g))
    for (const alternative of m[1]!.replace(/\(\?:|[()]/g, '').split('|'))
      if (/^[A-Za-z0-9][A-Za-z0-9.-]*(?::[0-9]+)?$/.test(alternative)) hosts.add(alternative);
      else for (const host of UNNAMED_HOSTS) hosts.add(host);
  return [...hosts];
}

const DEFAULT_HOSTS = { github: 'github.com', gitlab: 'gitlab.com', gitea: 'gitea.com' };
/**
 * Forges nobody named, reached by a short name on an internal network, searched when a host
 * of the pattern is not spelled out (`https://[a-z]+/.*`, `https://[^/]+:[0-9]+/.*`): such a
 * pattern admits any of them, and every default host above has a dot, so it was judged narrow
 * without these. A pattern whose hosts are all spelled out does not pay for them.
 */
const UNNAMED_HOSTS = ['git', 'git:3000'];

/** Every identity form for one repository at one ref. */
function identitiesFor(
  owner: string,
  repo: string,
  ref: string,
  env: string,
  hosts: string[],
): string[] {
  const m = /^refs\/(heads|tags)\/(.+)$/.exec(ref)!;
  const refType = m[1] === 'heads' ? 'branch' : 'tag';
  const out = [
    `repo:${owner}/${repo}:ref:${ref}`,
    `repo:${owner}/${repo}:environment:${env}`,
    `repo:${owner}/${repo}:pull_request`,
    `project_path:${owner}/${repo}:ref_type:${refType}:ref:${m[2]}`,
    `${owner}/${repo}:ref:${ref}`,
    `${owner}/${repo}:environment:${env}`,
  ];
  for (const host of [DEFAULT_HOSTS.github, DEFAULT_HOSTS.gitea, ...hosts])
    out.push(`https://${host}/${owner}/${repo}/.github/workflows/release.yml@${ref}`);
  for (const host of [DEFAULT_HOSTS.gitea, ...hosts])
    out.push(`https://${host}/${owner}/${repo}/.gitea/workflows/release.yml@${ref}`);
  for (const host of [DEFAULT_HOSTS.gitlab, ...hosts])
    out.push(`https://${host}/${owner}/${repo}//.gitlab-ci.yml@${ref}`);
  return out;
}

/**
 * How broad `matcher` is (see the module comment). A fixed-width pattern (a literal, or with
 * `.` wildcards: matcher.couldContain) matches only values of its width, so the identities of
 * an owner/repository it cannot contain are not built or tested: every identity form contains
 * `owner/repo` (emails `owner@`). The random names are still drawn in the same order, so the
 * verdict is the one the full search gives. Each owner's random refs are drawn once, for all
 * its repositories: the draws are what a cold process pays for (about 2,000 fewer names).
 */
export function identityBreadth(matcher: IdentityMatcher): IdentityBreadth {
  // A plain literal matches one identity, so it pins the owner, the repository and the ref:
  // narrow by construction. (The search could only find it among identities built from names
  // drawn from its own hash.) Skipping the search saves a cold `attest verify` several ms.
  if (matcher.literal !== undefined) return { kind: 'narrow' };
  const mayMatch = matcher.couldContain ?? ((): boolean => true);
  const text = unescaped(matcher.pattern);
  const pinned = literalWords(text);
  // The search is built from the first 16 words; a random name avoids all of them.
  const words = pinned.slice(0, 16);
  const rand = generator(matcher.pattern, new Set(pinned));
  const hosts = hostsOf(text, words);
  // A branch or tag nobody chose does not start with `v`: `v…` is the version-name convention
  // the seed's "Version tags" row trusts (`refs/tags/v.*`), so it is not reported as any-ref.
  const refName = (length?: number): string => {
    let name = rand(length);
    while (name.startsWith('v')) name = rand(length);
    return name;
  };
  const refsFor = (): string[] => [
    'refs/heads/main',
    `refs/heads/${refName()}`,
    'refs/tags/v1.2.3',
    `refs/tags/${refName()}`,
  ];
  const first = (ids: string[]): string | undefined => ids.find((id) => matcher.test(id));

  // 1. Unrelated owners: random, and random glued to each word of the pattern.
  const owners: string[] = [rand(), rand()];
  for (const w of words) owners.push(`${w}${rand()}`, `${rand()}${w}`, `${rand()}-${w}`);
  const repos = [rand(), ...words];
  for (const owner of owners) {
    const refs = refsFor();
    for (const repo of repos) {
      if (!mayMatch(`${owner}/${repo}`)) continue;
      for (const ref of refs) {
        const hit = first(identitiesFor(owner, repo, ref, 'production', hosts));
        if (hit) return { kind: 'broad', example: hit };
      }
    }
    const domain = rand();
    const email = mayMatch(`${owner}@`)
      ? first([`${owner}@${domain}.com`, `${owner}@gmail.com`, `${owner}@users.noreply.github.com`])
      : undefined;
    if (email) return { kind: 'broad', example: email };
  }
  // 2. A fixed owner (a word of the pattern), any repository of it: a random one, and one of
  // two characters for a pattern that admits short names only.
  for (const owner of words) {
    for (const ref of refsFor()) {
      for (const repo of [rand(), rand(2)]) {
        if (!mayMatch(`${owner}/${repo}`)) continue;
        const hit = first(identitiesFor(owner, repo, ref, 'production', hosts));
        if (hit) return { kind: 'owner-wide', owner, example: hit };
      }
    }
  }
  // 2b. A fixed mail domain (a dotted word of the pattern), any mailbox at it: a random one,
  // and a one-letter one for a pattern that admits letters only.
  for (const domain of words.filter((w) => w.includes('.'))) {
    for (const mailbox of [`${rand()}@${domain}`, `${rand(1)}@${domain}`])
      if (mayMatch(mailbox) && matcher.test(mailbox))
        return { kind: 'owner-wide', owner: domain, example: mailbox, mailboxes: true };
  }
  // 3. A fixed repository (two adjacent words), refs nobody chose in advance: a random branch
  // and tag, and a two-character one of each.
  for (let i = 0; i + 1 < words.length; i++) {
    const [owner, repo] = [words[i]!, words[i + 1]!];
    const possible = mayMatch(`${owner}/${repo}`);
    const refs = [
      `refs/heads/${refName()}`,
      `refs/tags/${refName()}`,
      `refs/heads/${refName(2)}`,
      `refs/tags/${refName(2)}`,
    ];
    for (const ref of refs) {
      const env = rand();
      if (!possible) continue;
      const hit = first(identitiesFor(owner, repo, ref, env, hosts));
      if (hit) return { kind: 'any-ref', repository: `${owner}/${repo}`, example: hit };
    }
  }
  return { kind: 'narrow' };
}

/** The one-line description of a breadth, for errors and warnings. */
export function describeBreadth(pattern: string, b: IdentityBreadth): string {
  switch (b.kind) {
    case 'broad':
      return `identity pattern ${quoted(pattern)} matches identities of arbitrary, unrelated owners (e.g. ${quoted(b.example)}): never accept wildcards that could match any repository; pin the owner and repository, e.g. "repo:myorg/myrepo:ref:refs/heads/main"`;
    case 'owner-wide':
      if (b.mailboxes)
        return `identity pattern ${quoted(pattern)} accepts any mailbox at ${quoted(b.owner)} (e.g. ${quoted(b.example)}): organization-wide trust, use with caution`;
      return `identity pattern ${quoted(pattern)} accepts any repository of ${quoted(b.owner)} (e.g. ${quoted(b.example)}): organization-wide trust, use with caution`;
    case 'any-ref':
      return `identity pattern ${quoted(pattern)} accepts refs of ${b.repository} that nobody chose in advance (e.g. ${quoted(b.example)}): anyone who can push such a branch or tag signs as this repository; prefer a main-branch, version-tag or environment constraint for production`;
    case 'narrow':
      return `identity pattern ${quoted(pattern)} pins the repository and ref`;
  }
}
