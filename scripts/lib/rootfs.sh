# Sourced by the scripts that make images without a registry: a root filesystem holding host binaries and the
# libraries they link, fed to `docker import`. An image built from the same inputs is kept (content tag).

# rootfs_new DIR: the skeleton (a world-writable /tmp, root and nobody in passwd/group).
rootfs_new() {
  mkdir -p "$1/usr/local/bin" "$1/etc" "$1/tmp"
  chmod 1777 "$1/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' \
    >"$1/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$1/etc/group"
}

# rootfs_add_binary DIR BINARY: BINARY as /usr/local/bin/<name>, with every library it links and the
# dynamic loader at the paths the binary expects.
rootfs_add_binary() {
  local bin
  bin="$(readlink -f "$2")"
  cp "$bin" "$1/usr/local/bin/$(basename "$2")"
  ldd "$bin" | grep -oE '/[^ ]+' | while read -r lib; do
    cp -L --parents "$lib" "$1/"
  done
}

# rootfs_import DIR IMAGE HASH [docker import -c ...]: IMAGE:HASH from DIR, retagged IMAGE:local.
rootfs_import() {
  local dir="$1" image="$2" hash="$3"
  shift 3
  tar -C "$dir" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -c . |
    docker import "$@" -c "LABEL org.acefleet.inputs=$hash" -m "$image $hash" - "$image:$hash" >/dev/null
  docker tag "$image:$hash" "$image:local"
}

# rootfs_current IMAGE HASH: true (and IMAGE:local retagged) when IMAGE:HASH exists already.
rootfs_current() {
  docker image inspect "$1:$2" >/dev/null 2>&1 || return 1
  docker tag "$1:$2" "$1:local"
}
