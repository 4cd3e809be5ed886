/* kl_core.h: the core umbrella header; forward typedefs and every core component. */

#ifndef KL_CORE_H
#define KL_CORE_H

#include "kl_config.h"
#include "kl_types.h"

#include "string.h"
#include "queue.h"
#include "rbtree.h"
#include "pool.h"
#include "array.h"
#include "list.h"
#include "buf.h"
#include "files.h"
#include "time.h"
#include "syslog.h"
#include "log.h"
#include "socket.h"
#include "module.h"
#include "conf.h"
#include "regex.h"
#include "shmem.h"
#include "slab.h"
#include "zone_tree.h"
#include "murmurhash.h"
#include "md5.h"
#include "base64.h"
#include "radix_tree.h"
#include "cidr.h"
#include "event.h"
#include "event_timer.h"
#include "connection.h"
#include "ssl.h"
#include "cycle.h"
#include "process.h"

#endif /* KL_CORE_H */
