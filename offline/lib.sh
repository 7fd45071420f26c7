# Helpers the offline image builds share (offline/standins/build.sh, offline/ci-job/build.sh): source it
# after defining say/die and CACHE. Not part of any image's inputs hash: only the files each build copies are.

sha512_integrity() { printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"; }

# npm pack a pinned package into $CACHE/dl (once) and check its integrity.
fetch_npm_tarball() {
  local name="$1" version="$2" integrity="$3"
  local file="$CACHE/dl/${name}-${version}.tgz"
  mkdir -p "$CACHE/dl"
  if [ ! -s "$file" ] || [ "$(sha512_integrity "$file")" != "$integrity" ]; then
    command -v npm >/dev/null 2>&1 || die "npm is needed on the host to fetch ${name}@${version}"
    say "fetching ${name}@${version} from the npm registry"
    rm -f "$file"
    (cd "$CACHE/dl" && npm pack "${name}@${version}" --silent >/dev/null) \
      || die "npm pack ${name}@${version} failed"
  fi
  [ "$(sha512_integrity "$file")" = "$integrity" ] \
    || die "${file}: integrity $(sha512_integrity "$file") is not the pinned $integrity"
}

image_id() { docker image inspect -f '{{.Id}}' "$1" 2>/dev/null || true; }
image_label() { docker image inspect -f "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }
image_size_mb() { docker image inspect -f '{{.Size}}' "$1" | awk '{ printf "%d MB", $1 / 1000000 }'; }
