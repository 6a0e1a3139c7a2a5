/* cmd_ctl.c — `canhgac ctl`: sends one command to a running sensor's control
 * socket (sensor/ctl.h) and prints its JSON reply.
 *
 *   canhgac ctl [--ctl PATH] [--timeout SECONDS] [--pretty] COMMAND
 *
 * The commands are known here too, so a typo is refused without a round
 * trip; the sensor judges them again. The reply is printed as the sensor
 * sent it (one JSON line) or, with --pretty, indented. Exit: 0 the sensor
 * answered without an "error" member; 1 it answered an error (or something
 * that is not a JSON object); 2 usage, or no answer at PATH (nothing
 * listening, no permission, no reply within the timeout).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sensor/ctl.h"
#include "tools/cli.h"

#define DEFAULT_CTL "/run/canhgac/ctl.sock"

static const char *const ctl_commands[] = { "stats", "reload", "reopen", "flows", "version" };

static const char ctl_usage[] =
    "usage: canhgac ctl [options] COMMAND\n"
    "\n"
    "Sends COMMAND to a running `canhgac run` over its control socket (run --ctl)\n"
    "and prints the reply, one JSON object.\n"
    "\n"
    "commands:\n"
    "  stats     the counters of the running sensor (packets, flows, alerts, ...)\n"
    "  reload    load the rules again (as SIGHUP does)\n"
    "  reopen    reopen the EVE file, after logrotate moved it (as SIGUSR2 does)\n"
    "  flows     the flow table's state\n"
    "  version   the sensor's version\n"
    "\n"
    "options:\n"
    "      --ctl PATH         the control socket (default $CANHGAC_CTL, else\n"
    "                         " DEFAULT_CTL ")\n"
    "      --timeout SECONDS  how long to wait for the reply (default 5; 0.1 to 3600)\n"
    "      --pretty           indent the reply\n"
    "  -h, --help             this help\n"
    "\n"
    "examples:\n"
    "  canhgac ctl stats\n"
    "  canhgac ctl --ctl /run/canhgac/eth1.sock reload\n"
    "  canhgac ctl --ctl /run/canhgac/eth1.sock stats | jq .stats.detect.alert\n"
    "  CANHGAC_CTL=/run/canhgac/eth1.sock canhgac ctl --pretty flows\n"
    "\n"
    "exit: 0 the sensor answered; 1 it answered an error (or not JSON); 2 usage,\n"
    "      or no answer at PATH (no sensor running, a stale socket, no permission,\n"
    "      no reply within the timeout)\n";

static int known_command(const char *cmd)
{
    for (size_t i = 0; i < sizeof ctl_commands / sizeof ctl_commands[0]; i++)
        if (!strcmp(cmd, ctl_commands[i]))
            return 1;
    return 0;
}

int cg_cmd_ctl(int argc, char **argv)
{
    static const struct option opts[] = { { "ctl", required_argument, 0, 'c' },
                                          { "timeout", required_argument, 0, 't' },
                                          { "pretty", no_argument, 0, 'p' },
                                          { "help", no_argument, 0, 'h' },
                                          { 0, 0, 0, 0 } };
    const char *path = getenv("CANHGAC_CTL");
    double timeout = 5.0;
    int pretty = 0, c, ret = CG_EXIT_INPUT;
    char err[1024], *reply = NULL, *end;
    json_object *obj = NULL;

    if (!path || !*path)
        path = DEFAULT_CTL;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 't':
            timeout = strtod(optarg, &end);
            if (end == optarg || *end || !(timeout >= 0.1 && timeout <= 3600)) {
                fprintf(stderr, "canhgac ctl: --timeout: '%s' is not 0.1 to 3600 seconds\n",
                        optarg);
                return CG_EXIT_INPUT;
            }
            break;
        case 'p': pretty = 1; break;
        case 'h': fputs(ctl_usage, stdout); return CG_EXIT_OK;
        default: fputs(ctl_usage, stderr); return CG_EXIT_INPUT;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "canhgac ctl: %s\n%s", optind == argc ? "no command" : "one command only",
                ctl_usage);
        return CG_EXIT_INPUT;
    }
    const char *cmd = argv[optind];
    if (!known_command(cmd)) {
        fprintf(stderr,
                "canhgac ctl: unknown command '%s' (stats, reload, reopen, flows, version)\n", cmd);
        return CG_EXIT_INPUT;
    }
    if (!*path) {
        fprintf(stderr, "canhgac ctl: --ctl: empty path\n");
        return CG_EXIT_INPUT;
    }

    /* one byte more than the largest reply, its newline and the NUL */
    size_t cap = (size_t)CG_CTL_REPLY_MAX + 2;
    if (!(reply = malloc(cap))) {
        fprintf(stderr, "canhgac ctl: out of memory\n");
        return CG_EXIT_FAIL;
    }
    if (cg_ctl_request(path, cmd, reply, cap, (int)(timeout * 1000), err, sizeof err)) {
        fprintf(stderr, "canhgac ctl: %s\n", err);
        goto done;
    }

    enum json_tokener_error jerr;
    obj = json_tokener_parse_verbose(reply, &jerr);
    if (!obj || !json_object_is_type(obj, json_type_object)) {
        puts(reply);
        fprintf(stderr, "canhgac ctl: %s: the reply is not a JSON object\n", path);
        ret = CG_EXIT_FAIL;
        goto done;
    }
    if (pretty)
        puts(json_object_to_json_string_ext(obj,
                                            JSON_C_TO_STRING_PRETTY |
                                                JSON_C_TO_STRING_NOSLASHESCAPE));
    else
        puts(reply);
    json_object *e;
    if (json_object_object_get_ex(obj, "error", &e)) {
        fprintf(stderr, "canhgac ctl: the sensor refused '%s': %s\n", cmd,
                json_object_is_type(e, json_type_string) ? json_object_get_string(e)
                                                         : json_object_to_json_string(e));
        ret = CG_EXIT_FAIL;
        goto done;
    }
    ret = CG_EXIT_OK;
done:
    if (fflush(stdout) != 0 && ret == CG_EXIT_OK)
        ret = CG_EXIT_FAIL;
    json_object_put(obj);
    free(reply);
    return ret;
}
