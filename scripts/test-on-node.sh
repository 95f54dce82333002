#!/usr/bin/env bash
# Runs the README's commands (npm install, npm run demo, npm test) on another Node.js release:
#
#   npm run test:node -- 24          (or 22, 24.22.3, ...)
#
# The release comes from the npm registry, the only network this project uses: the package
# node-linux-<arch>@VERSION is Node's official build, binary and C headers, so better-sqlite3
# compiles against that release's ABI (npm_config_nodedir) with no download from nodejs.org.
# It runs in a clean clone of HEAD in a temporary directory (what is committed, not the work
# tree), with ../shared linked beside the clone when it sits beside this project, so the
# conformance tests run there as here. The clone is removed afterwards; the release is kept in
# ~/.cache/stella/node. Linux only (x64, arm64): the registry has no builds for other systems.
set -euo pipefail
want=${1:?usage: scripts/test-on-node.sh VERSION (a major such as 24, or an exact one such as 24.22.3)}
[ "$(uname -s)" = Linux ] || { echo "test-on-node: Linux only (node-linux-* packages)" >&2; exit 2; }
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "test-on-node: no node-linux package for $(uname -m)" >&2; exit 2 ;;
esac
project=$(cd "$(dirname "$0")/.." && pwd)
pkg="node-linux-$arch"
# npm prints one version for an exact match, a list (ascending) for a range such as "24".
versions=$(npm view "$pkg@$want" version --json 2>/dev/null) || versions=
version=$(printf '%s' "$versions" | node -e '
  const text = require("fs").readFileSync(0, "utf8").trim();
  const v = text === "" ? "" : JSON.parse(text);
  const last = Array.isArray(v) ? v[v.length - 1] : v;
  process.stdout.write(typeof last === "string" ? last : "");')
[ -n "$version" ] || { echo "test-on-node: no $pkg release matches \"$want\" in the npm registry" >&2; exit 2; }
cache="${XDG_CACHE_HOME:-$HOME/.cache}/stella/node/$version"
if [ ! -x "$cache/package/bin/node" ]; then
  mkdir -p "$cache"
  (cd "$cache" && npm pack --silent "$pkg@$version" >/dev/null && tar xzf "$pkg-$version.tgz" && rm "$pkg-$version.tgz")
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$project" "$work/stella"
[ -d "$project/../shared" ] && ln -s "$(cd "$project/../shared" && pwd)" "$work/shared"
cd "$work/stella"
export PATH="$cache/package/bin:$PATH" npm_config_nodedir="$cache/package"
echo "test-on-node: $(node --version) (OpenSSL $(node -p process.versions.openssl)) in $work/stella" >&2
npm install
npm run demo
npm test
