#!/bin/sh
# Entrypoint of the compose service `minio`: gives the MinIO server one source per root
# credential, then runs its own entrypoint (the arguments: /usr/bin/docker-entrypoint.sh
# server ...).
#
# Why: MinIO (RELEASE.2025-09-07T16-13-09Z, cmd/common-main.go loadEnvVarsFromFiles) reads
# MINIO_ROOT_USER_FILE / MINIO_ROOT_PASSWORD_FILE (a name under /run/secrets/, else a path)
# and, when that file exists and is not empty, lets its content REPLACE MINIO_ROOT_USER /
# MINIO_ROOT_PASSWORD; a missing file it ignores without a word, and with neither it starts
# as minioadmin:minioadmin. So:
#   - a variable set (by .env) wins: its _FILE is unset, MinIO never reads the generated file;
#   - else the (empty) variable is unset and the _FILE must name a readable, non-empty file,
#     or this stops with the reason instead of letting MinIO fall back to its default pair.
# POSIX sh only: the MinIO image is ubi-micro.
set -eu

fail() {
    echo "minio-entrypoint: $*" >&2
    exit 2
}

for name in MINIO_ROOT_USER MINIO_ROOT_PASSWORD; do
    eval "value=\${$name:-}"
    eval "file=\${${name}_FILE:-}"
    if [ -n "$value" ]; then
        unset "${name}_FILE"
        continue
    fi
    unset "$name"
    [ -n "$file" ] || fail "neither $name nor ${name}_FILE is set (compose's secrets-init writes the file)"
    # MinIO looks for a bare name under /run/secrets/ first (Docker secrets).
    if [ ! -f "$file" ] && [ -f "/run/secrets/$file" ]; then
        file="/run/secrets/$file"
    fi
    [ -f "$file" ] && [ -r "$file" ] || fail "${name}_FILE=$file: no readable file there (did secrets-init run?)"
    [ -s "$file" ] || fail "${name}_FILE=$file: the file is empty"
done

[ "$#" -gt 0 ] || fail "no command given (expected MinIO's docker-entrypoint.sh and its arguments)"
exec "$@"
