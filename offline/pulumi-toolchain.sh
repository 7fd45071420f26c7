#!/usr/bin/env bash
# Builds the Pulumi toolchain on machines that reach neither get.pulumi.com nor GitHub, only the Go
# module proxy: the CLI from its tagged Go module, the Node.js language host and the docker,
# postgresql and command provider plugins from the vendored upstream sources (offline/vendor.sh).
#
#   offline/pulumi-toolchain.sh [--rebuild]
#
# The LAST line on stdout is the bin dir to put first on PATH (the engine uses plugins it finds
# there, without downloading); progress goes to stderr:
#   export PATH="$(offline/pulumi-toolchain.sh | tail -n1):$PATH"
#
# | binary                        | from                                                      |
# | pulumi                        | github.com/pulumi/pulumi/pkg/v3 @ v<@pulumi/pulumi pin>    |
# | pulumi-resource-pulumi-nodejs | the sdk/v3 module at that tag (dynamic providers)          |
# | pulumi-language-nodejs        | pulumi-language-nodejs-3.259.0.tar.gz                      |
# | pulumi-resource-command       | pulumi-command-1.2.1.tar.gz                                |
# | pulumi-resource-docker        | pulumi-docker-5.1.0.tar.gz + terraform-provider-docker-*   |
# | pulumi-resource-postgresql    | pulumi-postgresql-3.18.0.tar.gz + terraform-provider-postgresql-* |
#
# Each binary is cached on its own under $TRM_TOOLCHAIN_DIR/parts (default ~/.cache/trm/pulumi-toolchain),
# keyed by version, the sha256 of its archives, the Go version and platform: a machine builds each
# once, and an interrupted run rebuilds only what is missing. Builds happen in a temp dir and are
# renamed into place, so the cache never holds half a binary. MANIFEST beside the bin dir records every
# version, its source and each skew against the npm pins in package.json.
# Go: the local toolchain (GOTOOLCHAIN=local), modules from the Go proxy, go.mod/go.sum as shipped.
set -euo pipefail

SCRIPT_REV=2
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
# shellcheck source=offline/vendor.sh
source "$HERE/vendor.sh"

# name|plugin version|archives (first: the Pulumi sources; second: the upstream terraform provider)
VENDORED=(
  "language-nodejs|3.259.0|pulumi-language-nodejs-3.259.0.tar.gz"
  "command|1.2.1|pulumi-command-1.2.1.tar.gz"
  "postgresql|3.18.0|pulumi-postgresql-3.18.0.tar.gz terraform-provider-postgresql-ff936b9548c1.tar.gz"
  "docker|5.1.0|pulumi-docker-5.1.0.tar.gz terraform-provider-docker-5074970c71ce.tar.gz"
)

T0=$(date +%s)
log() { printf '[pulumi-toolchain +%ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

REBUILD=0
for arg in "$@"; do
  case "$arg" in
    --rebuild) REBUILD=1 ;;
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
unpack() { # <archive file name> <dest>: the archive's single top folder becomes <dest>
  mkdir -p "$2"
  tar -xzf "$(vendor_archive "$1")" -C "$2" --strip-components=1
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

build_dynamic_provider_script() {
  local dir
  dir=$(mod_field "github.com/pulumi/pulumi/sdk/v3@v$3" Dir) || return 1
  install -m 0755 "$dir/nodejs/dist/pulumi-resource-pulumi-nodejs" "$2"
}

build_language-nodejs() {
  local ws=$1 out=$2 v=$3 src="$1/src/sdk/nodejs/cmd/pulumi-language-nodejs"
  unpack "pulumi-language-nodejs-$v.tar.gz" "$ws/src"
  # the monorepo's ../ replaces become the tagged pkg/v3 and sdk/v3 modules
  (cd "$src" && go mod edit -dropreplace=github.com/pulumi/pulumi/pkg/v3 -dropreplace=github.com/pulumi/pulumi/sdk/v3 \
    -require="github.com/pulumi/pulumi/pkg/v3@v$v" -require="github.com/pulumi/pulumi/sdk/v3@v$v")
  GOFLAGS="$GOFLAGS -mod=mod" go_build "$src" "$out" . "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v"
}

build_command() {
  local ws=$1 out=$2 v=$3
  unpack "pulumi-command-$v.tar.gz" "$ws/src"
  go_build "$ws/src/provider" "$out" ./cmd/pulumi-resource-command "github.com/pulumi/pulumi-command/provider/pkg/version.Version=v$v"
}

# A bridged terraform provider: the upstream submodule beside provider/, Pulumi's patches applied to
# it, the embedded schema generated by the provider's own generate.go (as `make schema_embed` does).
build_bridged() { # <ws> <out> <version> <name> <module major> <pulumi archive> <upstream archive> [build flags...]
  local ws=$1 out=$2 v=$3 name=$4 major=$5 pulumi_archive=$6 upstream_archive=$7; shift 7
  local module="github.com/pulumi/pulumi-$name/provider/v$major" patch
  unpack "$pulumi_archive" "$ws/src"
  unpack "$upstream_archive" "$ws/src/upstream"
  for patch in "$ws"/src/patches/*.patch; do
    [ -e "$patch" ] || continue
    (cd "$ws/src/upstream" && git apply --whitespace=nowarn "$patch") || { log "[$name] patch $(basename "$patch") does not apply"; return 1; }
  done
  VERSION=$v in_dir "$ws/src/provider/cmd/pulumi-resource-$name" go run ./generate.go || return 1
  go_build "$ws/src/provider" "$out" "$module/cmd/pulumi-resource-$name" "$module/pkg/version.Version=$v" "$@"
}
build_postgresql() {
  build_bridged "$1" "$2" "$3" postgresql 3 "pulumi-postgresql-$3.tar.gz" terraform-provider-postgresql-ff936b9548c1.tar.gz
}
build_docker() {
  build_bridged "$1" "$2" "$3" docker 5 "pulumi-docker-$3.tar.gz" terraform-provider-docker-5074970c71ce.tar.gz -tags no_compose
}

# --- parts ---------------------------------------------------------------------------------
declare -A PART_DIR PART_NOTE
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
PART_NOTE[cli]="github.com/pulumi/pulumi/pkg/v3@v$CLI_VERSION (Go module proxy)"
part dynamic_provider_script "$CLI_VERSION" pulumi-resource-pulumi-nodejs "github.com/pulumi/pulumi/sdk/v3@v$CLI_VERSION"
PART_NOTE[dynamic_provider_script]="github.com/pulumi/pulumi/sdk/v3@v$CLI_VERSION nodejs/dist"

declare -A PLUGIN_VERSION
for entry in "${VENDORED[@]}"; do
  IFS='|' read -r name version archives <<<"$entry"
  sums=""
  for a in $archives; do sums+="$a=$(vendor_sha "$a") " || exit 1; done
  bin=pulumi-resource-$name
  [ "$name" = language-nodejs ] && bin=pulumi-language-nodejs
  part "$name" "$version" "$bin" "$sums"
  PLUGIN_VERSION[$name]=$version
  PART_NOTE[$name]="vendored ${archives// / + }"
done

# --- assemble the bin dir (hard links into parts/), keyed by every part ---------------------
names=(cli dynamic_provider_script language-nodejs command postgresql docker)
key=$(for n in "${names[@]}"; do echo "${PART_DIR[$n]}"; done | sha256sum | cut -c1-12)
final="$CACHE_ROOT/pulumi-$CLI_VERSION-$key"
if [ "$REBUILD" = 1 ] || [ ! -f "$final/MANIFEST" ]; then
  stage=$(mktemp -d "$CACHE_ROOT/.stage.XXXXXX")
  chmod 0755 "$stage"
  mkdir "$stage/bin"
  for n in "${names[@]}"; do cp -pl "${PART_DIR[$n]}"/* "$stage/bin/" 2>/dev/null || cp -p "${PART_DIR[$n]}"/* "$stage/bin/"; done
  {
    echo "# Pulumi toolchain built by offline/pulumi-toolchain.sh (rev $SCRIPT_REV, $PLAT)"
    echo "cli=$CLI_VERSION ${PART_NOTE[cli]}"
    echo "dynamic-provider-script=$CLI_VERSION ${PART_NOTE[dynamic_provider_script]}"
    for n in language-nodejs command postgresql docker; do echo "$n=${PLUGIN_VERSION[$n]} ${PART_NOTE[$n]}"; done
    echo "# skews against package.json (the engine warns and uses the plugin on PATH):"
    [ "${PLUGIN_VERSION[language-nodejs]}" = "$CLI_VERSION" ] ||
      echo "skew=language host ${PLUGIN_VERSION[language-nodejs]} < CLI $CLI_VERSION (the newest tag the vendored sources reach)"
    for n in command postgresql docker; do
      pin=$(npm_pin "@pulumi/$n")
      [ "$pin" = "${PLUGIN_VERSION[$n]}" ] || echo "skew=@pulumi/$n $pin on npm, plugin ${PLUGIN_VERSION[$n]}"
    done
  } >"$stage/MANIFEST"
  "$stage/bin/pulumi" version >/dev/null || die "the built pulumi does not run"
  rm -rf "$final"
  mv -T "$stage" "$final"
fi
grep '^skew=' "$final/MANIFEST" | sed 's/^skew=/skew: /' | while read -r line; do log "$line"; done
log "ready: $final/bin (PATH it first; PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true)"
echo "$final/bin"
