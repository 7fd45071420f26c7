# shellcheck shell=bash
# Sourced by the offline scripts: finds the vendored upstream sources and checks them.
#
#   vendor_dir                 prints the folder (TRM_VENDOR_DIR, else ../shared/vendor/... beside the
#                              checkout, else /work/shared/vendor/...), or fails naming where it looked
#   vendor_archive <file>      prints the path of one archive after checking it against SHA256SUMS
#   vendor_sha <file>          its sha256 (after the check)
#
# Nothing here downloads: CI has no GitHub, so a missing archive is an error that says where to put it.

VENDOR_NAME=pulumi-and-timescaledb-sources

vendor_dir() {
  local repo candidates=() c
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  [ -n "${TRM_VENDOR_DIR:-}" ] && candidates+=("$TRM_VENDOR_DIR")
  candidates+=("$repo/../shared/vendor/$VENDOR_NAME" "/work/shared/vendor/$VENDOR_NAME")
  for c in "${candidates[@]}"; do
    if [ -f "$c/SHA256SUMS" ]; then
      (cd "$c" && pwd)
      return 0
    fi
  done
  printf 'vendor: ERROR: no vendored sources (a folder with SHA256SUMS) in any of: %s. Set TRM_VENDOR_DIR to the %s folder.\n' \
    "${candidates[*]}" "$VENDOR_NAME" >&2
  return 1
}

declare -A VENDOR_SHA_CACHE
vendor_archive() {
  local file=$1 dir expected actual
  dir="$(vendor_dir)" || return 1
  expected="$(awk -v f="$file" '$2 == f || $2 == "*" f { print $1 }' "$dir/SHA256SUMS")"
  if [ -z "$expected" ]; then
    printf 'vendor: ERROR: %s is not listed in %s/SHA256SUMS\n' "$file" "$dir" >&2
    return 1
  fi
  if [ ! -f "$dir/$file" ]; then
    printf 'vendor: ERROR: %s/%s is missing (SHA256SUMS lists it): restore the vendored sources\n' "$dir" "$file" >&2
    return 1
  fi
  if [ -z "${VENDOR_SHA_CACHE[$file]:-}" ]; then
    actual="$(sha256sum "$dir/$file" | cut -d' ' -f1)"
    if [ "$actual" != "$expected" ]; then
      printf 'vendor: ERROR: %s/%s has sha256 %s, SHA256SUMS says %s: the archive is damaged or was replaced\n' \
        "$dir" "$file" "$actual" "$expected" >&2
      return 1
    fi
    VENDOR_SHA_CACHE[$file]=$actual
  fi
  echo "$dir/$file"
}

vendor_sha() {
  vendor_archive "$1" >/dev/null || return 1
  echo "${VENDOR_SHA_CACHE[$1]}"
}
