/* kl_config.h: system headers, base integer types and return codes for all of kiln. */

#ifndef KL_CONFIG_H
#define KL_CONFIG_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "kl_auto_config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef intptr_t  kl_int_t;
typedef uintptr_t kl_uint_t;
typedef uint64_t  kl_msec_t;
typedef int64_t   kl_msec_int_t;
typedef int       kl_err_t;
typedef int       kl_fd_t;

#ifndef u_char
typedef unsigned char u_char;
#define u_char u_char
#endif

/* Closed set of return codes; phase handlers may also return HTTP statuses. */
#define KL_OK       0
#define KL_ERROR    -1
#define KL_AGAIN    -2
#define KL_BUSY     -3
#define KL_DONE     -4
#define KL_DECLINED -5
#define KL_ABORT    -6

#define KL_INT_T_LEN        (sizeof("-9223372036854775808") - 1)
#define KL_MAX_INT_T_VALUE  INTPTR_MAX
#define KL_MAX_OFF_T_VALUE  INT64_MAX
#define KL_MAX_SIZE_T_VALUE SIZE_MAX
#define KL_MAX_TIME_T_VALUE INT64_MAX

#define KL_ALIGNMENT   sizeof(unsigned long)
#define kl_align(d, a) (((d) + (a - 1)) & ~(a - 1))
#define kl_align_ptr(p, a)                                                     \
    (u_char *) (((uintptr_t) (p) + ((uintptr_t) a - 1)) & ~((uintptr_t) a - 1))

#define kl_abs(value) (((value) >= 0) ? (value) : -(value))
#define kl_max(a, b)  (((a) < (b)) ? (b) : (a))
#define kl_min(a, b)  (((a) > (b)) ? (b) : (a))

#define KL_LF   (u_char) '\n'
#define KL_CR   (u_char) '\r'
#define KL_CRLF "\r\n"

#define KL_INVALID_FILE -1
#define KL_FILE_ERROR   -1

#define kl_errno        errno
#define kl_socket_errno errno

#define kl_nonblocking(s) kl_socket_nonblocking(s)

#endif /* KL_CONFIG_H */
