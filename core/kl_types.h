/* kl_types.h: forward typedefs shared by every core header. */

#ifndef KL_TYPES_H
#define KL_TYPES_H

typedef struct kl_pool_s       kl_pool_t;
typedef struct kl_buf_s        kl_buf_t;
typedef struct kl_chain_s      kl_chain_t;
typedef struct kl_log_s        kl_log_t;
typedef struct kl_open_file_s  kl_open_file_t;
typedef struct kl_array_s      kl_array_t;
typedef struct kl_list_s       kl_list_t;
typedef struct kl_file_s       kl_file_t;
typedef struct kl_cycle_s      kl_cycle_t;
typedef struct kl_module_s     kl_module_t;
typedef struct kl_command_s    kl_command_t;
typedef struct kl_conf_s       kl_conf_t;
typedef struct kl_event_s      kl_event_t;
typedef struct kl_connection_s kl_connection_t;
typedef struct kl_listening_s  kl_listening_t;
typedef struct kl_loop_s       kl_loop_t;
typedef struct kl_stat_s       kl_stat_t;

typedef void (*kl_event_handler_pt)(kl_event_t *ev);
typedef void (*kl_connection_handler_pt)(kl_connection_t *c);

#endif /* KL_TYPES_H */
