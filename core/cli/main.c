/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn: the administration tool of the Cairn archive. Parses the command
 * line and runs one command. The listings and the consistency check open
 * the index named by the configuration file. The control commands (ae,
 * echo, query, retrieve, send, jobs) call the control API of a running
 * cairnd.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_api.h"

/*
 * Command options, as bits of a command's allowed set. Bit 0 stays free
 * because getopt_long returns 1 for an operand.
 */
enum {
    OPTION_JSON = 1u << 1,
    OPTION_PATIENT = 1u << 2,
    OPTION_ISSUER = 1u << 3,
    OPTION_STUDY = 1u << 4,
    OPTION_SERIES = 1u << 5,
    OPTION_REPAIR = 1u << 6,
    OPTION_MIN_AGE = 1u << 7,
    OPTION_INSTANCE = 1u << 8,
    OPTION_DESTINATION = 1u << 9,
    OPTION_WAIT = 1u << 10,
    OPTION_MODEL = 1u << 11,
    OPTION_LEVEL = 1u << 12,
    OPTION_KEY = 1u << 13,
    OPTION_MAX_RESULTS = 1u << 14,
    OPTION_NO_DEFAULT_KEYS = 1u << 15,
    OPTION_CALLING_AE = 1u << 16,
    OPTION_TIMEOUT = 1u << 17,
    OPTION_API = 1u << 18,
    OPTION_TOKEN = 1u << 19,
    OPTION_CACERT = 1u << 20,
    OPTION_INSECURE = 1u << 21,
    OPTION_INSTANCES = 1u << 22
};

/* The options every control command takes. */
#define API_OPTIONS (OPTION_JSON | OPTION_API | OPTION_TOKEN | OPTION_CACERT | OPTION_INSECURE)
#define LIST_OPTIONS (OPTION_JSON | OPTION_PATIENT | OPTION_ISSUER)
#define TRANSFER_OPTIONS (API_OPTIONS | OPTION_STUDY | OPTION_SERIES | OPTION_INSTANCE | \
                          OPTION_WAIT | OPTION_CALLING_AE | OPTION_TIMEOUT)

typedef enum command_id {
    COMMAND_LIST,
    COMMAND_CHECK,
    COMMAND_AE,
    COMMAND_ECHO,
    COMMAND_QUERY,
    COMMAND_RETRIEVE,
    COMMAND_SEND,
    COMMAND_JOBS,
    COMMAND_COMMITMENT,
    COMMAND_MPPS,
    COMMAND_OUTBOX
} command_id;

typedef struct command {
    const char *name;
    command_id id;
    cairn_index_level level; /* for COMMAND_LIST */
    unsigned allowed;        /* OPTION_* bits */
    int min_operands;        /* words after the command name */
    int max_operands;
} command;

static const command commands[] = {
    {"patients", COMMAND_LIST, CAIRN_LEVEL_PATIENT, LIST_OPTIONS, 0, 0},
    {"studies", COMMAND_LIST, CAIRN_LEVEL_STUDY, LIST_OPTIONS | OPTION_STUDY, 0, 0},
    {"series", COMMAND_LIST, CAIRN_LEVEL_SERIES, LIST_OPTIONS | OPTION_STUDY | OPTION_SERIES, 0, 0},
    {"instances", COMMAND_LIST, CAIRN_LEVEL_INSTANCE, LIST_OPTIONS | OPTION_STUDY | OPTION_SERIES,
     0, 0},
    {"check", COMMAND_CHECK, CAIRN_LEVEL_INSTANCE, OPTION_REPAIR | OPTION_MIN_AGE, 0, 0},
    {"ae", COMMAND_AE, CAIRN_LEVEL_PATIENT, API_OPTIONS, 0, 2},
    {"echo", COMMAND_ECHO, CAIRN_LEVEL_PATIENT, API_OPTIONS | OPTION_CALLING_AE, 1, 1},
    {"query", COMMAND_QUERY, CAIRN_LEVEL_PATIENT,
     API_OPTIONS | OPTION_MODEL | OPTION_LEVEL | OPTION_KEY | OPTION_MAX_RESULTS |
         OPTION_NO_DEFAULT_KEYS | OPTION_CALLING_AE | OPTION_TIMEOUT, 1, 1},
    {"retrieve", COMMAND_RETRIEVE, CAIRN_LEVEL_PATIENT, TRANSFER_OPTIONS | OPTION_DESTINATION, 1,
     1},
    {"send", COMMAND_SEND, CAIRN_LEVEL_PATIENT, TRANSFER_OPTIONS, 1, 1},
    {"jobs", COMMAND_JOBS, CAIRN_LEVEL_PATIENT, API_OPTIONS | OPTION_WAIT | OPTION_TIMEOUT, 0, 2},
    {"commitment", COMMAND_COMMITMENT, CAIRN_LEVEL_PATIENT, API_OPTIONS | OPTION_INSTANCES, 1, 1},
    {"mpps", COMMAND_MPPS, CAIRN_LEVEL_PATIENT, API_OPTIONS, 0, 1},
    {"outbox", COMMAND_OUTBOX, CAIRN_LEVEL_PATIENT, API_OPTIONS, 0, 0},
};

/* Everything the command line sets. */
typedef struct arguments {
    const char *config_path;
    const command *command;
    unsigned options_seen; /* OPTION_* bits */
    const char *operands[2];
    int n_operands;
    cli_list_filter filter;
    cli_check_options check;
    cli_api_options api;
    cli_job_args job;
    char level[8];         /* --level in upper case */
} arguments;

/* Prints a usage error and the hint to --help, and returns CLI_EXIT_USAGE. */
static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("cairn: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'cairn --help' for the commands and options.\n", stderr);
    return CLI_EXIT_USAGE;
}

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

static const struct option command_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},
    {"json", no_argument, NULL, OPTION_JSON},
    {"patient", required_argument, NULL, OPTION_PATIENT},
    {"issuer", required_argument, NULL, OPTION_ISSUER},
    {"study", required_argument, NULL, OPTION_STUDY},
    {"series", required_argument, NULL, OPTION_SERIES},
    {"repair", no_argument, NULL, OPTION_REPAIR},
    {"min-age", required_argument, NULL, OPTION_MIN_AGE},
    {"instance", required_argument, NULL, OPTION_INSTANCE},
    {"destination", required_argument, NULL, OPTION_DESTINATION},
    {"wait", no_argument, NULL, OPTION_WAIT},
    {"model", required_argument, NULL, OPTION_MODEL},
    {"level", required_argument, NULL, OPTION_LEVEL},
    {"key", required_argument, NULL, OPTION_KEY},
    {"max-results", required_argument, NULL, OPTION_MAX_RESULTS},
    {"no-default-keys", no_argument, NULL, OPTION_NO_DEFAULT_KEYS},
    {"calling-ae", required_argument, NULL, OPTION_CALLING_AE},
    {"timeout", required_argument, NULL, OPTION_TIMEOUT},
    {"instances", no_argument, NULL, OPTION_INSTANCES},
    {"api", required_argument, NULL, OPTION_API},
    {"token", required_argument, NULL, OPTION_TOKEN},
    {"cacert", required_argument, NULL, OPTION_CACERT},
    {"insecure", no_argument, NULL, OPTION_INSECURE},
    {NULL, 0, NULL, 0},
};

static const char *option_name(unsigned bit)
{
    for (size_t i = 0; command_options[i].name != NULL; i++) {
        if ((unsigned)command_options[i].val == bit)
            return command_options[i].name;
    }
    return "?";
}

/* Stores a value that must not be empty, since an empty one would match or name nothing. */
static int set_text(const char **slot, unsigned bit, const char *value)
{
    if (value[0] == '\0')
        return usage_error("--%s needs a non-empty value", option_name(bit));
    *slot = value;
    return 0;
}

/* Parses a whole number from 0 to max. */
static int parse_number(unsigned bit, const char *value, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    unsigned long number;

    errno = 0;
    number = strtoul(value, &end, 10);
    if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0 || number > max)
        return usage_error("invalid --%s '%s': expected a whole number from 0 to %lu",
                           option_name(bit), value, max);
    *out = number;
    return 0;
}

static int parse_model(arguments *args, const char *value)
{
    if (strcmp(value, "patient") != 0 && strcmp(value, "study") != 0 &&
        strcmp(value, "patient-study") != 0)
        return usage_error("invalid --model '%s': expected patient, study or patient-study",
                           value);
    args->job.model = value;
    return 0;
}

static int parse_level(arguments *args, const char *value)
{
    static const char *const levels[] = {"PATIENT", "STUDY", "SERIES", "IMAGE"};

    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        if (strcasecmp(value, levels[i]) == 0) {
            snprintf(args->level, sizeof args->level, "%s", levels[i]);
            args->job.level = args->level;
            return 0;
        }
    }
    return usage_error("invalid --level '%s': expected PATIENT, STUDY, SERIES or IMAGE", value);
}

/* Stores the value of one option that the command allows. */
static int set_option(arguments *args, int opt, const char *value)
{
    unsigned long number = 0;
    int rc = 0;

    switch (opt) {
    case OPTION_JSON: args->job.json = true; break;
    case OPTION_PATIENT: rc = set_text(&args->filter.patient_id, OPTION_PATIENT, value); break;
    case OPTION_ISSUER: rc = set_text(&args->filter.issuer, OPTION_ISSUER, value); break;
    case OPTION_STUDY:
        rc = set_text(&args->filter.study_uid, OPTION_STUDY, value);
        args->job.study_uid = args->filter.study_uid;
        break;
    case OPTION_SERIES:
        rc = set_text(&args->filter.series_uid, OPTION_SERIES, value);
        args->job.series_uid = args->filter.series_uid;
        break;
    case OPTION_REPAIR: args->check.repair = true; break;
    case OPTION_MIN_AGE:
        rc = parse_number(OPTION_MIN_AGE, value, 86400ul * 365, &number);
        args->check.min_age_seconds = (unsigned)number;
        break;
    case OPTION_INSTANCE:
        rc = set_text(&args->job.instance_uids[args->job.n_instances], OPTION_INSTANCE, value);
        args->job.n_instances += rc == 0;
        break;
    case OPTION_DESTINATION: rc = set_text(&args->job.destination, OPTION_DESTINATION, value); break;
    case OPTION_WAIT: args->job.wait = true; break;
    case OPTION_INSTANCES: args->job.instances = true; break;
    case OPTION_MODEL: rc = parse_model(args, value); break;
    case OPTION_LEVEL: rc = parse_level(args, value); break;
    case OPTION_KEY: args->job.keys[args->job.n_keys++] = value; break;
    case OPTION_MAX_RESULTS:
        rc = parse_number(OPTION_MAX_RESULTS, value, 100000, &number);
        if (rc == 0 && number == 0)
            rc = usage_error("invalid --max-results '0': expected 1 to 100000");
        args->job.max_results = (long)number;
        break;
    case OPTION_NO_DEFAULT_KEYS: args->job.no_default_keys = true; break;
    case OPTION_CALLING_AE: rc = set_text(&args->job.calling_ae, OPTION_CALLING_AE, value); break;
    case OPTION_TIMEOUT:
        rc = parse_number(OPTION_TIMEOUT, value, 86400ul * 7, &number);
        args->job.timeout_seconds = (unsigned)number;
        break;
    case OPTION_API: rc = set_text(&args->api.url, OPTION_API, value); break;
    case OPTION_TOKEN: rc = set_text(&args->api.token, OPTION_TOKEN, value); break;
    case OPTION_CACERT: rc = set_text(&args->api.ca_file, OPTION_CACERT, value); break;
    case OPTION_INSECURE: args->api.insecure = true; break;
    default: break;
    }
    return rc;
}

/* Checks the operands (REMOTE, or the action and its id) of the command. */
static int check_operands(arguments *args)
{
    const command *cmd = args->command;
    const char *action = args->n_operands > 0 ? args->operands[0] : "list";

    if (cmd->id == COMMAND_AE || cmd->id == COMMAND_JOBS) {
        bool is_list = strcmp(action, "list") == 0;
        bool known = is_list ||
                     (cmd->id == COMMAND_AE ? strcmp(action, "enable") == 0 ||
                                                  strcmp(action, "disable") == 0
                                            : strcmp(action, "show") == 0 ||
                                                  strcmp(action, "cancel") == 0 ||
                                                  strcmp(action, "retry") == 0);

        if (!known)
            return usage_error("unknown %s action '%s': expected %s", cmd->name, action,
                               cmd->id == COMMAND_AE ? "list, enable or disable"
                                                     : "list, show, cancel or retry");
        if (is_list && args->n_operands > 1)
            return usage_error("unexpected argument '%s'", args->operands[1]);
        if (!is_list && args->n_operands < 2)
            return usage_error("%s %s needs %s", cmd->name, action,
                               cmd->id == COMMAND_AE ? "an AE TITLE" : "a job ID");
        if ((args->options_seen & OPTION_WAIT) && strcmp(action, "show") != 0)
            return usage_error("--wait applies only to jobs show");
        return 0;
    }

    if (cmd->id == COMMAND_MPPS || cmd->id == COMMAND_OUTBOX)
        return 0;
    if (cmd->id == COMMAND_COMMITMENT) {
        if (args->n_operands < 1)
            return usage_error("commitment needs a Study Instance UID");
        args->job.study_uid = args->operands[0];
        return 0;
    }
    if (args->n_operands < cmd->min_operands)
        return usage_error("%s needs the title of a configured REMOTE", cmd->name);
    if (args->n_operands > 0)
        args->job.remote = args->operands[0];
    if ((cmd->id == COMMAND_RETRIEVE || cmd->id == COMMAND_SEND) && args->job.study_uid == NULL)
        return usage_error("%s needs --study UID", cmd->name);
    if (cmd->id == COMMAND_CHECK && (args->options_seen & OPTION_MIN_AGE) && !args->check.repair)
        return usage_error("%s applies only with --repair", "--min-age");
    return 0;
}

/* Parses the options and operands after the command name (argv[0] is the command). */
static int parse_command_options(int argc, char **argv, arguments *args)
{
    int opt;
    int rc = 0;

    /* Each -k or --instance takes one word, so argc bounds their number. */
    args->job.keys = calloc((size_t)argc, sizeof *args->job.keys);
    args->job.instance_uids = calloc((size_t)argc, sizeof *args->job.instance_uids);
    if (args->job.keys == NULL || args->job.instance_uids == NULL) {
        cli_error("out of memory");
        return CLI_EXIT_FAILURE;
    }

    optind = 0; /* glibc: restart the scan from argv[1] */
    opterr = 0; /* usage_error names the option instead */
    /* "-" returns each operand as option 1, so operands and options may mix. */
    while (rc == 0 && (opt = getopt_long(argc, argv, "-c:hk:", command_options, NULL)) != -1) {
        switch (opt) {
        case 'c': args->config_path = optarg; continue;
        case 'h':
            cli_usage_command(stdout, argv[0]);
            exit(CLI_EXIT_OK);
        case 'k': opt = OPTION_KEY; break;
        case 1:
            if (args->n_operands == args->command->max_operands)
                return usage_error("unexpected argument '%s'", optarg);
            args->operands[args->n_operands++] = optarg;
            continue;
        case '?':
            return usage_error("option '%s' is unknown or lacks its value (command %s)",
                               argv[optind - 1], argv[0]);
        default: break;
        }

        if (!(args->command->allowed & (unsigned)opt)) {
            fprintf(stderr, "cairn: option --%s does not apply to the %s command\n",
                    option_name((unsigned)opt), argv[0]);
            return CLI_EXIT_USAGE;
        }
        args->options_seen |= (unsigned)opt;
        rc = set_option(args, opt, optarg);
    }
    if (rc != 0)
        return rc;
    return check_operands(args);
}

/* Parses the whole command line. Returns 0, or the exit code to stop with. */
static int parse_arguments(int argc, char **argv, arguments *args)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"api", required_argument, NULL, OPTION_API},
        {"token", required_argument, NULL, OPTION_TOKEN},
        {"cacert", required_argument, NULL, OPTION_CACERT},
        {"insecure", no_argument, NULL, OPTION_INSECURE},
        {NULL, 0, NULL, 0},
    };
    unsigned api_seen = 0;
    int opt;
    int rc;

    opterr = 0; /* usage_error names the option instead */
    args->config_path = CLI_DEFAULT_CONFIG;
    args->check.min_age_seconds = CLI_DEFAULT_MIN_AGE;

    /* "+" stops at the command name, so its options are parsed separately. */
    while ((opt = getopt_long(argc, argv, "+c:hV", options, NULL)) != -1) {
        switch (opt) {
        case 'c': args->config_path = optarg; break;
        case 'h': cli_usage(stdout); exit(CLI_EXIT_OK);
        case 'V':
            printf("cairn %s (SDK %s)\n", CAIRN_VERSION, CAIRN_SDK_VERSION);
            exit(CLI_EXIT_OK);
        case OPTION_API:
        case OPTION_TOKEN:
        case OPTION_CACERT:
        case OPTION_INSECURE:
            if (set_option(args, opt, optarg) != 0)
                return CLI_EXIT_USAGE;
            api_seen |= (unsigned)opt;
            break;
        default:
            return usage_error("option '%s' is unknown or lacks its value", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return usage_error("%s", "missing COMMAND (patients, studies, series, instances, check, "
                           "ae, echo, query, retrieve, send, jobs or commitment)");

    if (strcmp(argv[optind], "help") == 0) {
        if (optind + 1 < argc && cli_usage_command(stdout, argv[optind + 1]) == 0)
            exit(CLI_EXIT_OK);
        cli_usage(stdout);
        exit(CLI_EXIT_OK);
    }
    args->command = find_command(argv[optind]);
    if (args->command == NULL)
        return usage_error("unknown command '%s'", argv[optind]);
    if (api_seen != 0 && !(args->command->allowed & OPTION_API))
        return usage_error("the control API options do not apply to the %s command, which "
                           "reads the index directly", argv[optind]);

    rc = parse_command_options(argc - optind, argv + optind, args);
    return rc;
}

/* Runs an archive command on the index named by the configuration. */
static int run_archive_command(const arguments *args)
{
    cli_archive archive;
    int result;

    if (cli_archive_open(args->config_path, &archive) != 0)
        return CLI_EXIT_FAILURE;
    if (args->command->id == COMMAND_CHECK)
        result = cli_check(&archive, &args->check);
    else
        result = cli_list(&archive, args->command->level, &args->filter,
                          (args->options_seen & OPTION_JSON) != 0);
    cli_archive_close(&archive);
    return result;
}

/* Runs a control command through the API. */
static int run_control_command(const arguments *args)
{
    const char *action = args->n_operands > 0 ? args->operands[0] : "list";
    const char *target = args->n_operands > 1 ? args->operands[1] : NULL;
    cli_api *api = cli_api_create(&args->api, args->config_path);
    int result = CLI_EXIT_FAILURE;

    if (api == NULL)
        return CLI_EXIT_FAILURE;
    switch (args->command->id) {
    case COMMAND_AE: result = cli_ae(api, action, target, args->job.json); break;
    case COMMAND_ECHO: result = cli_echo(api, &args->job); break;
    case COMMAND_QUERY: result = cli_query(api, &args->job); break;
    case COMMAND_RETRIEVE: result = cli_transfer(api, "retrieve", &args->job); break;
    case COMMAND_SEND: result = cli_transfer(api, "send", &args->job); break;
    case COMMAND_JOBS: result = cli_jobs(api, action, target, &args->job); break;
    case COMMAND_COMMITMENT: result = cli_commitment(api, &args->job); break;
    case COMMAND_MPPS:
        result = cli_mpps(api, args->n_operands > 0 ? args->operands[0] : NULL, args->job.json);
        break;
    case COMMAND_OUTBOX: result = cli_outbox(api, args->job.json); break;
    default: break;
    }
    cli_api_destroy(api);
    return result;
}

int main(int argc, char **argv)
{
    arguments args = {0};
    int result;

    result = parse_arguments(argc, argv, &args);
    if (result == 0) {
        if (args.command->id == COMMAND_LIST || args.command->id == COMMAND_CHECK)
            result = run_archive_command(&args);
        else
            result = run_control_command(&args);
    }
    free(args.job.keys);
    free(args.job.instance_uids);
    if (result == CLI_EXIT_USAGE)
        return result;

    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write the output: %s", strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    return result;
}
