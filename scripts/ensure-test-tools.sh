#!/usr/bin/env bash
# Installs the Debian packages the registry tests use, when absent (run by `npm test`'s pretest
# step and so by .ci/run): docker-registry (the CNCF distribution registry, run on loopback by
# test/helpers/registry.ts), apache2-utils (htpasswd, for the registry's bcrypt password file) and
# chromium (the headless browser test/commands/attest/shipment-report-browser.test.ts renders the
# shipment report in, driven by playwright-core), zsh and fish (test/commands/completion.test.ts
# runs `stella autocomplete zsh` and `fish`'s scripts in them), bsdutils (`script`, the
# pseudo-terminal test/commands/terminal-password.test.ts types a key's password on). Idempotent and quick when all are there. As root it uses apt-get; otherwise sudo without a
# password; otherwise it installs nothing and says so — the registry tests then run as declared
# skips naming the missing tool (and so do the browser test without /usr/bin/chromium and the
# zsh and fish completion tests without /usr/bin/zsh or /usr/bin/fish).
set -u
need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/zsh ] || need+=(zsh)
[ -x /usr/bin/fish ] || need+=(fish)
[ -x /usr/bin/script ] || need+=(bsdutils)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  run=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
  run=(sudo -n)
else
  echo "ensure-test-tools: ${need[*]} missing and not root (no passwordless sudo): the tests needing them will be skipped" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-test-tools: ${need[*]} missing and no apt-get: the tests needing them will be skipped" >&2
  exit 0
fi
echo "ensure-test-tools: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! "${run[@]}" apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1; then
  "${run[@]}" apt-get update >/dev/null 2>&1 || true
  "${run[@]}" apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
    || echo "ensure-test-tools: could not install ${need[*]}: the tests needing them will be skipped" >&2
fi
exit 0
