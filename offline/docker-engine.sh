#!/usr/bin/env bash
# Make sure a Docker engine is installed and running on this machine.
#
# Idempotent and quiet on success: prints one line per action it takes
# (install, start) and nothing when everything is already in place.
#   - installs Debian's docker.io (and debootstrap, used by offline/standins/build.sh)
#     with apt when missing;
#   - starts dockerd in the background (log: $TRM_DOCKERD_LOG) when `docker info` fails;
#   - waits, bounded by $TRM_DOCKERD_TIMEOUT seconds, until `docker info` works.
#
# Needs root (apt-get, dockerd). Exit status: 0 when the engine answers, non-zero otherwise.
set -euo pipefail

LOG_FILE="${TRM_DOCKERD_LOG:-/var/log/trm-dockerd.log}"
TIMEOUT="${TRM_DOCKERD_TIMEOUT:-60}"

say() { printf 'docker-engine: %s\n' "$*" >&2; }
die() { printf 'docker-engine: ERROR: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ] && ! docker info >/dev/null 2>&1; then
  die "not root and no working Docker engine: run as root (needs apt-get and dockerd)"
fi

APT_UPDATED=0
apt_install() {
  # $1: human label, rest: packages
  local label="$1"; shift
  if [ "$APT_UPDATED" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
      || die "apt-get update failed"
    APT_UPDATED=1
  fi
  say "installing $label with apt ($*)"
  # policy-rc.d 101: keep package scripts from trying to start services (no init system here).
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created_policy=1
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    >/tmp/trm-apt-install.log 2>&1 || rc=$?
  [ "$created_policy" -eq 1 ] && rm -f "$policy"
  [ "$rc" -eq 0 ] || { tail -n 20 /tmp/trm-apt-install.log >&2; die "apt-get install $* failed (log: /tmp/trm-apt-install.log)"; }
}

# 1. Packages.
if ! command -v dockerd >/dev/null 2>&1; then
  # pigz speeds up layer (de)compression; iptables is needed for bridge networking.
  apt_install "the Docker engine" docker.io iptables pigz ca-certificates
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  apt_install "debootstrap" debootstrap
fi
command -v docker >/dev/null 2>&1 || die "docker CLI not found after installing docker.io"

# 2. Engine.
if docker info >/dev/null 2>&1; then
  exit 0
fi

# A dockerd that runs: pidof passes over zombies (an engine that was stopped but not reaped, where
# nothing reaps orphans), which pgrep would count. The one started here is followed by its pid: for a
# moment after the start it is still called setsid/nohup/nice, before they exec dockerd.
STARTED=""
running_pid() { local state; state=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${state#Z}" = "$state" ]; }
dockerd_running() { pidof dockerd >/dev/null 2>&1 || { [ -n "$STARTED" ] && running_pid "$STARTED"; }; }

if dockerd_running; then
  say "dockerd is running but not answering yet; waiting (log: $LOG_FILE)"
else
  say "starting dockerd in the background (log: $LOG_FILE)"
  mkdir -p "$(dirname "$LOG_FILE")"
  # Stale pid files from an engine that died with the machine's previous session.
  for f in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
    if [ -f "$f" ] && ! kill -0 "$(cat "$f" 2>/dev/null)" 2>/dev/null; then rm -f "$f"; fi
  done
  # setsid + nohup: the engine outlives this script and the shell that ran it.
  # ... at normal priority, whatever ours is (.ci/run starts this niced), or every container would be niced.
  setsid nohup nice -n "$((-$(nice)))" dockerd >>"$LOG_FILE" 2>&1 </dev/null &
  STARTED=$!
fi

deadline=$((SECONDS + TIMEOUT))
until docker info >/dev/null 2>&1; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    say "last lines of $LOG_FILE:"
    tail -n 15 "$LOG_FILE" >&2 2>/dev/null || true
    die "Docker engine did not answer 'docker info' within ${TIMEOUT}s (see $LOG_FILE)"
  fi
  if ! dockerd_running; then
    say "last lines of $LOG_FILE:"
    tail -n 15 "$LOG_FILE" >&2 2>/dev/null || true
    die "dockerd exited during start-up (see $LOG_FILE)"
  fi
  sleep 0.5
done
