#!/usr/bin/env bash
# Builds the CI checkers from Go modules, once per version (cached), and prints their bin dir:
#   actionlint     github.com/rhysd/actionlint/cmd/actionlint (pinned below)
#   compose-check  tools/compose-check (compose-go, the library `docker compose` uses)
#   docker-compose github.com/docker/compose/v2/cmd: the binary Portainer CE 2.23 runs for compose stacks
set -euo pipefail
ACTIONLINT_VERSION=v1.7.12
COMPOSE_VERSION=v2.29.2
root="$(cd "$(dirname "$0")/.." && pwd)"
key="actionlint-${ACTIONLINT_VERSION}_compose-${COMPOSE_VERSION}_compose-check-$(cd "$root/tools/compose-check" && sha256sum main.go go.mod go.sum | sha256sum | cut -c1-12)"
bin="${TRM_CACHE_DIR:-$HOME/.cache/trm}/ci-tools/$key"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0

if [ ! -x "$bin/actionlint" ] || [ ! -x "$bin/compose-check" ] || [ ! -x "$bin/docker-compose" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "ci-tools: building actionlint $ACTIONLINT_VERSION, docker compose $COMPOSE_VERSION and compose-check" >&2
  GOBIN="$tmp" go install -trimpath -ldflags "-s -w" "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  GOBIN="$tmp/compose" go install -trimpath -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" "github.com/docker/compose/v2/cmd@$COMPOSE_VERSION"
  mv "$tmp/compose/cmd" "$tmp/docker-compose" && rmdir "$tmp/compose"
  (cd "$root/tools/compose-check" && go build -trimpath -ldflags "-s -w" -o "$tmp/compose-check" .)
  mkdir -p "$(dirname "$bin")"
  rm -rf "$bin" && mv "$tmp" "$bin"
  trap - EXIT
fi
echo "$bin"
