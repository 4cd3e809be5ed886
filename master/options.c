/* options.c: nginx's command-line flags (-c -p -g -e -t -T -s -v -V -q -h). */

#include "kl_core.h"
#include "master.h"


static char *
kl_option_value(int *i, int argc, char *const *argv, char **p, const char *what,
                char flag)
{
    char *value;

    if (**p) {
        value = *p;
        *p += strlen(*p);
        return value;
    }

    if (*i + 1 < argc) {
        (*i)++;
        return argv[*i];
    }

    kl_log_stderr(0, "option \"-%c\" requires %s", flag, what);
    return NULL;
}


kl_int_t
kl_options_parse(kl_options_t *opts, int argc, char *const *argv)
{
    int   i;
    char *p;

    kl_memzero(opts, sizeof(kl_options_t));

    for (i = 1; i < argc; i++) {

        p = argv[i];

        if (*p++ != '-') {
            kl_log_stderr(0, "invalid option: \"%s\"", argv[i]);
            return KL_ERROR;
        }

        while (*p) {

            switch (*p++) {

            case '?':
            case 'h':
                opts->show_version = 1;
                opts->show_help = 1;
                break;

            case 'v':
                opts->show_version = 1;
                break;

            case 'V':
                opts->show_version = 1;
                opts->show_configure = 1;
                break;

            case 't':
                opts->test_config = 1;
                break;

            case 'T':
                opts->test_config = 1;
                opts->dump_config = 1;
                break;

            case 'q':
                opts->quiet = 1;
                break;

            case 'p':
                opts->prefix =
                    kl_option_value(&i, argc, argv, &p, "prefix path", 'p');
                if (opts->prefix == NULL) {
                    return KL_ERROR;
                }
                goto next;

            case 'e':
                opts->error_log =
                    kl_option_value(&i, argc, argv, &p, "file name", 'e');
                if (opts->error_log == NULL) {
                    return KL_ERROR;
                }
                goto next;

            case 'c':
                opts->conf_file =
                    kl_option_value(&i, argc, argv, &p, "file name", 'c');
                if (opts->conf_file == NULL) {
                    return KL_ERROR;
                }
                goto next;

            case 'g':
                opts->conf_params =
                    kl_option_value(&i, argc, argv, &p, "parameters", 'g');
                if (opts->conf_params == NULL) {
                    return KL_ERROR;
                }
                goto next;

            case 's':
                opts->signal =
                    kl_option_value(&i, argc, argv, &p, "signal", 's');
                if (opts->signal == NULL) {
                    return KL_ERROR;
                }

                if (strcmp(opts->signal, "stop") == 0
                    || strcmp(opts->signal, "quit") == 0
                    || strcmp(opts->signal, "reopen") == 0
                    || strcmp(opts->signal, "reload") == 0)
                {
                    goto next;
                }

                kl_log_stderr(0, "invalid option: \"-s %s\"", opts->signal);
                return KL_ERROR;

            default:
                kl_log_stderr(0, "invalid option: \"%c\"", *(p - 1));
                return KL_ERROR;
            }
        }

next:

        continue;
    }

    return KL_OK;
}


void
kl_options_show(kl_options_t *opts)
{
    static const char help[] =
        "Usage: kiln [-?hvVtTq] [-s signal] [-p prefix]"
        "\n"
        "             [-e filename] [-c filename] [-g directives]"
        "\n"
        "\n"
        "Options:"
        "\n"
        "  -?,-h         : this help"
        "\n"
        "  -v            : show version and exit"
        "\n"
        "  -V            : show version and configure options then exit"
        "\n"
        "  -t            : test configuration and exit"
        "\n"
        "  -T            : test configuration, dump it and exit"
        "\n"
        "  -q            : suppress non-error messages "
        "during configuration testing"
        "\n"
        "  -s signal     : send signal to a master process: "
        "stop, quit, reopen, reload"
        "\n"
        "  -p prefix     : set prefix path (default: " KL_PREFIX ")"
        "\n"
        "  -e filename   : set error log file (default: " KL_ERROR_LOG_PATH ")"
        "\n"
        "  -c filename   : set configuration file (default: " KL_CONF_PATH ")"
        "\n"
        "  -g directives : set global directives out of configuration "
        "file"
        "\n"
        "\n";

    (void) kl_write_fd_all(STDERR_FILENO, "kiln version: " KL_VER "\n",
                           sizeof("kiln version: " KL_VER "\n") - 1);

    if (opts->show_help) {
        (void) kl_write_fd_all(STDERR_FILENO, help, sizeof(help) - 1);
    }

    if (opts->show_configure) {
        static const char conf[] = "built by " KL_COMPILER "\n"
                                   "configure arguments:" KL_CONFIGURE "\n";

        (void) kl_write_fd_all(STDERR_FILENO, conf, sizeof(conf) - 1);
    }
}
