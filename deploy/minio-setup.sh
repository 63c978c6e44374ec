#!/bin/sh
# One-shot set-up of the MinIO server for our services (the compose service `minio-setup`):
# the bucket, a policy that allows only that bucket's objects, and the services' own user
# with that policy. The services never get MinIO's root credentials.
#
# Safe to run again on every `docker compose up`: each step leaves an existing bucket,
# policy or user as wanted (the user's secret key is reset to LESDE_S3_SECRET_KEY, so
# rotating it is: change .env, or the generated file, and `docker compose up -d`).
#
# Reads: MINIO_ROOT_USER, MINIO_ROOT_PASSWORD (to administer), LESDE_S3_BUCKET,
# LESDE_S3_ACCESS_KEY, LESDE_S3_SECRET_KEY (the services' user), MINIO_URL (default
# http://minio:9000). Each of the four credentials, when empty or unset, is read from the
# file its NAME_FILE variable names (compose: the volume secrets-init fills); a value set
# directly (.env) wins and its file is not read. Needs only `mc` and a POSIX shell: the mc
# image has no sed or grep.
# `sh minio-setup.sh policy` prints the policy document and exits (for review and tests).
set -eu

ALIAS=lesde
POLICY=lesde-bucket-access

fail() {
    echo "minio-setup: $*" >&2
    exit 2
}

# S3 bucket naming: 3 to 63 characters, lowercase letters, digits, '.' and '-'. Checked
# here also because the name is written into the policy's JSON as is.
check_bucket() {
    case "$LESDE_S3_BUCKET" in
        *[!a-z0-9.-]*) fail "LESDE_S3_BUCKET='$LESDE_S3_BUCKET': use lowercase letters, digits, '.' and '-' only" ;;
    esac
    length=${#LESDE_S3_BUCKET}
    if [ "$length" -lt 3 ] || [ "$length" -gt 63 ]; then
        fail "LESDE_S3_BUCKET must be 3 to 63 characters long (it has $length)"
    fi
}

# The services list, read, write and delete objects of the bucket (multipart uploads
# included), and nothing else: no other bucket, no bucket creation or deletion, no admin.
policy_document() {
    printf '%s\n' \
        '{' \
        '  "Version": "2012-10-17",' \
        '  "Statement": [' \
        '    {' \
        '      "Effect": "Allow",' \
        '      "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],' \
        "      \"Resource\": [\"arn:aws:s3:::$LESDE_S3_BUCKET\"]" \
        '    },' \
        '    {' \
        '      "Effect": "Allow",' \
        '      "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],' \
        "      \"Resource\": [\"arn:aws:s3:::$LESDE_S3_BUCKET/*\"]" \
        '    }' \
        '  ]' \
        '}'
}

# NAME, or when it is empty the first line of the file NAME_FILE names (surrounding blanks
# dropped, as MinIO does). A NAME_FILE without a readable, non-empty file stops the set-up.
from_file() {
    eval "value=\${$1:-}"
    eval "file=\${$1_FILE:-}"
    if [ -z "$value" ] && [ -n "$file" ]; then
        [ -f "$file" ] && [ -r "$file" ] || fail "$1_FILE=$file: no readable file there (did secrets-init run?)"
        value=
        read -r value <"$file" || true
        [ -n "$value" ] || fail "$1_FILE=$file: the file is empty"
        eval "$1=\$value"
    fi
}

check_service_user() {
    for name in MINIO_ROOT_USER MINIO_ROOT_PASSWORD LESDE_S3_ACCESS_KEY LESDE_S3_SECRET_KEY; do
        from_file "$name"
    done
    [ -n "${LESDE_S3_ACCESS_KEY:-}" ] || fail "LESDE_S3_ACCESS_KEY is empty: set the services' S3 user in .env, or LESDE_S3_ACCESS_KEY_FILE"
    [ -n "${LESDE_S3_SECRET_KEY:-}" ] || fail "LESDE_S3_SECRET_KEY is empty: set the services' S3 secret in .env, or LESDE_S3_SECRET_KEY_FILE"
    [ -n "${MINIO_ROOT_USER:-}" ] || fail "MINIO_ROOT_USER is empty: set it in .env, or MINIO_ROOT_USER_FILE"
    [ -n "${MINIO_ROOT_PASSWORD:-}" ] || fail "MINIO_ROOT_PASSWORD is empty: set it in .env, or MINIO_ROOT_PASSWORD_FILE"
    # MinIO's own minimum lengths for a user's keys.
    [ "${#LESDE_S3_ACCESS_KEY}" -ge 3 ] || fail "LESDE_S3_ACCESS_KEY must be at least 3 characters long"
    [ "${#LESDE_S3_SECRET_KEY}" -ge 8 ] || fail "LESDE_S3_SECRET_KEY must be at least 8 characters long"
    if [ "$LESDE_S3_ACCESS_KEY" = "$MINIO_ROOT_USER" ]; then
        fail "LESDE_S3_ACCESS_KEY must differ from MINIO_ROOT_USER: the services get their own user, not the root one"
    fi
    if [ "$LESDE_S3_SECRET_KEY" = "$MINIO_ROOT_PASSWORD" ]; then
        fail "LESDE_S3_SECRET_KEY must differ from MINIO_ROOT_PASSWORD"
    fi
}

LESDE_S3_BUCKET=${LESDE_S3_BUCKET:-lesde}
check_bucket
if [ "${1:-}" = "policy" ]; then
    policy_document
    exit 0
fi
check_service_user

mc alias set "$ALIAS" "${MINIO_URL:-http://minio:9000}" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc mb --ignore-existing "$ALIAS/$LESDE_S3_BUCKET"

policy_file=$(mktemp)
trap 'rm -f "$policy_file"' EXIT
policy_document >"$policy_file"
mc admin policy create "$ALIAS" "$POLICY" "$policy_file"  # replaces an older version of it

mc admin user add "$ALIAS" "$LESDE_S3_ACCESS_KEY" "$LESDE_S3_SECRET_KEY"
# MinIO refuses to attach a policy the user has already ("already in effect"): attach it
# only when the PolicyName line of the user's info (a comma-separated list) lacks it.
has_policy() {
    printf '%s\n' "$1" | while IFS= read -r line; do
        case "$line" in
            "PolicyName: "*)
                case ",${line#PolicyName: }," in
                    *",$POLICY,"*) echo yes ;;
                esac ;;
        esac
    done
}
if [ "$(has_policy "$(mc admin user info "$ALIAS" "$LESDE_S3_ACCESS_KEY")")" = yes ]; then
    echo "minio-setup: $LESDE_S3_ACCESS_KEY already has the policy $POLICY"
else
    mc admin policy attach "$ALIAS" "$POLICY" --user "$LESDE_S3_ACCESS_KEY"
fi
echo "minio-setup: bucket $LESDE_S3_BUCKET ready for user $LESDE_S3_ACCESS_KEY (policy $POLICY)"
