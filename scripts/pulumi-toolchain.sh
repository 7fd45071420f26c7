#!/usr/bin/env bash
# Build the Pulumi toolchain for this project from Go modules, for machines that cannot
# reach get.pulumi.com or GitHub (only the Go module proxy and npm).
#
#   scripts/pulumi-toolchain.sh [--install-plugins] [--partial] [--rebuild]
#
# Builds, at the versions the project pins exactly in package.json (falling back to the
# defaults below when package.json or a key is missing):
#   pulumi                          github.com/pulumi/pulumi/pkg/v3 (cmd/pulumi) @ v<@pulumi/pulumi>
#   pulumi-language-nodejs          github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
#                                   @ the release commit of v<@pulumi/pulumi> (pseudo-version)
#   pulumi-resource-pulumi-nodejs   script shipped in the sdk/v3 module (dynamic providers)
#   pulumi-resource-<name>          github.com/pulumi/pulumi-<name>/provider[/vN] @ the release
#                                   commit of v<@pulumi/<name>>, for name in command postgresql docker
#
# Known state of this workplace's Go proxy (2026-11-27): pkg/v3 and sdk/v3 tags are served, so
# the CLI builds; the language host at the release commit and the three provider modules are
# not (403 "This module version is not available"), so the script falls back to the language
# host inside sdk/v3@v3.68.0 and, without --partial, exits 1 naming the missing providers.
#
# Output: logs go to stderr; the LAST line on stdout is the bin dir to prepend to PATH:
#   export PATH="$(scripts/pulumi-toolchain.sh | tail -n1):$PATH"
#   export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
#   pulumi login "file://$PWD/.pulumi-state"; export PULUMI_CONFIG_PASSPHRASE=...
# The engine finds providers named pulumi-resource-<name> on PATH without any download.
# --install-plugins also runs `pulumi plugin install resource <name> <ver> --file <bin>` into
# $PULUMI_HOME (default ~/.pulumi) for engines that run without the bin dir on PATH.
#
# Cache: ${TRM_TOOLCHAIN_DIR:-$HOME/.cache/trm/pulumi-toolchain}/<key>/bin, key = all versions +
# Go version + platform. Each binary is also cached on its own under parts/, so a failed or
# interrupted run rebuilds only what is missing. Everything is built in a temp dir and
# renamed into place, so the cache never holds half a build. A second run only prints the path.
#
# Environment:
#   TRM_TOOLCHAIN_DIR            cache root (see above)
#   TRM_PACKAGE_JSON             package.json to read pins from (default: <repo>/package.json)
#   TRM_PULUMI_TOOLCHAIN_PARTIAL=1  same as --partial: if some component cannot be built, still
#                                assemble <key>-partial/bin with what was built and exit 0
#   TRM_PULUMI_COMMIT            release commit of pulumi/pulumi v<ver> (when the proxy's .info
#                                of sdk/v3@v<ver> has no Origin)
#   TRM_PULUMI_LANGHOST_FALLBACK  sdk/v3 version whose module still contains the Node.js language
#                                host, built when the exact one cannot be fetched (default 3.68.0,
#                                the last such tag; "none" disables). MANIFEST records which is used.
#   TRM_PULUMI_PROVIDERS         providers to build (default "command postgresql docker")
#   TRM_PULUMI_<NAME>_COMMIT     release commit of pulumi/pulumi-<name> v<ver> (NAME=COMMAND, ...)
#   TRM_PULUMI_<NAME>_UPSTREAM   module@version of the terraform provider that pulumi-<name>
#                                replaces with ../upstream (a git submodule, not in module zips)
# Go: uses the local toolchain only (GOTOOLCHAIN=local); needs a Go at least as new as the
# `go` line of pulumi's pkg/v3 go.mod.
set -euo pipefail

SCRIPT_REV=1
DEF_PULUMI=3.276.0
DEF_COMMAND=1.2.1
DEF_POSTGRESQL=3.18.1
DEF_DOCKER=5.2.0
# shellcheck disable=SC2206
PROVIDERS=(${TRM_PULUMI_PROVIDERS-command postgresql docker})

T0=$(date +%s)
log() { printf '[pulumi-toolchain +%ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

INSTALL_PLUGINS=0
PARTIAL=${TRM_PULUMI_TOOLCHAIN_PARTIAL:-0}
REBUILD=0
for arg in "$@"; do
	case "$arg" in
	--install-plugins) INSTALL_PLUGINS=1 ;;
	--partial) PARTIAL=1 ;;
	--rebuild) REBUILD=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
		exit 0
		;;
	*) die "unknown argument: $arg" ;;
	esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PKG_JSON="${TRM_PACKAGE_JSON:-$(cd "$here/.." && pwd)/package.json}"

command -v go >/dev/null || die "go is not on PATH"
command -v node >/dev/null || die "node is not on PATH (needed to read package.json and by Pulumi itself)"

# --- versions --------------------------------------------------------------------------
# read_pin <npm package> <default>: exact version from dependencies/devDependencies.
read_pin() {
	local v=""
	if [ -f "$PKG_JSON" ]; then
		v=$(node -e '
			const p = require(process.argv[1]);
			const n = process.argv[2];
			const v = (p.dependencies || {})[n] || (p.devDependencies || {})[n] || "";
			process.stdout.write(String(v));' "$PKG_JSON" "$1") || die "cannot parse $PKG_JSON"
	fi
	if [ -z "$v" ]; then
		echo "$2"
		return
	fi
	v=${v#=}
	v=${v#v}
	[[ "$v" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
		die "$PKG_JSON pins $1 as '$v': pin an exact version (x.y.z) so the plugin version matches"
	echo "$v"
}
declare -A VER
VER[pulumi]=$(read_pin @pulumi/pulumi "$DEF_PULUMI")
VER[command]=$(read_pin @pulumi/command "$DEF_COMMAND")
VER[postgresql]=$(read_pin @pulumi/postgresql "$DEF_POSTGRESQL")
VER[docker]=$(read_pin @pulumi/docker "$DEF_DOCKER")

GOOS_=$(go env GOOS)
GOARCH_=$(go env GOARCH)
GOVER=$(go env GOVERSION)
PLAT="${GOOS_}-${GOARCH_}_${GOVER}"
KEY="pulumi-${VER[pulumi]}"
for p in "${PROVIDERS[@]}"; do
	[ -n "${VER[$p]:-}" ] || die "unknown provider '$p' in TRM_PULUMI_PROVIDERS (known: command postgresql docker)"
	KEY="${KEY}_$p-${VER[$p]}"
done
KEY="${KEY}_${PLAT}_r${SCRIPT_REV}"
CACHE_ROOT="${TRM_TOOLCHAIN_DIR:-$HOME/.cache/trm/pulumi-toolchain}"
FINAL="$CACHE_ROOT/$KEY"

env_hint() {
	log "use it with:"
	log "  export PATH=\"$1:\$PATH\" PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true"
}

install_plugins() { # <bin dir>
	local bin=$1 name
	for name in "${PROVIDERS[@]}"; do
		[ -x "$bin/pulumi-resource-$name" ] || continue
		log "plugin install resource $name ${VER[$name]} into ${PULUMI_HOME:-$HOME/.pulumi}"
		PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true \
			"$bin/pulumi" plugin install resource "$name" "${VER[$name]}" \
			--file "$bin/pulumi-resource-$name" >&2
	done
}

if [ "$REBUILD" = 0 ] && [ -f "$FINAL/.complete" ] && [ -x "$FINAL/bin/pulumi" ]; then
	log "cached: $FINAL/bin"
	[ "$INSTALL_PLUGINS" = 1 ] && install_plugins "$FINAL/bin"
	env_hint "$FINAL/bin"
	echo "$FINAL/bin"
	exit 0
fi

# --- build environment -----------------------------------------------------------------
mkdir -p "$CACHE_ROOT/parts"
exec 9>"$CACHE_ROOT/.lock"
if command -v flock >/dev/null; then
	log "waiting for lock $CACHE_ROOT/.lock" && flock 9
fi
# leftovers of interrupted runs (never renamed into place, so never used)
rm -rf "$CACHE_ROOT"/parts/.tmp.* "$CACHE_ROOT"/.stage.*

export GOTOOLCHAIN=local
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pulumi-toolchain.XXXXXX")
cleanup() { chmod -R u+w "$WORK" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
mkdir -p "$WORK/probe"
printf 'module trm.local/probe\n\ngo 1.21\n' >"$WORK/probe/go.mod"

log "versions: pulumi ${VER[pulumi]}; providers:$(for p in "${PROVIDERS[@]}"; do printf ' %s %s' "$p" "${VER[$p]}"; done) ($GOVER $GOOS_/$GOARCH_)"
log "package.json: $([ -f "$PKG_JSON" ] && echo "$PKG_JSON" || echo "not found, using defaults")"

# json_get <field path like Origin.Hash> < json
json_get() {
	node -e '
		let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
			let v = JSON.parse(s);
			for (const k of process.argv[1].split(".")) v = v == null ? undefined : v[k];
			process.stdout.write(v == null ? "" : String(v));
		});' "$1"
}

# mod_download <module@query> -> prints "<Version> <Dir>"; errors on stderr.
mod_download() {
	local out err dir ver
	out=$(cd "$WORK/probe" && go mod download -json "$1" 2>"$WORK/download.err") || true
	err=$(printf '%s' "$out" | json_get Error 2>/dev/null || true)
	dir=$(printf '%s' "$out" | json_get Dir 2>/dev/null || true)
	ver=$(printf '%s' "$out" | json_get Version 2>/dev/null || true)
	if [ -n "$err" ] || [ -z "$dir" ]; then
		log "go mod download $1 failed: ${err:-$out $(cat "$WORK/download.err")}"
		return 1
	fi
	echo "$ver $dir"
}

# release_commit <tagged sibling module> <version> <override env var>
release_commit() {
	local override=${!3:-}
	if [ -n "$override" ]; then
		echo "$override"
		return
	fi
	local out hash
	out=$(cd "$WORK/probe" && go list -m -json "$1@v$2" 2>"$WORK/list.err") || {
		log "cannot read $1@v$2 from the Go proxy: $(cat "$WORK/list.err")"
		return 1
	}
	hash=$(printf '%s' "$out" | json_get Origin.Hash)
	if [ -z "$hash" ]; then
		log "the Go proxy's .info for $1@v$2 names no commit (no Origin); set $3=<sha of the v$2 release>"
		return 1
	fi
	echo "$hash"
}

copy_module() { # <module cache dir> <dest>
	mkdir -p "$2"
	cp -R "$1/." "$2/"
	chmod -R u+w "$2"
}

LDFLAGS_BASE="-s -w"
# go build runs as a waited-for background job so that a TERM/INT to this script stops it too
CHILD=""
on_signal() {
	[ -n "$CHILD" ] && kill -TERM "$CHILD" 2>/dev/null
	log "interrupted"
	exit 143
}
trap on_signal TERM INT HUP
go_build() { # <dir> <out> <pkg> <extra ldflags>
	local rc=0
	(cd "$1" && exec go build -trimpath -ldflags "$LDFLAGS_BASE $4" -o "$2" "$3") &
	CHILD=$!
	wait "$CHILD" || rc=$?
	CHILD=""
	return "$rc"
}

declare -A SECS STATUS NOTE
# part <name> <version> <binary> <builder fn>: build into parts/ (cached) unless present.
part() {
	local name=$1 ver=$2 bin=$3 fn=$4
	local dir="$CACHE_ROOT/parts/${name}@${ver}_${PLAT}_r${SCRIPT_REV}"
	if [ "$REBUILD" = 0 ] && [ -x "$dir/$bin" ]; then
		log "[$name] cached in $dir"
		STATUS[$name]=cached
		SECS[$name]=0
		PARTDIR[$name]=$dir
		return 0
	fi
	local t=$(date +%s) ws="$WORK/$name" stage
	mkdir -p "$ws"
	stage=$(mktemp -d "$CACHE_ROOT/parts/.tmp.${name}.XXXXXX")
	chmod 0755 "$stage"
	log "[$name] building $ver"
	if "$fn" "$ws" "$stage/$bin" "$ver" && [ -x "$stage/$bin" ]; then
		rm -rf "$dir"
		mv -T "$stage" "$dir"
		STATUS[$name]=built
		PARTDIR[$name]=$dir
		SECS[$name]=$(($(date +%s) - t))
		log "[$name] done in ${SECS[$name]}s ($(du -h "$dir/$bin" | cut -f1))"
	else
		rm -rf "$stage"
		STATUS[$name]=FAILED
		SECS[$name]=$(($(date +%s) - t))
		log "[$name] FAILED after ${SECS[$name]}s"
	fi
}
declare -A PARTDIR

# --- pulumi CLI: wrapper module requiring pkg/v3 and sdk/v3 at the same tag -------------
build_cli() {
	local ws=$1 out=$2 v=$3 r
	r=$(mod_download "github.com/pulumi/pulumi/pkg/v3@v$v") || return 1
	local gomod pkggo
	gomod=$(cd "$WORK/probe" && go mod download -json "github.com/pulumi/pulumi/pkg/v3@v$v" 2>/dev/null | json_get GoMod) || return 1
	pkggo=$(go mod edit -json "$gomod" | json_get Go) || return 1
	if [ -n "$pkggo" ] && [ "$(printf '%s\n%s\n' "$pkggo" "${GOVER#go}" | sort -V | head -n1)" != "$pkggo" ]; then
		log "pkg/v3@v$v needs Go >= $pkggo, this is $GOVER (GOTOOLCHAIN=local: no download)"
		return 1
	fi
	cat >"$ws/go.mod" <<EOF
module trm.local/pulumi-cli

go ${pkggo:-1.21}

require (
	github.com/pulumi/pulumi/pkg/v3 v$v
	github.com/pulumi/pulumi/sdk/v3 v$v
)
EOF
	printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n' >"$ws/tools.go"
	# copy the published non-local replaces of pkg/v3 (e.g. the clipboard fork)
	local reps
	reps=$(go mod edit -json "$gomod" | node -e '
		let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
			for (const r of JSON.parse(s).Replace || []) {
				if (!r.New.Version) continue; // local path replaces (../sdk) are dropped
				const o = r.Old.Version ? r.Old.Path + "@" + r.Old.Version : r.Old.Path;
				console.log("-replace=" + o + "=" + r.New.Path + "@" + r.New.Version);
			}
		});')
	if [ -n "$reps" ]; then
		log "[cli] published replaces: $(echo $reps)"
		# shellcheck disable=SC2086
		(cd "$ws" && go mod edit $reps) || return 1
	fi
	go_build "$ws" "$out" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
		"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v"
}

# --- dynamic provider host script, shipped in the sdk/v3 module ---------------------------
build_dynscript() {
	local ws=$1 out=$2 v=$3 r dir
	r=$(mod_download "github.com/pulumi/pulumi/sdk/v3@v$v") || return 1
	dir=${r#* }
	[ -f "$dir/nodejs/dist/pulumi-resource-pulumi-nodejs" ] || {
		log "sdk/v3@v$v has no nodejs/dist/pulumi-resource-pulumi-nodejs"
		return 1
	}
	cp "$dir/nodejs/dist/pulumi-resource-pulumi-nodejs" "$out"
	chmod 0755 "$out"
}

# --- Node.js language host: untagged module, required at the release commit -----------------
LH_MOD=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
build_langhost() {
	local ws=$1 out=$2 v=$3 commit r
	commit=$(release_commit github.com/pulumi/pulumi/sdk/v3 "$v" TRM_PULUMI_COMMIT) || return 1
	log "[language-nodejs] release commit of v$v: $commit"
	r=$(mod_download "$LH_MOD@$commit") || return 1
	NOTE[language-nodejs]="$LH_MOD@${r%% *}"
	copy_module "${r#* }" "$ws/src" || return 1
	# its go.mod replaces pkg/v3 and sdk/v3 with ../ paths: use the tagged modules instead
	(cd "$ws/src" && go mod edit \
		-dropreplace=github.com/pulumi/pulumi/pkg/v3 -dropreplace=github.com/pulumi/pulumi/sdk/v3 \
		-require="github.com/pulumi/pulumi/pkg/v3@v$v" -require="github.com/pulumi/pulumi/sdk/v3@v$v") || return 1
	go_build "$ws/src" "$out" . "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v"
}

# Fallback: sdk/v3 tags up to v3.68.0 still carried the language host inside the sdk module
# (sdk/nodejs/cmd/pulumi-language-nodejs, before it became its own untagged module), so it
# builds from a tagged module. The engine does not require the language host's version to
# match the CLI; this host is only used when the exact one cannot be fetched.
build_langhost_fallback() {
	local ws=$1 out=$2 v=$3 r
	r=$(mod_download "github.com/pulumi/pulumi/sdk/v3@v$v") || return 1
	[ -f "${r#* }/nodejs/cmd/pulumi-language-nodejs/main.go" ] || {
		log "sdk/v3@v$v has no nodejs/cmd/pulumi-language-nodejs (it left the sdk module after v3.68.0)"
		return 1
	}
	copy_module "${r#* }" "$ws/src" || return 1
	go_build "$ws/src" "$out" ./nodejs/cmd/pulumi-language-nodejs \
		"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$v"
}

# --- providers: module github.com/pulumi/pulumi-<name>/provider[/vN] at the release commit --
build_provider() {
	local ws=$1 out=$2 ver=$3 name=$PROVIDER_NAME
	local NAME major suffix repo sdkmod provmod commit r
	NAME=$(echo "$name" | tr '[:lower:]' '[:upper:]')
	major=${ver%%.*}
	suffix=""
	[ "$major" -ge 2 ] && suffix="/v$major"
	repo="github.com/pulumi/pulumi-$name"
	sdkmod="$repo/sdk$suffix"
	provmod="$repo/provider$suffix"
	commit=$(release_commit "$sdkmod" "$ver" "TRM_PULUMI_${NAME}_COMMIT") || return 1
	log "[$name] release commit of v$ver: $commit"
	r=$(mod_download "$provmod@$commit") || return 1
	NOTE[$name]="$provmod@${r%% *}"
	copy_module "${r#* }" "$ws/provider" || return 1
	# local replaces: ../upstream (a git submodule, never in the module zip)
	local locals
	locals=$(go mod edit -json "$ws/provider/go.mod" | node -e '
		let s = ""; process.stdin.on("data", d => s += d).on("end", () => {
			for (const r of JSON.parse(s).Replace || [])
				if (!r.New.Version) console.log(r.Old.Path + " " + r.New.Path);
		});')
	local old new upvar up ur
	while read -r old new; do
		[ -n "$old" ] || continue
		upvar="TRM_PULUMI_${NAME}_UPSTREAM"
		up=${!upvar:-}
		if [ -z "$up" ]; then
			log "[$name] go.mod replaces $old => $new (git submodule, not in the module zip); set $upvar=<module@version> of that upstream"
			return 1
		fi
		ur=$(mod_download "$up") || return 1
		copy_module "${ur#* }" "$ws/provider/$new" || return 1
		(cd "$ws/provider/$new" && go mod edit -module="$old") || return 1
		log "[$name] upstream $old <= $up (${ur%% *})"
	done <<<"$locals"
	local cmd="$ws/provider/cmd/pulumi-resource-$name"
	[ -d "$cmd" ] || { log "[$name] no cmd/pulumi-resource-$name in $provmod"; return 1; }
	if grep -qs 'schema-embed.json' "$cmd"/*.go && [ ! -f "$cmd/schema-embed.json" ]; then
		[ -f "$cmd/schema.json" ] || { log "[$name] cmd embeds schema-embed.json but has no schema.json"; return 1; }
		node -e '
			const fs = require("fs");
			const s = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
			s.version = process.argv[3];
			fs.writeFileSync(process.argv[2], JSON.stringify(s));' \
			"$cmd/schema.json" "$cmd/schema-embed.json" "$ver" || return 1
		log "[$name] generated schema-embed.json (version $ver)"
	fi
	go_build "$ws/provider" "$out" "./cmd/pulumi-resource-$name" "-X $provmod/pkg/version.Version=$ver"
}

part cli "${VER[pulumi]}" pulumi build_cli
part language-nodejs "${VER[pulumi]}" pulumi-language-nodejs build_langhost
LH_FALLBACK=${TRM_PULUMI_LANGHOST_FALLBACK:-3.68.0}
if [ "${STATUS[language-nodejs]}" = FAILED ] && [ "$LH_FALLBACK" != none ]; then
	log "[language-nodejs] WARNING: the v${VER[pulumi]} language host cannot be fetched; falling back to the one in sdk/v3@v$LH_FALLBACK (TRM_PULUMI_LANGHOST_FALLBACK=none disables)"
	NOTE[language-nodejs-fallback]="github.com/pulumi/pulumi/sdk/v3@v$LH_FALLBACK nodejs/cmd/pulumi-language-nodejs (NOT v${VER[pulumi]})"
	part language-nodejs-fallback "$LH_FALLBACK" pulumi-language-nodejs build_langhost_fallback
fi
part dynamic-provider-script "${VER[pulumi]}" pulumi-resource-pulumi-nodejs build_dynscript
for p in "${PROVIDERS[@]}"; do
	PROVIDER_NAME=$p part "$p" "${VER[$p]}" "pulumi-resource-$p" build_provider
done

# --- assemble ------------------------------------------------------------------------------
COMPONENTS=(cli language-nodejs dynamic-provider-script "${PROVIDERS[@]}")
if [ -n "${STATUS[language-nodejs-fallback]:-}" ]; then
	COMPONENTS=(cli language-nodejs language-nodejs-fallback dynamic-provider-script "${PROVIDERS[@]}")
fi
failed=()
log "summary (build seconds; cached = reused from parts/):"
for c in "${COMPONENTS[@]}"; do
	log "  $(printf '%-24s %-7s %5ss  %s' "$c" "${STATUS[$c]}" "${SECS[$c]}" "${NOTE[$c]:-}")"
	if [ "${STATUS[$c]}" = FAILED ]; then
		# an exact language host that failed is covered by a built fallback
		if [ "$c" = language-nodejs ] && [ -n "${PARTDIR[language-nodejs-fallback]:-}" ]; then
			continue
		fi
		failed+=("$c")
	fi
done

dest=$FINAL
if [ ${#failed[@]} -gt 0 ]; then
	if [ "$PARTIAL" != 1 ]; then
		die "not built: ${failed[*]} (see the log above). --partial assembles what was built."
	fi
	dest="$FINAL-partial"
	log "WARNING: partial toolchain, missing: ${failed[*]}"
fi
stage=$(mktemp -d "$CACHE_ROOT/.stage.XXXXXX")
chmod 0755 "$stage"
mkdir -p "$stage/bin"
for c in "${COMPONENTS[@]}"; do
	[ -n "${PARTDIR[$c]:-}" ] || continue
	# hard links: parts/ and <key>/bin share the bytes (same filesystem)
	cp -pl "${PARTDIR[$c]}"/* "$stage/bin/" 2>/dev/null || cp -p "${PARTDIR[$c]}"/* "$stage/bin/"
done
{
	echo "key=$KEY"
	for c in "${COMPONENTS[@]}"; do echo "$c=${STATUS[$c]} ${NOTE[$c]:-}"; done
	if [ ${#failed[@]} -gt 0 ]; then echo "missing=${failed[*]}"; fi
} >"$stage/MANIFEST"
if [ ${#failed[@]} -eq 0 ]; then touch "$stage/.complete"; fi
rm -rf "$dest"
mv -T "$stage" "$dest"
"$dest/bin/pulumi" version >/dev/null || die "$dest/bin/pulumi does not run"
log "toolchain ready: $dest/bin ($(du -sh "$dest" | cut -f1))"
[ "$INSTALL_PLUGINS" = 1 ] && install_plugins "$dest/bin"
env_hint "$dest/bin"
echo "$dest/bin"
