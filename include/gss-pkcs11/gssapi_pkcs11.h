/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Public definitions of gss-pkcs11 for applications: the mechanism OID,
 * its name type, and the QOP values (docs/protocol.md 3.3). Everything
 * else goes through the ordinary GSS-API.
 */
#ifndef GSSAPI_PKCS11_H
#define GSSAPI_PKCS11_H

/*
 * The mechanism OID 1.2.840.113556.1.8000.2554.699.53753.52470.19374.
 * 43690.12206812.14507593 (a build may override it with -Dmech_oid).
 * DER content bytes, for a gss_OID_desc.
 */
#define GSS_PKCS11_MECH_OID_LENGTH 33
#define GSS_PKCS11_MECH_OID_BYTES                                              \
    "\x2a\x86\x48\x86\xf7\x14\x01\xbe\x40\x93\x7a\x85\x3b\x83\xa3\x79\x83"     \
    "\x99\x76\x81\x97\x2e\x82\xd5\x2a\x85\xe9\x85\x5c\x86\xf5\xbc\x49"

/* The name type of an X.509 subject (RFC 4514 string): the mechanism OID
 * with one more arc, 1. */
#define GSS_PKCS11_NT_X509_SUBJECT_LENGTH 34
#define GSS_PKCS11_NT_X509_SUBJECT_BYTES GSS_PKCS11_MECH_OID_BYTES "\x01"

/* QOP values (gss_qop_t) selecting the token mechanism. */
#define GSS_PKCS11_QOP_AES256_GCM 0 /* the default */
#define GSS_PKCS11_QOP_HMAC_SHA256 1
#define GSS_PKCS11_QOP_HMAC_SHA384 2
#define GSS_PKCS11_QOP_HMAC_SHA512 3
#define GSS_PKCS11_QOP_AES_CMAC 4
#define GSS_PKCS11_QOP_AES128_GCM 5
#define GSS_PKCS11_QOP_CHACHA20_POLY1305 6

/* gss_acquire_cred_from cred-store keys. */
#define GSS_PKCS11_STORE_IDENTITY "pkcs11-identity"
#define GSS_PKCS11_STORE_TRUST_ANCHORS "trust-anchors"

#endif
