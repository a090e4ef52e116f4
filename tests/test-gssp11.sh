#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# gssp11 end to end on the suite's token: help texts, info, the refusal to
# set up twice, and each misconfiguration giving one line naming its cause.
set -u
gssp11=$1
[ -f "${GP11_TEST_SKIP_FILE:-/nonexistent}" ] && exit 77
env_dir=$(dirname "$GSS_PKCS11_CONF")
work=$(mktemp -d /tmp/gp11-cli.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect_error NAME EXPECTED-TEXT CMD...: exit 1, one line, naming the cause
expect_error() {
    name=$1
    text=$2
    shift 2
    "$@" >"$work/out" 2>"$work/err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "$name: exit $rc, want 1"
    [ "$(wc -l <"$work/err")" -eq 1 ] || fail "$name: not one line: $(cat "$work/err")"
    grep -qF -- "$text" "$work/err" || fail "$name: '$(cat "$work/err")' lacks '$text'"
    echo "ok: $name: $(cat "$work/err")"
}

# A copy of the suite's configuration with one key replaced.
conf_with() {
    key=$1
    value=$2
    sed "s|^$key = .*|$key = $value|" "$GSS_PKCS11_CONF" >"$work/gss-pkcs11.conf"
    echo "$work/gss-pkcs11.conf"
}

for cmd in "" "setup-dev" "info" "qop"; do
    # shellcheck disable=SC2086
    "$gssp11" $cmd --help >"$work/out" 2>&1 || fail "gssp11 $cmd --help failed"
    grep -q "^Usage: gssp11" "$work/out" || fail "gssp11 $cmd --help: no usage"
done
"$gssp11" frobnicate >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown command must exit 2"

"$gssp11" info >"$work/info" 2>&1 || fail "info failed: $(cat "$work/info")"
for want in "Login:     logged in as user" "Identities (private key + certificate sharing CKA_ID): " \
            "alice" "CN=host@localhost" "RSA" "kdf-2.40" "kdf-3.0-hkdf"; do
    grep -qF "$want" "$work/info" || fail "info lacks '$want'"
done

"$gssp11" qop >"$work/qop" 2>&1 || fail "qop failed: $(cat "$work/qop")"
grep -q "^  0 *AES-256-GCM .*yes" "$work/qop" || fail "qop: QOP 0 not available"
if [ "$GP11_TEST_TOKEN" = nss ]; then
    grep -q "ChaCha20-Poly1305 .*yes" "$work/qop" || fail "qop: NSS lacks ChaCha"
else
    grep -q "ChaCha20-Poly1305 .*no: " "$work/qop" || fail "qop: SoftHSM ChaCha?"
fi
expect_error "second setup-dev" "already holds a development environment" \
    "$gssp11" setup-dev --token "$GP11_TEST_TOKEN" "$env_dir"
mkdir "$work/busy" && touch "$work/busy/something"
expect_error "setup-dev into a non-empty directory" "is not empty" \
    "$gssp11" setup-dev --token "$GP11_TEST_TOKEN" "$work/busy"
"$gssp11" setup-dev --token plutonium "$work/x" >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown token kind must exit 2"
expect_error "uri matching nothing" "no token matches 'pkcs11:token=nothing-here'" \
    "$gssp11" info --config "$(conf_with uri pkcs11:token=nothing-here)"
expect_error "missing module" "cannot load PKCS#11 module /nonexistent/libp11.so" \
    "$gssp11" info --config "$(conf_with module /nonexistent/libp11.so)"
printf 'wrong-pin\n' >"$work/bad.pin"
chmod 600 "$work/bad.pin"
expect_error "wrong PIN" "CKR_PIN_INCORRECT" \
    "$gssp11" info --config "$(conf_with pin-source "$work/bad.pin")"
# Trust anchors the plugin refuses: info runs the plugin's check and
# reports the plugin's sentence.
printf 'not a certificate\n' >"$work/nocert.pem"
expect_error "trust anchors without a certificate" \
    "gssp11: the trust anchors file $work/nocert.pem holds no certificate (PEM or DER)" \
    "$gssp11" info --config "$(conf_with anchors "$work/nocert.pem")"
mkdir "$work/noanchors"
expect_error "trust anchors directory without a certificate" \
    "gssp11: the trust anchors directory $work/noanchors has no *.pem or *.crt certificate file" \
    "$gssp11" info --config "$(conf_with anchors "$work/noanchors")"
grep -qF "Trust:     $env_dir/ca/ca.pem" "$work/info" || fail "info lacks the anchors"
grep -qF "CRLs:      none configured" "$work/info" || fail "info lacks the CRLs line"
# CRLs the plugin refuses: info reads them as the plugin does (2.11).
mkdir "$work/nocrls"
sed "s|^anchors = .*|&\ncrls = $work/nocrls|" "$GSS_PKCS11_CONF" >"$work/crl.conf"
expect_error "CRL directory without a CRL" \
    "gssp11: the CRL directory $work/nocrls has no *.pem, *.crl or *.der CRL file" \
    "$gssp11" info --config "$work/crl.conf"
printf '[token]\nmodule = x\nuri = pkcs11:\ncolour = blue\n' >"$work/bad.conf"
expect_error "malformed config" "$work/bad.conf:4:" \
    "$gssp11" info --config "$work/bad.conf"
expect_error "missing config" "cannot read $work/none.conf" \
    "$gssp11" info --config "$work/none.conf"

[ "$failures" -eq 0 ] || exit 1
echo "all gssp11 checks passed"
