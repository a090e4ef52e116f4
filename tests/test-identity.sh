#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# gssp11 identity, the production path (docs/admin-guide.md 5), on a fresh
# token of the suite's kind: new (key in the token, CSR) -> an OpenSSL CA
# signs with -copy_extensions copyall -> import-cert -> list -> a context
# through the mechglue between the new identities; then one broken case per
# import-cert check (another key's certificate, wrong EKU, no SRVName, a CA
# that is not an anchor), each refused with its cause and storing nothing.
set -u
gssp11=$1
establish=$2
[ -f "${GP11_TEST_SKIP_FILE:-/nonexistent}" ] && exit 77
kind=$GP11_TEST_TOKEN
mech_config=$GSS_MECH_CONFIG
work=$(mktemp -d /tmp/gp11-ident.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect_error NAME EXPECTED-TEXT CMD...: exit 1, naming the cause
expect_error() {
    name=$1
    text=$2
    shift 2
    "$@" >"$work/out" 2>"$work/err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "$name: exit $rc, want 1"
    grep -qF -- "$text" "$work/err" || fail "$name: '$(cat "$work/err")' lacks '$text'"
    echo "ok: $name: $(cat "$work/err")"
}

"$gssp11" identity --help >"$work/out" 2>&1 || fail "identity --help failed"
grep -q "^Usage: gssp11 identity new" "$work/out" || fail "identity --help: no usage"
for args in "" "frob --label x" "new" "import-cert --label x" "list extra"; do
    # shellcheck disable=SC2086
    "$gssp11" identity $args >/dev/null 2>&1
    [ $? -eq 2 ] || fail "identity $args: want usage error (exit 2)"
done

# A fresh token, PIN and configuration (setup-dev's CA is not used below:
# the anchors become the OpenSSL CA's certificate).
"$gssp11" setup-dev --token "$kind" "$work/env" >"$work/setup.log" 2>&1 ||
    { cat "$work/setup.log"; echo "setup-dev failed" >&2; exit 1; }
# shellcheck disable=SC1091
. "$work/env/env"
export GSS_MECH_CONFIG="$mech_config"
conf=$GSS_PKCS11_CONF
uri=$(sed -n 's/^uri = //p' "$conf")

# The CA an administrator would run (admin-guide.md 5), and another one.
cd "$work" || exit 1
for ca in ca other; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout $ca.key -out $ca.pem -days 3650 -subj "/CN=$ca CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null ||
        { echo "openssl req failed" >&2; exit 1; }
done
sed -i "s|^anchors = .*|anchors = $work/ca.pem|" "$conf"
sign() { # sign CSR OUT [CA] [extra openssl x509 options]
    csr=$1
    out=$2
    ca=${3:-ca}
    shift 3
    openssl x509 -req -in "$csr" -CA $ca.pem -CAkey $ca.key "$@" \
        -days 365 -out "$out" 2>"$work/x509.err" || fail "openssl x509 -req $csr: $(cat "$work/x509.err")"
}

# new: one key of each type; the CSRs carry the role's profile.
"$gssp11" identity new --label web --service web@localhost --out web.csr ||
    fail "identity new web"
"$gssp11" identity new --label bob --user bob@example.com --key ec-p384 \
    >bob.csr || fail "identity new bob (standard output)"
"$gssp11" identity new --label ftp --service ftp@localhost --key rsa-3072 \
    --out ftp.csr || fail "identity new ftp (RSA)"
expect_error "new with a label in use" 'a private key labelled "web" is already on the token' \
    "$gssp11" identity new --label web --service web@localhost --out x.csr
for csr in web bob ftp; do
    openssl req -in $csr.csr -noout -verify >/dev/null 2>&1 ||
        fail "$csr.csr: the token's signature does not verify"
    openssl req -in $csr.csr -noout -text >$csr.txt 2>&1
done
for want in "CN = web@localhost" "Digital Signature" "TLS Web Server Authentication" \
            "DNS:localhost" "SRVName::_web.localhost" "ecdsa-with-SHA256"; do
    grep -qF "$want" web.txt || fail "web.csr lacks '$want'"
done
for want in "CN = bob@example.com" "TLS Web Client Authentication" \
            "email:bob@example.com" "ecdsa-with-SHA384" "NIST CURVE: P-384"; do
    grep -qF "$want" bob.txt || fail "bob.csr lacks '$want'"
done
grep -q "Server Authentication" bob.txt && fail "bob.csr asks for serverAuth"
for want in "SRVName::_ftp.localhost" "sha256WithRSAEncryption" "(3072 bit)"; do
    grep -qF "$want" ftp.txt || fail "ftp.csr lacks '$want'"
done

# list before the CA answered.
"$gssp11" identity list >list0 2>&1
grep -qF "no certificate (made by identity new" list0 || fail "list before import: $(cat list0)"

# The CA step, literally as in the admin guide, and import-cert.
for id in web bob ftp; do
    sign $id.csr $id.pem ca -copy_extensions copyall
    "$gssp11" identity import-cert --label $id $id.pem ||
        fail "import-cert $id"
done
"$gssp11" identity list >list1 2>&1
cat list1
for want in "role:     service web@localhost (acceptor)" \
            "role:     user bob@example.com (initiator)" \
            "SANs:     DNS:localhost, SRVName:_web.localhost" \
            "SANs:     email:bob@example.com" "subject:  CN=bob@example.com"; do
    grep -qF "$want" list1 || fail "list lacks '$want'"
done
for id in web bob ftp; do
    sed -n "/^$id\$/,/status:/p" list1 | grep -q "status:   ok$" ||
        fail "list: $id is not ok"
done

# A real context between the new identities, through the mechglue.
sed -i "s|;object=alice;|;object=bob;|" "$conf"
printf '\n[acceptor web@localhost]\nidentity = %s;object=web;type=private\n' \
    "$uri" >>"$conf"
"$establish" web@localhost >est.out 2>&1 || fail "context bob -> web: $(cat est.out)"
grep -q "^Established" est.out || fail "no context: $(cat est.out)"
grep -q "bob@example.com" est.out || fail "acceptor does not see bob: $(cat est.out)"
echo "ok: context bob -> web@localhost established"

# One broken case per check, on a new service key "web2".
"$gssp11" identity new --label web2 --service web2@localhost --out web2.csr ||
    fail "identity new web2"
expect_error "another key's certificate" \
    'certificate "CN=web@localhost" does not match key "web2"' \
    "$gssp11" identity import-cert --label web2 web.pem
# ... and one that suits web2 in every other way: right profile, right CA,
# but a key that is not web2's (a software key).
cat >web2.ext <<EOF
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, otherName:1.3.6.1.5.5.7.8.7;IA5STRING:_web2.localhost
EOF
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout soft.key -out soft.csr -subj "/CN=web2@localhost" 2>/dev/null
sign soft.csr soft.pem ca -extfile web2.ext
expect_error "a software key's certificate of the right profile" \
    'certificate "CN=web2@localhost" does not match key "web2"' \
    "$gssp11" identity import-cert --label web2 soft.pem
cat >client.ext <<EOF
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:localhost, otherName:1.3.6.1.5.5.7.8.7;IA5STRING:_web2.localhost
EOF
sign web2.csr wrong-eku.pem ca -extfile client.ext
expect_error "wrong EKU" \
    'lacks extendedKeyUsage serverAuth, which the service identity "web2" needs' \
    "$gssp11" identity import-cert --label web2 wrong-eku.pem
cat >nosrv.ext <<EOF
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost
EOF
sign web2.csr no-srv.pem ca -extfile nosrv.ext
expect_error "no SRVName" 'binds no service, not the target service (SRVName "_web2.localhost")' \
    "$gssp11" identity import-cert --label web2 no-srv.pem
sign web2.csr other.pem other -copy_extensions copyall
expect_error "not chaining to the anchors" "is not trusted" \
    "$gssp11" identity import-cert --label web2 other.pem
expect_error "chain file of a CA that is no anchor" "is not trusted" \
    "$gssp11" identity import-cert --label web2 other.pem other.pem
"$gssp11" identity list >list2 2>&1
sed -n "/^web2\$/,/status:/p" list2 | grep -qF "no certificate (made by identity new" ||
    fail "a refused import stored something: $(cat list2)"
# A user's certificate without its rfc822Name.
"$gssp11" identity new --label carol --user carol@example.com --out carol.csr ||
    fail "identity new carol"
printf 'keyUsage = critical, digitalSignature\nextendedKeyUsage = clientAuth\nsubjectAltName = email:mallory@example.com\n' >mallory.ext
sign carol.csr carol-wrong.pem ca -extfile mallory.ext
expect_error "user without its rfc822Name" 'lacks the rfc822Name carol@example.com' \
    "$gssp11" identity import-cert --label carol carol-wrong.pem
expect_error "request to an unwritable file" "cannot write the request to $work/none/x.csr" \
    "$gssp11" identity new --label erin --user erin@example.com --out "$work/none/x.csr"
"$gssp11" identity new --label erin --user erin@example.com --out erin.csr ||
    fail "identity new erin after a failed one: the first left its key behind"
expect_error "no role for a second new" "give exactly one of --service S@H and --user U" \
    "$gssp11" identity new --label dave --user dave@example.com --service x@y

# [policy] user-name-san = upn: the request carries the UPN otherName, and
# import-cert judges the name the peers will read.
sed "s|^\[policy\]|&\nuser-name-san = upn|" "$conf" >upn.conf
"$gssp11" identity new --config upn.conf --label frank --user frank@example.com \
    --out frank.csr || fail "identity new frank (upn)"
openssl req -in frank.csr -noout -text 2>&1 | grep -qF "othername: UPN::frank@example.com" ||
    fail "frank.csr lacks the UPN: $(openssl req -in frank.csr -noout -text 2>&1)"
sign frank.csr frank.pem ca -copy_extensions copyall
expect_error "UPN certificate under rfc822Name" 'lacks the rfc822Name frank@example.com' \
    "$gssp11" identity import-cert --label frank frank.pem
"$gssp11" identity import-cert --config upn.conf --label frank frank.pem ||
    fail "import-cert frank (upn)"

# The right certificate still goes in afterwards, from an intermediate CA:
# the chain is stored with the key's CKA_ID (the root is not).
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout int.key -out int.csr -subj "/CN=intermediate CA" 2>/dev/null
printf 'basicConstraints = critical, CA:TRUE, pathlen:0\nkeyUsage = critical, keyCertSign, cRLSign\n' >int.ext
sign int.csr int.pem ca -extfile int.ext
expect_error "intermediate missing" "is not trusted" \
    sh -c "openssl x509 -req -in web2.csr -CA int.pem -CAkey int.key -copy_extensions copyall -days 30 -out web2.pem 2>/dev/null && \"$gssp11\" identity import-cert --label web2 web2.pem"
cat int.pem ca.pem >chain.pem
"$gssp11" identity import-cert --label web2 web2.pem chain.pem >imp.out ||
    fail "import-cert web2 with its chain"
grep -qF 'stored the certificate of "web2" and 1 CA certificate(s)' imp.out ||
    fail "import-cert web2: $(cat imp.out)"
"$gssp11" identity list >list3 2>&1
sed -n "/^web2\$/,/status:/p" list3 | grep -q "status:   ok$" ||
    fail "list: web2 with its chain is not ok: $(cat list3)"
printf '\n[acceptor web2@localhost]\nidentity = %s;object=web2;type=private\n' \
    "$uri" >>"$conf"
"$establish" web2@localhost >est2.out 2>&1 || fail "context bob -> web2 (chain): $(cat est2.out)"
grep -q "^Established" est2.out || fail "no context with web2: $(cat est2.out)"
expect_error "a second certificate" 'key "web2" already has 2 certificate(s)' \
    "$gssp11" identity import-cert --label web2 web2.pem chain.pem

[ "$failures" -eq 0 ] || exit 1
echo "all identity checks passed"
