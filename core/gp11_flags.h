/* SPDX-License-Identifier: Apache-2.0 */
/* The context flags of the engine. */
#ifndef GP11_FLAGS_H
#define GP11_FLAGS_H

/* RFC 2744's context flag values, which are also the bits of INIT's
 * req_flags and ACCEPT's ret_flags on the wire (protocol.md 2.2);
 * gss/establish.c checks that they are. GP11_CTX_TRANS_FLAG, local, is
 * in gp11_export.h. */
#define GP11_CTX_DELEG_FLAG 0x01u
#define GP11_CTX_MUTUAL_FLAG 0x02u
#define GP11_CTX_REPLAY_FLAG 0x04u
#define GP11_CTX_SEQUENCE_FLAG 0x08u
#define GP11_CTX_CONF_FLAG 0x10u
#define GP11_CTX_INTEG_FLAG 0x20u
#define GP11_CTX_ANON_FLAG 0x40u

#endif
