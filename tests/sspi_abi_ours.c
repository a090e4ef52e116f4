/* SPDX-License-Identifier: Apache-2.0 */
/* The ABI check against <gss-pkcs11/sspi.h> (see sspi_abi_body.c). */
#include "gss-pkcs11/sspi.h"

#include "sspi_abi_body.c"
