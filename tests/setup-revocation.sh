#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Chains and revocation material for tests/test_revocation.c, added to the
# environments tests/setup-tokens.sh made (run after it, suite 'setup'):
#   pki/root         a root CA without path length limit (the environment's
#                    own CA has pathlen:0 and cannot have intermediates)
#   pki/int1         an intermediate under it; "chained" (CKA_ID 71) is
#                    issued by it, and int1's certificate is on the token
#                    with CKA_ID 71 only: no anchors file holds it
#   pki/int2         an intermediate revoked by the root's CRL;
#                    "subrevoked" (CKA_ID 72) is issued by it
#   "revoked"        (CKA_ID 70) issued by the environment's CA and revoked
#   pki/crl/current  current CRLs of every CA (PEM, DER and .crl files), and
#                    a forged CRL in the environment CA's name that revokes
#                    nothing (its signature must keep it out)
#   pki/crl/expired  the same CRLs, all past their nextUpdate
#   pki/crl/missing  current CRLs of all CAs but int1
# and the configurations chain.conf (no CRLs) and crl-*.conf.
set -eu
tokens=$1
mkident=$2
mkpki=$3

setup_env() {
    env=$1
    uri=$(sed -n 's/^uri = //p' "$env/gss-pkcs11.conf")
    # shellcheck disable=SC1091
    . "$env/env"
    pki=$env/pki
    rm -rf "$pki"
    mkdir -p "$pki/crl/current" "$pki/crl/expired" "$pki/crl/missing"
    "$mkpki" root "$pki/root" "chain test root CA"
    "$mkpki" inter "$pki/root" "$pki/int1" "chain test intermediate CA"
    "$mkpki" inter "$pki/root" "$pki/int2" "revoked intermediate CA"
    "$mkident" "$env" revoked 70 revoked@localhost localhost -3600 86400
    "$mkident" "$env" chained 71 chained@localhost localhost -3600 86400 \
        "$pki/int1"
    "$mkpki" store "$env" chained 71 "$pki/int1/ca.pem"
    "$mkident" "$env" subrevoked 72 subrevoked@localhost localhost -3600 \
        86400 "$pki/int2"
    "$mkpki" store "$env" subrevoked 72 "$pki/int2/ca.pem"
    cat "$env/ca/ca.pem" "$pki/root/ca.pem" >"$pki/anchors.pem"
    c=$pki/crl/current
    "$mkpki" crl "$env/ca" "$c/envca.pem" -3600 86400 "$env" revoked
    "$mkpki" forgecrl "$env/ca" "$c/forged.pem" -60 86400 "$env"
    "$mkpki" crl "$pki/root" "$c/root.der" -3600 86400 "$env" \
        "$pki/int2/ca.pem"
    "$mkpki" crl "$pki/int1" "$c/int1.crl" -3600 86400 "$env"
    "$mkpki" crl "$pki/int2" "$c/int2.pem" -3600 86400 "$env"
    e=$pki/crl/expired
    "$mkpki" crl "$env/ca" "$e/envca.pem" -172800 -86400 "$env" revoked
    "$mkpki" crl "$pki/root" "$e/root.pem" -172800 -86400 "$env" \
        "$pki/int2/ca.pem"
    "$mkpki" crl "$pki/int1" "$e/int1.pem" -172800 -86400 "$env"
    "$mkpki" crl "$pki/int2" "$e/int2.pem" -172800 -86400 "$env"
    cp "$c/envca.pem" "$c/root.der" "$c/int2.pem" "$pki/crl/missing/"
    # chain.conf: the two anchors, the extra acceptors, no CRLs.
    sed "s|^anchors = .*|anchors = $pki/anchors.pem|" "$env/gss-pkcs11.conf" \
        >"$env/chain.conf"
    for svc in revoked chained subrevoked; do
        printf '\n[acceptor %s@localhost]\nidentity = %s;object=%s;type=private\n' \
            "$svc" "$uri" "$svc" >>"$env/chain.conf"
    done
    # crl-NAME.conf: chain.conf with [trust] crls and crl-policy.
    mk() {
        if [ -n "$3" ]; then
            policy="\\ncrl-policy = $3"
        else
            policy=""
        fi
        sed "s|^anchors = .*|&\\ncrls = $2$policy|" "$env/chain.conf" \
            >"$env/crl-$1.conf"
    }
    mk require "$pki/crl/current" require
    mk expired-require "$pki/crl/expired" require
    mk expired-ifpresent "$pki/crl/expired" if-present
    mk missing-default "$pki/crl/missing" ""
    mk missing-ifpresent "$pki/crl/missing" if-present
    chmod 600 "$env"/chain.conf "$env"/crl-*.conf
}

for kind in softhsm nss; do
    [ -e "$tokens/$kind.skip" ] && continue
    (setup_env "$tokens/$kind")
done
