/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A program built against an installed gss-pkcs11 with nothing but
 * `pkg-config --cflags --libs gss-pkcs11` (tests/install-pc.sh): it needs
 * the installed public header and MIT's GSS-API library, and prints the
 * header's mechanism OID and X.509 name type as the GSS-API spells them
 * ("{ 1 2 840 ... }"), one a line.
 */
#include <gss-pkcs11/gssapi_pkcs11.h>
#include <gssapi/gssapi.h>
#include <stdio.h>

/* The byte strings and their stated lengths must agree. */
_Static_assert(sizeof(GSS_PKCS11_MECH_OID_BYTES) - 1 ==
                   GSS_PKCS11_MECH_OID_LENGTH,
               "GSS_PKCS11_MECH_OID_LENGTH");
_Static_assert(sizeof(GSS_PKCS11_NT_X509_SUBJECT_BYTES) - 1 ==
                   GSS_PKCS11_NT_X509_SUBJECT_LENGTH,
               "GSS_PKCS11_NT_X509_SUBJECT_LENGTH");

/* Prints one OID through gss_oid_to_str; 0 on success. */
static int print_oid(const char *what, gss_OID oid)
{
    OM_uint32 major, minor;
    gss_buffer_desc str = GSS_C_EMPTY_BUFFER;
    int rc = 1;

    major = gss_oid_to_str(&minor, oid, &str);
    if (GSS_ERROR(major)) {
        fprintf(stderr, "gss_oid_to_str(%s): major 0x%x minor %u\n", what,
                (unsigned)major, (unsigned)minor);
        goto done;
    }
    printf("%.*s\n", (int)str.length, (const char *)str.value);
    rc = 0;
done:
    gss_release_buffer(&minor, &str);
    return rc;
}

int main(void)
{
    gss_OID_desc mech = {GSS_PKCS11_MECH_OID_LENGTH,
                         (void *)GSS_PKCS11_MECH_OID_BYTES};
    gss_OID_desc x509 = {GSS_PKCS11_NT_X509_SUBJECT_LENGTH,
                         (void *)GSS_PKCS11_NT_X509_SUBJECT_BYTES};

    if (print_oid("mechanism", &mech) != 0)
        return 1;
    if (print_oid("name type", &x509) != 0)
        return 1;
    return 0;
}
