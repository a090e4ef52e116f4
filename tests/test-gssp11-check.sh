#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# gssp11 check on the suite's token: the good environment passes (exit 0,
# every line ok once /etc/gss/mech registers us, in heimdal-ns.sh's mount
# namespace), and each broken environment gives exit 1 and a FAIL line
# naming the broken item; --json is one JSON document.
# Usage: test-gssp11-check.sh GSSP11 HEIMDAL-NS
set -u
gssp11=$1
heimdal_ns=$2
[ -f "${GP11_TEST_SKIP_FILE:-/nonexistent}" ] && exit 77
env_dir=$(dirname "$GSS_PKCS11_CONF")
work=$(mktemp -d /tmp/gp11-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
uri=$(sed -n 's/^uri = //p' "$GSS_PKCS11_CONF")

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect NAME RC WANT-LINE-PREFIX WANT-TEXT CMD...: exit RC, and a line
# starting with WANT-LINE-PREFIX that contains WANT-TEXT.
expect() {
    name=$1
    want_rc=$2
    prefix=$3
    text=$4
    shift 4
    "$@" >"$work/out" 2>"$work/err"
    rc=$?
    [ "$rc" -eq "$want_rc" ] ||
        fail "$name: exit $rc, want $want_rc: $(cat "$work/out" "$work/err")"
    grep -F -- "$prefix" "$work/out" | grep -qF -- "$text" ||
        fail "$name: no line '$prefix...$text' in: $(cat "$work/out")"
    echo "ok: $name: $(grep -F -- "$prefix" "$work/out" | head -1)"
}

# A copy of the suite's configuration with one [acceptor LABEL@localhost]
# section more, for the identity LABEL.
with_acceptor() {
    cp "$GSS_PKCS11_CONF" "$work/$1.conf"
    printf '\n[acceptor %s@localhost]\nidentity = %s;object=%s;type=private\n' \
        "$1" "$uri" "$1" >>"$work/$1.conf"
    echo "$work/$1.conf"
}

"$gssp11" check --help | grep -q "^Usage: gssp11 check" || fail "check --help"

# The good environment, with the suite's mech file as /etc/gss/mech.
"$heimdal_ns" "$GSS_MECH_CONFIG" "$gssp11" check >"$work/good" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "good environment: exit $rc: $(cat "$work/good")"
sed '$d' "$work/good" | grep -v '^ok   ' && fail "good environment: a line not ok"
tail -1 "$work/good" | grep -q "^[0-9]* ok, 0 WARN, 0 FAIL$" ||
    fail "good environment: summary $(tail -1 "$work/good")"
for want in "ok   login:" "ok   initiator identity" "ok   acceptor identity host@localhost: service binding SRVName _host.localhost" \
            "ok   mech registration (MIT): $GSS_MECH_CONFIG" "ok   mech registration (Heimdal): /etc/gss/mech" \
            "ok   context to host@localhost: established" "ok   context to rsa@localhost: established"; do
    grep -qF "$want" "$work/good" || fail "good environment lacks '$want'"
done
echo "ok: good environment: $(tail -1 "$work/good")"
# Outside the namespace the machine's /etc/gss/mech may lack us: at most
# a WARN, never a FAIL.
expect "good environment, machine's /etc/gss/mech" 0 "mech registration (Heimdal)" "" \
    "$gssp11" check
"$heimdal_ns" "$GSS_MECH_CONFIG" "$gssp11" check --json >"$work/good.json" 2>&1 ||
    fail "good environment --json: exit $?"
/usr/bin/python3 -m json.tool "$work/good.json" >/dev/null ||
    fail "--json does not parse: $(cat "$work/good.json")"
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["failures"] == 0 and d["warnings"] == 0, d
assert all(c["status"] == "ok" for c in d["checks"]), d
assert any(c["item"] == "context to host@localhost" for c in d["checks"]), d
' "$work/good.json" || fail "--json of the good environment"

# One broken item per environment.
sed 's/object=host;/object=hots;/' "$GSS_PKCS11_CONF" >"$work/typo.conf"
expect "label typo" 1 "FAIL acceptor identity host@localhost:" "object=hots" \
    "$gssp11" check -c "$work/typo.conf"
expect "key without certificate" 1 "FAIL acceptor identity adm-nocert@localhost:" \
    "has no X.509 certificate" "$gssp11" check -c "$(with_acceptor adm-nocert)"
expect "certificate of another key" 1 "FAIL acceptor identity adm-foreign@localhost:" \
    "does not match key 'adm-foreign'" "$gssp11" check -c "$(with_acceptor adm-foreign)"
expect "extractable identity key" 1 "FAIL acceptor identity adm-extract@localhost:" \
    "CKA_EXTRACTABLE is TRUE" "$gssp11" check -c "$(with_acceptor adm-extract)"
# trust.conf's identities: no SRVName, and a client-only certificate.
sed -n '1,/^\[initiator\]/p' "$env_dir/trust.conf" | sed '$d' >"$work/nosvc.conf"
sed -n '/^\[initiator\]/,/^identity/p' "$env_dir/trust.conf" >>"$work/nosvc.conf"
printf '\n[acceptor nosvc@localhost]\nidentity = %s;object=nosvc;type=private\n' \
    "$uri" >>"$work/nosvc.conf"
expect "acceptor certificate without SRVName" 1 \
    "FAIL acceptor identity nosvc@localhost:" "binds no service" \
    "$gssp11" check -c "$work/nosvc.conf"
expect "acceptor certificate without serverAuth" 1 \
    "FAIL acceptor identity clionly@localhost:" "lacks extendedKeyUsage serverAuth" \
    "$gssp11" check -c "$env_dir/trust.conf"
expect "expired certificate" 1 "FAIL acceptor identity expired@localhost:" \
    "expired" "$gssp11" check -c "$(with_acceptor expired)"
grep -q "^ok   acceptor identity expired@localhost" "$work/out" &&
    fail "expired certificate: an ok line for it"
expect "wrong host" 1 "FAIL acceptor identity wrong@localhost:" \
    "not the target host" "$gssp11" check -c "$env_dir/extra.conf"
expect "untrusted acceptor" 1 "FAIL acceptor identity untrusted@localhost:" \
    "is not trusted" "$gssp11" check -c "$env_dir/extra.conf"
sed "s|^anchors = .*|anchors = $env_dir/otherca/ca.pem|" "$GSS_PKCS11_CONF" \
    >"$work/otherca.conf"
expect "anchors that do not chain" 1 "FAIL initiator identity" "is not trusted" \
    "$gssp11" check -c "$work/otherca.conf"
expect "expiry within 30 days" 0 "WARN acceptor identity short@localhost:" \
    "the chain expires on" "$gssp11" check -c "$env_dir/short.conf"
# CRLs under crl-policy require (tests/setup-revocation.sh).
expect "expired CRL" 1 "FAIL CRL /CN=gss-pkcs11 development CA:" "expired" \
    "$gssp11" check -c "$env_dir/crl-expired-require.conf"
expect "missing CRL" 1 "FAIL acceptor identity chained@localhost:" \
    "no CRL for issuer" "$gssp11" check -c "$env_dir/crl-missing-default.conf"
# Export allowed, its KEK absent.
sed 's/^export-kek = .*/export-kek = no such KEK/' "$env_dir/export.conf" \
    >"$work/kek.conf"
expect "export KEK missing" 1 "FAIL export KEK:" "no such KEK" \
    "$gssp11" check -c "$work/kek.conf"
expect "export KEK present" 0 "ok   export KEK:" "found" \
    "$gssp11" check -c "$env_dir/export.conf"
# The mech registration.
printf 'other 1.2.3.4 /usr/lib/other.so\n' >"$work/mech-nooid"
expect "mech file without our OID" 1 "FAIL mech registration (MIT):" \
    "no line names the OID" env GSS_MECH_CONFIG="$work/mech-nooid" "$gssp11" check
sed 's| /[^ ]*$| /nonexistent/gss_pkcs11.so|' "$GSS_MECH_CONFIG" >"$work/mech-badpath"
expect "mech file with a missing module" 1 "FAIL mech registration (MIT):" \
    "/nonexistent/gss_pkcs11.so" env GSS_MECH_CONFIG="$work/mech-badpath" "$gssp11" check
expect "Heimdal's /etc/gss/mech with a missing module" 1 \
    "FAIL mech registration (Heimdal):" "/nonexistent/gss_pkcs11.so" \
    "$heimdal_ns" "$work/mech-badpath" "$gssp11" check
# --json of a broken environment: parses, counts the failure.
"$gssp11" check --json -c "$work/kek.conf" >"$work/bad.json"
[ $? -eq 1 ] || fail "--json of a broken environment: exit status"
/usr/bin/python3 -m json.tool "$work/bad.json" >/dev/null ||
    fail "--json (broken) does not parse: $(cat "$work/bad.json")"
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
bad = [c for c in d["checks"] if c["status"] == "FAIL"]
assert d["failures"] == len(bad) == 1 and bad[0]["item"] == "export KEK", d
assert bad[0]["fix"], d
' "$work/bad.json" || fail "--json of the broken environment: $(cat "$work/bad.json")"

[ "$failures" -eq 0 ] || exit 1
echo "all gssp11 check checks passed"
