/* base64.h: base64 and base64url (RFC 4648) encoding and decoding. */

#ifndef KL_BASE64_H
#define KL_BASE64_H

#include "kl_config.h"
#include "kl_types.h"

/* Bytes needed to encode or decode len bytes (an upper bound to decode). */
#define kl_base64_encoded_length(len) (((len) + 2) / 3 * 4)
#define kl_base64_decoded_length(len) (((len) + 3) / 4 * 3)

/* Encode len bytes of src into dst, padded with '='; returns the length. */
size_t kl_base64_encode(u_char *dst, const u_char *src, size_t len);

/*
 * Decode len bytes of src into dst (kl_base64_decoded_length(len) room).
 * As nginx: the input ends at the first '=' or at len, a character out of
 * the alphabet before it is an error, and so is a length leaving one
 * character over (len % 4 == 1). *out is the decoded length. KL_OK or
 * KL_ERROR. Pure. The url form reads '-' and '_' for '+' and '/'.
 */
kl_int_t kl_base64_decode(u_char *dst, size_t *out, const u_char *src,
                          size_t len);
kl_int_t kl_base64url_decode(u_char *dst, size_t *out, const u_char *src,
                             size_t len);

#endif /* KL_BASE64_H */
