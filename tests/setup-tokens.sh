#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Creates fresh SoftHSM2 and NSS softoken development environments for the
# test suites with 'gssp11 setup-dev'. A token whose package is missing is
# recorded in <kind>.skip so its tests exit 77; any other failure fails.
set -eu
gssp11=$1
tokens=$2
mech_module=$3
mkident=$4
fault_module=${5:-}

# Identities and configurations for failure tests, beside the standard
# environment: an expired certificate, one from an untrusted CA, one
# naming another host; a copy of the configuration that allows anonymous
# initiators, and one that serves the extra identities.
add_test_identities() {
    env=$1
    uri=$(sed -n 's/^uri = //p' "$env/gss-pkcs11.conf")
    # SOFTHSM2_CONF and friends of this environment.
    # shellcheck disable=SC1091
    . "$env/env"
    "$mkident" "$env" expired 11 expired@localhost localhost -172800 -86400
    "$mkident" "$env" untrusted 12 untrusted@localhost localhost -3600 86400 \
        "$env/otherca"
    # Its SRVName claims _wrong.localhost: only the dNSName check refuses it.
    "$mkident" --srv-host localhost "$env" wronghost 13 wrong@localhost \
        elsewhere.example -3600 86400
    # both answers for host@localhost too (tests/test_adversary.c).
    "$mkident" --email both@localhost --service host "$env" both 14 \
        both@localhost localhost -3600 86400
    sed 's/^allow-anonymous = no/allow-anonymous = yes/' \
        "$env/gss-pkcs11.conf" >"$env/anon.conf"
    cp "$env/gss-pkcs11.conf" "$env/noqop.conf"
    printf 'extra-qops = no\n' >>"$env/noqop.conf"
    cp "$env/gss-pkcs11.conf" "$env/extra.conf"
    for svc in expired untrusted wronghost; do
        printf '\n[acceptor %s@localhost]\nidentity = %s;object=%s;type=private\n' \
            "$svc" "$uri" "$svc" >>"$env/extra.conf"
    done
    sed -i 's/^\[acceptor wronghost@localhost\]/[acceptor wrong@localhost]/' \
        "$env/extra.conf"
    # Low usage limits for test_permsg_limits (protocol.md 3.6).
    cp "$env/gss-pkcs11.conf" "$env/limits.conf"
    printf 'aead-message-limit = 4\naead-block-limit = 40\nforgery-limit = 2\n' \
        >>"$env/limits.conf"
    chmod 600 "$env/limits.conf"
    chmod 600 "$env/anon.conf" "$env/extra.conf" "$env/noqop.conf"
    # Context export allowed (tests/test_export.c, interop-mit.sh -export).
    sed 's/^allow-export = no/allow-export = yes/' "$env/gss-pkcs11.conf" \
        >"$env/export.conf"
    chmod 600 "$env/export.conf"
    # A second KEK on the token, and a configuration that uses it.
    "$gssp11" kek create -c "$env/export.conf" -l "other export KEK" >/dev/null
    sed 's/^export-kek = .*/export-kek = other export KEK/' \
        "$env/export.conf" >"$env/export-other.conf"
    chmod 600 "$env/export-other.conf"
    # A CA that expires (7 days) long before the leaf it issues (60 days)
    # and before the lifetime short.conf grants (30 days): contexts with
    # short@localhost on either side must end with the CA (test_ctxlife).
    mkdir -p "$env/shortca"
    "$mkident" "$env" short 27 short@localhost localhost -3600 5184000 \
        "$env/shortca" 7
    cat "$env/ca/ca.pem" "$env/shortca/ca.pem" >"$env/short-anchors.pem"
    sed -e "s|^anchors = .*|anchors = $env/short-anchors.pem|" \
        -e 's/^max-lifetime = .*/max-lifetime = 30d/' \
        "$env/gss-pkcs11.conf" >"$env/short.conf"
    printf '\n[acceptor short@localhost]\nidentity = %s;object=short;type=private\n' \
        "$uri" >>"$env/short.conf"
    chmod 600 "$env/short.conf"
    # The same token behind the fault module (tests/test_recovery.c).
    if [ -n "$fault_module" ]; then
        sed "s|^module = .*|module = $fault_module|" "$env/gss-pkcs11.conf" \
            >"$env/recovery.conf"
        chmod 600 "$env/recovery.conf"
    fi
}

# Identities and configurations for tests/test_trust.c (names from
# certificates, anchors per role, EKU per role, service binding; see
# docs/protocol.md 2.10): trust.conf has initiator-anchors = CA + caI and
# acceptor-anchors = CA + caA; trust-nobind.conf adds
# require-service-binding = no.
add_trust_identities() {
    env=$1
    uri=$(sed -n 's/^uri = //p' "$env/gss-pkcs11.conf")
    # shellcheck disable=SC1091
    . "$env/env"
    mk() { "$mkident" "$@"; }
    mk --eku client "$env" rootdns 40 root attacker.example -3600 86400
    mk --eku client --email-nul root "$env" nulmail 41 nulmail - -3600 86400
    mk --eku client --email clia@localhost "$env" clia 42 clia - -3600 86400 \
        "$env/caA"
    mk --eku client --email clii@localhost "$env" clii 43 clii - -3600 86400 \
        "$env/caI"
    mk --eku server "$env" srva 44 srva@localhost localhost -3600 86400 \
        "$env/caA"
    mk --eku server "$env" srvi 45 srvi@localhost localhost -3600 86400 \
        "$env/caI"
    mk --eku server --email srvonly@localhost "$env" srvonly 46 srvonly - \
        -3600 86400
    mk --eku client "$env" clionly 47 clionly@localhost localhost -3600 86400
    mk --eku server --no-service "$env" nosvc 48 nosvc@localhost localhost \
        -3600 86400
    mk --eku server --service ldap "$env" othersvc 49 othersvc@localhost \
        localhost -3600 86400
    cat "$env/ca/ca.pem" "$env/caI/ca.pem" >"$env/trust-init.pem"
    cat "$env/ca/ca.pem" "$env/caA/ca.pem" >"$env/trust-acc.pem"
    sed -e "/^anchors = /a initiator-anchors = $env/trust-init.pem" \
        -e "/^anchors = /a acceptor-anchors = $env/trust-acc.pem" \
        "$env/gss-pkcs11.conf" >"$env/trust.conf"
    for svc in srva srvi clionly nosvc othersvc; do
        printf '\n[acceptor %s@localhost]\nidentity = %s;object=%s;type=private\n' \
            "$svc" "$uri" "$svc" >>"$env/trust.conf"
    done
    sed '/^\[policy\]/a require-service-binding = no' "$env/trust.conf" \
        >"$env/trust-nobind.conf"
    chmod 600 "$env/trust.conf" "$env/trust-nobind.conf"
}

# Identities for tests/test_admin.c and tests/test_syslog.c (issue 13):
# keys that can leave the token, certificates of another key under the
# key's CKA_ID; admin-allow.conf allows the former, admin-badpin.conf
# reads a wrong PIN from a file.
add_admin_identities() {
    env=$1
    # shellcheck disable=SC1091
    . "$env/env"
    "$mkident" --extractable "$env" adm-extract 80 adm-extract@localhost \
        localhost -3600 86400
    "$mkident" --not-sensitive "$env" adm-clear 81 adm-clear@localhost \
        localhost -3600 86400
    "$mkident" --foreign-cert "$env" adm-foreign 82 adm-foreign@localhost \
        localhost -3600 86400
    "$mkident" --also-foreign-cert "$env" adm-twocert 83 \
        adm-twocert@localhost localhost -3600 86400
    # A key without a certificate (tests/test-gssp11-check.sh).
    "$mkident" --no-cert "$env" adm-nocert 84 adm-nocert@localhost \
        localhost -3600 86400
    sed '/^\[policy\]/a allow-extractable-identity = yes' \
        "$env/gss-pkcs11.conf" >"$env/admin-allow.conf"
    printf 'wrong-pin-4711\n' >"$env/admin-badpin.pin"
    sed "s|^pin-source = .*|pin-source = $env/admin-badpin.pin|" \
        "$env/gss-pkcs11.conf" >"$env/admin-badpin.conf"
    cp "$env/gss-pkcs11.conf" "$env/admin-nolog.conf"
    printf '\n[log]\nsyslog = no\n' >>"$env/admin-nolog.conf"
    chmod 600 "$env/admin-allow.conf" "$env/admin-badpin.conf" \
        "$env/admin-badpin.pin" "$env/admin-nolog.conf"
}

rm -rf "$tokens"
mkdir -p "$tokens"
for kind in softhsm nss; do
    if out=$("$gssp11" setup-dev --token "$kind" --mech-module "$mech_module" \
             "$tokens/$kind" 2>&1); then
        echo "$out"
        mkdir -p "$tokens/$kind/otherca"
        (add_test_identities "$tokens/$kind")
        mkdir -p "$tokens/$kind/caA" "$tokens/$kind/caI"
        (add_trust_identities "$tokens/$kind")
        (add_admin_identities "$tokens/$kind")
        # A throw-away environment for tests/test_token_race.c alone: it
        # logs in thousands of times, and a SoftHSM2 token whose process
        # dies inside C_Login is lost (docs/token-layer.md, quirk
        # token-info-race); the shared token above must not risk that.
        "$gssp11" setup-dev --token "$kind" --mech-module "$mech_module" \
            "$tokens/$kind-race" >/dev/null
    else
        case $out in
        *"is not installed (package"*)
            echo "$kind: $out" | tee "$tokens/$kind.skip"
            ;;
        *)
            echo "setup of the $kind token failed: $out" >&2
            exit 1
            ;;
        esac
    fi
done
