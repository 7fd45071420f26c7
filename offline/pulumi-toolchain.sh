#!/usr/bin/env bash
# Builds the Pulumi CLI on machines that reach neither get.pulumi.com nor GitHub, only the Go module
# proxy: the CLI from its tagged Go module (github.com/pulumi/pulumi/pkg/v3 at the @pulumi/pulumi pin),
# with our own dynamic-provider host script (offline/pulumi-resource-pulumi-nodejs) beside it.
# No language host and no provider plugins: the registries serve neither. The scripts run the program
# inline through the Automation API (no language host needed); the docker, postgresql and command
# plugins must be installed into Pulumi's plugin cache (`pulumi plugin install resource NAME VERSION
# --file FILE`, see README.md) or downloaded by the engine on a machine with internet.
#
#   offline/pulumi-toolchain.sh [--rebuild | --cached-only]
#
# --cached-only prints the bin dir only when the CLI is built already, else exits 3 (builds nothing).
#
# The LAST line on stdout is the bin dir to put first on PATH; progress goes to stderr:
#   export PATH="$(offline/pulumi-toolchain.sh | tail -n1):$PATH"
#
# The CLI is cached under $TRM_TOOLCHAIN_DIR/parts (default ~/.cache/trm/pulumi-toolchain), keyed by
# version, the Go version and platform: a machine builds it once. Builds happen in a temp dir and are
# renamed into place, so the cache never holds half a binary.
# Go: the local toolchain (GOTOOLCHAIN=local), modules from the Go proxy.
set -euo pipefail

# Part of the CLI's cache key: bump it when the way the CLI is built changes.
SCRIPT_REV=2
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"

T0=$(date +%s)
log() { printf '[pulumi-toolchain +%ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

REBUILD=0
CACHED_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --rebuild) REBUILD=1 ;;
    --cached-only) CACHED_ONLY=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown argument: $arg (see --help)" ;;
  esac
done
command -v go >/dev/null || die "go is not on PATH (Debian: apt-get install golang; the machine's Go 1.26 works)"
command -v node >/dev/null || die "node is not on PATH"

# npm_pin <package>: the exact version package.json pins.
npm_pin() {
  node -e '
    const p = require(process.argv[1]); const n = process.argv[2];
    const v = { ...p.devDependencies, ...p.dependencies }[n];
    if (!/^\d+\.\d+\.\d+$/.test(v ?? "")) { console.error(`package.json: pin ${n} to an exact x.y.z (has ${v})`); process.exit(1); }
    process.stdout.write(v);' "$REPO/package.json" "$1"
}
CLI_VERSION=$(npm_pin @pulumi/pulumi) || die "cannot read the @pulumi/pulumi pin from $REPO/package.json"

PLAT="$(go env GOOS)-$(go env GOARCH)_$(go env GOVERSION)"
CACHE_ROOT="${TRM_TOOLCHAIN_DIR:-$HOME/.cache/trm/pulumi-toolchain}"
mkdir -p "$CACHE_ROOT/parts"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-buildvcs=false"
WORK=""
CHILD=""
cleanup() {
  stop_heartbeat
  if [ -n "$WORK" ]; then chmod -R u+w "$WORK" 2>/dev/null || true; rm -rf "$WORK"; fi
}
# A line a minute while a part builds: a cold build is long, and it should never look stuck.
HEARTBEAT=""
start_heartbeat() { # <label>
  ( start=$SECONDS; while sleep 60; do log "$1: still building ($((SECONDS - start)) s)"; done ) &
  HEARTBEAT=$!
}
stop_heartbeat() {
  if [ -n "$HEARTBEAT" ]; then kill "$HEARTBEAT" 2>/dev/null || true; wait "$HEARTBEAT" 2>/dev/null || true; fi
  HEARTBEAT=""
}
trap cleanup EXIT
# go runs as a waited-for background job so that a TERM/INT to this script stops it too
trap '[ -n "$CHILD" ] && kill -TERM "$CHILD" 2>/dev/null; log "interrupted"; exit 143' TERM INT HUP
in_dir() { # <dir> <command...>
  local dir=$1 rc=0; shift
  (cd "$dir" && exec "$@") &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=""
  return "$rc"
}
go_build() { # <dir> <out> <package> <version ldflag> [build flags...]
  local dir=$1 out=$2 pkg=$3 version=$4; shift 4
  in_dir "$dir" go build -p 2 -trimpath "$@" -ldflags "-s -w -X $version" -o "$out" "$pkg"
}
# go mod download -json <module@version> | field
mod_field() {
  (cd "$WORK" && go mod download -json "$1") | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const m = JSON.parse(s); if (m.Error) { console.error(m.Error); process.exit(1); }
      process.stdout.write(String(m[process.argv[1]] ?? "")); });' "$2"
}

# --- builders: <workspace> <output binary> <version> ---------------------------------------
build_cli() {
  local ws=$1 out=$2 v=$3 gomod reps
  gomod=$(mod_field "github.com/pulumi/pulumi/pkg/v3@v$v" GoMod) || return 1
  printf 'module trm.local/pulumi-cli\n\ngo %s\n\nrequire (\n\tgithub.com/pulumi/pulumi/pkg/v3 v%s\n\tgithub.com/pulumi/pulumi/sdk/v3 v%s\n)\n' \
    "$(go mod edit -json "$gomod" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).Go))')" "$v" "$v" >"$ws/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n' >"$ws/tools.go"
  # pkg/v3's published replaces that point at modules (e.g. the clipboard fork); its ../sdk one is dropped
  reps=$(go mod edit -json "$gomod" | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      for (const r of JSON.parse(s).Replace ?? []) if (r.New.Version)
        console.log(`-replace=${r.Old.Path}${r.Old.Version ? "@" + r.Old.Version : ""}=${r.New.Path}@${r.New.Version}`); });')
  # shellcheck disable=SC2086
  [ -z "$reps" ] || (cd "$ws" && go mod edit $reps)
  GOFLAGS="$GOFLAGS -mod=mod" go_build "$ws" "$out" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v"
}

# --- parts ---------------------------------------------------------------------------------
declare -A PART_DIR
# part <name> <version> <binary> <cache-key inputs>: build into parts/ unless cached there.
part() {
  local name=$1 version=$2 bin=$3 inputs=$4
  local key dir t stage
  key=$(printf '%s|%s|%s|r%s' "$version" "$inputs" "$PLAT" "$SCRIPT_REV" | sha256sum | cut -c1-12)
  dir="$CACHE_ROOT/parts/$name@${version}_$key"
  PART_DIR[$name]=$dir
  if [ "$REBUILD" = 0 ] && [ -x "$dir/$bin" ]; then
    log "[$name] $version: cached ($dir)"
    return 0
  fi
  if [ "$CACHED_ONLY" = 1 ]; then log "[$name] $version: not built yet"; exit 3; fi
  [ -n "$WORK" ] || WORK=$(mktemp -d "${TMPDIR:-/tmp}/pulumi-toolchain.XXXXXX")
  printf 'module trm.local/probe\n\ngo 1.21\n' >"$WORK/go.mod"
  t=$(date +%s)
  stage=$(mktemp -d "$CACHE_ROOT/parts/.tmp.$name.XXXXXX")
  chmod 0755 "$stage"
  log "[$name] $version: building (a few minutes on 2 cores, cold)"
  mkdir -p "$WORK/$name"
  start_heartbeat "[$name] $version"
  if ! "build_$name" "$WORK/$name" "$stage/$bin" "$version" || [ ! -x "$stage/$bin" ]; then
    rm -rf "$stage"
    die "[$name] $version: build failed after $(($(date +%s) - t))s (output above)"
  fi
  stop_heartbeat
  rm -rf "$dir"
  mv -T "$stage" "$dir"
  log "[$name] $version: built in $(($(date +%s) - t))s ($(du -h "$dir/$bin" | cut -f1))"
}

exec 9>"$CACHE_ROOT/.lock"
flock -w 3600 9 || die "another toolchain build holds $CACHE_ROOT/.lock"
rm -rf "$CACHE_ROOT"/parts/.tmp.* "$CACHE_ROOT"/.stage.* # leftovers of interrupted runs, never used

part cli "$CLI_VERSION" pulumi "github.com/pulumi/pulumi/pkg/v3@v$CLI_VERSION"

# --- the bin dir: the CLI (a hard link into parts/) and our dynamic-provider host ----------
final="$CACHE_ROOT/pulumi-$CLI_VERSION-$(printf '%s|%s' "${PART_DIR[cli]}" "$(sha256sum <"$HERE/pulumi-resource-pulumi-nodejs")" | sha256sum | cut -c1-12)"
if [ "$REBUILD" = 1 ] || [ ! -x "$final/bin/pulumi-resource-pulumi-nodejs" ]; then
  stage=$(mktemp -d "$CACHE_ROOT/.stage.XXXXXX")
  chmod 0755 "$stage"
  mkdir "$stage/bin"
  cp -pl "${PART_DIR[cli]}/pulumi" "$stage/bin/" 2>/dev/null || cp -p "${PART_DIR[cli]}/pulumi" "$stage/bin/"
  install -m 0755 "$HERE/pulumi-resource-pulumi-nodejs" "$stage/bin/"
  "$stage/bin/pulumi" version >/dev/null || die "the built pulumi does not run"
  rm -rf "$final"
  mv -T "$stage" "$final"
fi
log "ready: $final/bin (PATH it first)"
echo "$final/bin"
