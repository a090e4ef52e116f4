#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""python-gssapi (Debian python3-gssapi) against gss-pkcs11.

python-gssapi is a real client: it calls MIT's libgssapi_krb5, which loads
our plugin through $GSS_MECH_CONFIG. Both sides run in this process. The
checks are those a Python application depends on: a context with the
flags it asked for, wrap/unwrap (sealed and not), get/verify_signature,
the IOV and AEAD extensions, every QOP the two tokens can run, what
inquire_context reports, the errors python-gssapi raises for a tampered
token, a replay and a bad QOP, and SPNEGO with set_neg_mechs.

Context export is refused with the default configuration (allow-export =
no); with the argument "export" (run with export.conf)
SecurityContext.export() and the import are checked to work, once only.

Environment (meson): GSS_MECH_CONFIG, GSS_PKCS11_CONF, SOFTHSM2_CONF,
GP11_TEST_TOKEN, GP11_TEST_SKIP_FILE. Exit 0 pass, 1 fail, 77 skip file.
"""
import os
import sys

if os.path.exists(os.environ.get("GP11_TEST_SKIP_FILE", "/nonexistent")):
    sys.exit(77)

import gssapi  # noqa: E402
import gssapi.raw as raw  # noqa: E402
from gssapi.raw import IOV, IOVBufferType  # noqa: E402

MECH = gssapi.OID.from_int_seq(
    "1.2.840.113556.1.8000.2554.699.53753.52470.19374.43690.12206812.14507593")
SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
CTX_TRANS = gssapi.OID.from_int_seq("1.3.6.1.5.5.13.27")  # RFC 5587
SERVICE = "host@localhost"
# QOPs of docs/protocol.md 3.3: 0, 5 and 6 seal, 1-4 only sign.
SEALING_QOPS = [0, 5]
MAC_QOPS = [1, 2, 3, 4]

failures = 0
checks = 0


def check(cond, what):
    """Counts one check, prints it when it fails."""
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print("FAIL: " + what, file=sys.stderr)


def raises(exc, fn, *args, **kw):
    """True when fn raises exc (a GSSError subclass)."""
    try:
        fn(*args, **kw)
    except exc:
        return True
    except gssapi.exceptions.GSSError as e:
        print("  raised %s (%s), expected %s" % (type(e).__name__, e,
              exc.__name__), file=sys.stderr)
        return False
    return False


def establish(flags, mech=MECH, icreds=None, acreds=None):
    """Runs both sides of a context in this process, returns (ini, acc)."""
    target = gssapi.Name(SERVICE, gssapi.NameType.hostbased_service)
    if acreds is None:
        acreds = gssapi.Credentials(name=target, usage="accept", mechs=[mech])
    ini = gssapi.SecurityContext(name=target, mech=mech, flags=flags,
                                 usage="initiate", creds=icreds)
    acc = gssapi.SecurityContext(creds=acreds, usage="accept")
    tok = ini.step()
    legs = 1
    while not (ini.complete and acc.complete):
        check(legs < 10, "establishment ends")
        if legs >= 10:
            break
        tok = acc.step(tok)
        legs += 1
        if tok is None or ini.complete:
            break
        tok = ini.step(tok)
        legs += 1
        if tok is None:
            break
    check(ini.complete and acc.complete, "both sides complete")
    return ini, acc


def test_context():
    flags = [gssapi.RequirementFlag.mutual_authentication,
             gssapi.RequirementFlag.replay_detection,
             gssapi.RequirementFlag.out_of_sequence_detection,
             gssapi.RequirementFlag.confidentiality,
             gssapi.RequirementFlag.integrity]
    ini, acc = establish(flags)
    for f in flags:
        check(f in ini.actual_flags, "initiator granted %s" % f.name)
        check(f in acc.actual_flags, "acceptor granted %s" % f.name)
    check(ini.mech == MECH and acc.mech == MECH, "context mechanism")
    check(str(ini.target_name) == SERVICE, "initiator's target name: %s"
          % ini.target_name)
    check(str(acc.initiator_name) != "", "acceptor sees the initiator")
    check(0 < ini.lifetime <= 10 * 3600, "lifetime %d" % ini.lifetime)
    check(ini.locally_initiated and not acc.locally_initiated,
          "locally_initiated")
    return ini, acc


def test_wrap(ini, acc):
    for msg in [b"", b"x", b"hello python-gssapi", os.urandom(70000)]:
        w = ini.wrap(msg, True)
        check(w.encrypted, "sealed wrap reports encryption")
        check(len(msg) < 8 or msg[:8] not in w.message,
              "sealed wrap hides the message (%d bytes)" % len(msg))
        u = acc.unwrap(w.message)
        check(u.message == msg and u.encrypted, "unwrap (%d)" % len(msg))
        w = acc.wrap(msg, False)
        check(not w.encrypted, "integrity-only wrap")
        u = ini.unwrap(w.message)
        check(u.message == msg and not u.encrypted, "unwrap integrity-only")


def test_mic(ini, acc):
    for msg in [b"", b"signed", os.urandom(5000)]:
        sig = ini.get_signature(msg)
        check(raw.verify_mic(acc, msg, sig) == 0, "verify_signature")


def test_refusals():
    """Tampering, replay and a gap on a context with replay detection only
    (a refused token still consumed the sender's sequence number, which a
    context with sequence detection would report as a gap)."""
    ini, acc = establish([gssapi.RequirementFlag.replay_detection,
                          gssapi.RequirementFlag.integrity,
                          gssapi.RequirementFlag.confidentiality])
    w = ini.wrap(b"tamper me", True)
    bad = bytearray(w.message)
    bad[-1] ^= 1
    check(raises(gssapi.exceptions.BadMICError, acc.unwrap, bytes(bad)),
          "tampered WRAP -> BadMICError")
    # The untampered one is still accepted once, then it is a replay.
    check(acc.unwrap(w.message).message == b"tamper me", "original accepted")
    check(raises(gssapi.exceptions.DuplicateTokenError, acc.unwrap,
                 w.message), "replayed WRAP -> DuplicateTokenError")
    check(raises(gssapi.exceptions.BadMICError, acc.verify_signature,
                 b"other message", ini.get_signature(b"message")),
          "MIC over another message -> BadMICError")
    sig = ini.get_signature(b"signed")
    bad = bytearray(sig)
    bad[8] ^= 0x80
    check(raises(gssapi.exceptions.GSSError, acc.verify_signature,
                 b"signed", bytes(bad)), "MIC with a changed SND_SEQ refused")
    check(raises(gssapi.exceptions.GSSError, acc.unwrap, w.message[:20]),
          "truncated WRAP refused")
    seq = establish([gssapi.RequirementFlag.replay_detection,
                     gssapi.RequirementFlag.out_of_sequence_detection,
                     gssapi.RequirementFlag.integrity])
    first = seq[0].get_signature(b"1")
    second = seq[0].get_signature(b"2")
    check(raises(gssapi.exceptions.TokenTooEarlyError, seq[1].verify_signature,
                 b"2", second), "a gap -> TokenTooEarlyError")
    check(raises(gssapi.exceptions.TokenTooLateError,
                 seq[1].verify_signature, b"1", first),
          "the skipped token afterwards -> TokenTooLateError")


def test_qops(ini, acc):
    for qop in SEALING_QOPS + MAC_QOPS:
        msg = b"qop %d" % qop
        w = raw.wrap(ini, msg, confidential=False, qop=qop)
        u = raw.unwrap(acc, w.message)
        check(u.message == msg and u.qop == qop,
              "QOP %d integrity wrap, reported qop %d" % (qop, u.qop))
        mic = raw.get_mic(acc, msg, qop=qop)
        check(raw.verify_mic(ini, msg, mic) == qop, "QOP %d MIC" % qop)
    for qop in SEALING_QOPS:
        w = raw.wrap(ini, b"sealed", confidential=True, qop=qop)
        check(w.encrypted, "QOP %d seals" % qop)
        check(raw.unwrap(acc, w.message).message == b"sealed",
              "QOP %d sealed unwrap" % qop)
    for qop in MAC_QOPS:
        check(raises(gssapi.exceptions.BadQoPError, raw.wrap, ini, b"m",
                     confidential=True, qop=qop),
              "MAC QOP %d cannot seal -> BadQoPError" % qop)
    check(raises(gssapi.exceptions.BadQoPError, raw.get_mic, ini, b"m",
                 qop=77), "unknown QOP -> BadQoPError")


def test_iov_aead(ini, acc):
    iov = IOV(IOVBufferType.header, (IOVBufferType.sign_only, b"signed only"),
              b"data to seal", IOVBufferType.padding, IOVBufferType.trailer,
              std_layout=False)
    check(raw.wrap_iov(ini, iov, confidential=True), "wrap_iov seals")
    check(iov[2].value != b"data to seal", "wrap_iov encrypted in place")
    raw.unwrap_iov(acc, iov)
    check(iov[2].value == b"data to seal", "unwrap_iov restores the data")
    w = raw.wrap_aead(acc, b"aead message", associated=b"assoc",
                      confidential=True)
    u = raw.unwrap_aead(ini, w.message, associated=b"assoc")
    check(u.message == b"aead message", "wrap_aead / unwrap_aead")
    w = raw.wrap_aead(acc, b"aead message", associated=b"assoc",
                      confidential=True)
    check(raises(gssapi.exceptions.BadMICError, raw.unwrap_aead, ini,
                 w.message, associated=b"other"),
          "unwrap_aead with other associated data -> BadMICError")
    mic_iov = IOV(b"mic data", (IOVBufferType.mic_token, True),
                  std_layout=False)
    raw.get_mic_iov(ini, mic_iov)
    mic = mic_iov[1].value
    check(len(mic) == 32, "get_mic_iov: %d-byte MIC token" % len(mic))
    # The receiver builds its IOV from the bytes it received.
    rcv = IOV(b"mic data", (IOVBufferType.mic_token, False, mic),
              std_layout=False)
    check(raw.verify_mic_iov(acc, rcv) == 0, "verify_mic_iov")
    rcv = IOV(b"mic datA", (IOVBufferType.mic_token, False, mic),
              std_layout=False)
    check(raises(gssapi.exceptions.BadMICError, raw.verify_mic_iov, acc, rcv),
          "verify_mic_iov over other data -> BadMICError")


def test_inquire(ini, acc):
    r = raw.inquire_context(acc, initiator_name=True, target_name=True,
                            lifetime=True, mech=True, flags=True,
                            locally_init=True, complete=True)
    check(r.complete and r.mech == MECH, "inquire_context: complete, mech")
    check(r.lifetime > 0, "inquire_context: lifetime")
    attrs = raw.inquire_attrs_for_mech(MECH)
    check(len(attrs.mech_attrs) > 0, "inquire_attrs_for_mech answers")
    check(CTX_TRANS not in attrs.mech_attrs and CTX_TRANS in attrs.known_mech_attrs,
          "GSS_C_MA_CTX_TRANS not claimed while allow-export = no")
    sasl = raw.inquire_saslname_for_mech(MECH)
    check(sasl.sasl_mech_name.startswith(b"GS2-"),
          "SASL name %r" % sasl.sasl_mech_name)
    check(raw.inquire_mech_for_saslname(sasl.sasl_mech_name) == MECH,
          "inquire_mech_for_saslname round trip")


def test_not_yet(ini, acc):
    """Export refused by policy: a clean status, no crash."""
    check(raises(gssapi.exceptions.GSSError, raw.export_sec_context, ini),
          "export_sec_context refused while allow-export = no")


def test_name_attributes(ini, acc):
    """RFC 6680 attributes of the peer names (docs/names.md)."""
    attrs = acc.initiator_name.attributes
    check(b"urn:gss-pkcs11:x509:san:email" in attrs,
          "initiator name lists san:email: %r" % list(attrs))
    email = attrs[b"urn:gss-pkcs11:x509:san:email"]
    check(email.authenticated and email.complete,
          "san:email authenticated and complete")
    check(list(email.values) == [b"alice@localhost"],
          "san:email value %r" % list(email.values))
    cert = attrs[b"urn:gss-pkcs11:x509:certificate"]
    check(len(list(cert.values)[0]) > 200, "certificate attribute holds DER")
    peer = ini.target_name
    check(b"urn:gss-pkcs11:x509:san:dns" in peer.attributes,
          "acceptor name lists san:dns")


def test_inquire_by_oid(ini, acc):
    """Session keys are refused (they never leave the token); unknown OIDs
    are unavailable."""
    session_key = gssapi.OID.from_int_seq("1.2.840.113554.1.2.2.5.5")
    try:
        raw.inquire_sec_context_by_oid(ini, session_key)
        check(False, "GSS_C_INQ_SSPI_SESSION_KEY refused")
    except gssapi.exceptions.OperationUnavailableError as e:
        check("never leave the token" in str(e),
              "session key refusal says why: %s" % e)
    other = gssapi.OID.from_int_seq("1.3.6.1.4.1.99999.1")
    check(raises(gssapi.exceptions.OperationUnavailableError,
                 raw.inquire_sec_context_by_oid, acc, other),
          "unknown context OID -> OperationUnavailableError")


def test_spnego():
    icreds = gssapi.Credentials(usage="initiate", mechs=[SPNEGO])
    raw.set_neg_mechs(icreds, [MECH])
    target = gssapi.Name(SERVICE, gssapi.NameType.hostbased_service)
    acreds = gssapi.Credentials(name=target, usage="accept",
                                mechs=[SPNEGO])
    raw.set_neg_mechs(acreds, [MECH])
    ini, acc = establish([gssapi.RequirementFlag.mutual_authentication,
                          gssapi.RequirementFlag.integrity],
                         mech=SPNEGO, icreds=icreds, acreds=acreds)
    check(acc.mech == MECH, "SPNEGO negotiated our mechanism: %s" % acc.mech)
    w = ini.wrap(b"through spnego", True)
    check(acc.unwrap(w.message).message == b"through spnego",
          "wrap through SPNEGO")


def test_export():
    """SecurityContext.export() and import (run with export.conf)."""
    flags = (gssapi.RequirementFlag.mutual_authentication |
             gssapi.RequirementFlag.replay_detection |
             gssapi.RequirementFlag.out_of_sequence_detection)
    ini, acc = establish(flags)
    check(gssapi.RequirementFlag.transferable in ini.actual_flags,
          "TRANS granted with allow-export = yes")
    check(CTX_TRANS in raw.inquire_attrs_for_mech(MECH).mech_attrs,
          "GSS_C_MA_CTX_TRANS claimed with allow-export = yes")
    check(acc.unwrap(ini.wrap(b"one", True).message).message == b"one",
          "wrap before export")
    blob = ini.export()
    check(isinstance(blob, bytes) and len(blob) > 100, "export gives a blob")
    ini2 = gssapi.SecurityContext(token=blob)
    check(ini2.complete and ini2.locally_initiated, "imported, initiator")
    check(acc.unwrap(ini2.wrap(b"two", True).message).message == b"two",
          "imported context wraps in sequence")
    check(ini2.unwrap(acc.wrap(b"three", True).message).message == b"three",
          "imported context unwraps")
    check(raises(gssapi.exceptions.GSSError, gssapi.SecurityContext,
                 token=blob), "a second import is refused")
    bad = bytearray(blob)
    bad[-1] ^= 1
    check(raises(gssapi.exceptions.GSSError, gssapi.SecurityContext,
                 token=bytes(bad)), "an altered blob is refused")


def main():
    print("python-gssapi: token %s" % os.environ.get("GP11_TEST_TOKEN"))
    if sys.argv[1:] == ["export"]:
        test_export()
        print("python-gssapi: %d checks, %d failed" % (checks, failures))
        return 1 if failures else 0
    ini, acc = test_context()
    test_wrap(ini, acc)
    test_mic(ini, acc)
    test_qops(ini, acc)
    test_iov_aead(ini, acc)
    test_inquire(ini, acc)
    test_not_yet(ini, acc)
    test_name_attributes(ini, acc)
    test_inquire_by_oid(ini, acc)
    test_refusals()
    test_spnego()
    print("python-gssapi: %d checks, %d failed" % (checks, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
