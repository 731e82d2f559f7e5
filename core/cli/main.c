/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cairn: the administration tool of the Cairn archive. Parses the command
 * line, opens the index named by the configuration file and runs one
 * command: a listing of one level of the index, or a consistency check of
 * the index against the storage folder.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define DEFAULT_CONFIG CAIRN_SYSCONF_DIR "/cairn.conf"

/* Default of check --min-age, in seconds. */
#define DEFAULT_MIN_AGE 60

/* Command options, as bits of a command's allowed set. */
enum {
    OPTION_JSON = 1u << 0,
    OPTION_PATIENT = 1u << 1,
    OPTION_ISSUER = 1u << 2,
    OPTION_STUDY = 1u << 3,
    OPTION_SERIES = 1u << 4,
    OPTION_REPAIR = 1u << 5,
    OPTION_MIN_AGE = 1u << 6
};

typedef enum command_id { COMMAND_LIST, COMMAND_CHECK } command_id;

typedef struct command {
    const char *name;
    command_id id;
    cairn_index_level level; /* for COMMAND_LIST */
    unsigned allowed;        /* OPTION_* bits */
} command;

static const command commands[] = {
    {"patients", COMMAND_LIST, CAIRN_LEVEL_PATIENT, OPTION_JSON | OPTION_PATIENT | OPTION_ISSUER},
    {"studies", COMMAND_LIST, CAIRN_LEVEL_STUDY,
     OPTION_JSON | OPTION_PATIENT | OPTION_ISSUER | OPTION_STUDY},
    {"series", COMMAND_LIST, CAIRN_LEVEL_SERIES,
     OPTION_JSON | OPTION_PATIENT | OPTION_ISSUER | OPTION_STUDY | OPTION_SERIES},
    {"instances", COMMAND_LIST, CAIRN_LEVEL_INSTANCE,
     OPTION_JSON | OPTION_PATIENT | OPTION_ISSUER | OPTION_STUDY | OPTION_SERIES},
    {"check", COMMAND_CHECK, CAIRN_LEVEL_INSTANCE, OPTION_REPAIR | OPTION_MIN_AGE},
};

/* Everything the command line sets. */
typedef struct arguments {
    const char *config_path;
    const command *command;
    unsigned options_seen; /* OPTION_* bits */
    cli_list_filter filter;
    cli_check_options check;
} arguments;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: cairn [--config FILE] COMMAND [OPTIONS]\n"
            "\n"
            "Lists the contents of a Cairn archive and checks that its index and its\n"
            "files agree. The archive is the one the configuration file describes\n"
            "(storage.path and index.plugin); cairnd may be running.\n"
            "\n"
            "Commands:\n"
            "  patients    list the patients: ID, issuer, name, birth date, sex and the\n"
            "              number of studies, series and instances\n"
            "  studies     list the studies: Study Instance UID, date, accession number,\n"
            "              description, modalities, number of series and instances\n"
            "  series      list the series: Series Instance UID, modality, number,\n"
            "              description, number of instances\n"
            "  instances   list the instances: SOP Instance UID, SOP class, instance\n"
            "              number, transfer syntax, file size in bytes, reception time\n"
            "              (UTC), calling AE title and file path relative to storage.path\n"
            "  check       verify that every indexed instance has its file (present, of\n"
            "              the indexed size, a readable DICOM file with the indexed SOP\n"
            "              Instance UID) and that every *.dcm file is indexed; report\n"
            "              orphan files and unfinished receptions in tmp/. Exits with 0\n"
            "              when consistent and 1 otherwise\n"
            "\n"
            "Global options:\n"
            "  -c, --config FILE    configuration file (default " DEFAULT_CONFIG ")\n"
            "  -h, --help           show this help and exit\n"
            "  -V, --version        show the version and exit\n"
            "\n"
            "Listing options (only rows matching every filter are listed):\n"
            "      --json           write a JSON array of objects with snake_case keys\n"
            "                       instead of a table\n"
            "      --patient ID     only the patient with this Patient ID\n"
            "      --issuer ISSUER  only patients with this Issuer of Patient ID\n"
            "      --study UID      only this Study Instance UID (studies, series, instances)\n"
            "      --series UID     only this Series Instance UID (series, instances)\n"
            "\n"
            "Check options:\n"
            "      --repair         remove orphan files and temporary files; indexed\n"
            "                       instances are never removed\n"
            "      --min-age SECONDS  with --repair, keep files modified less than\n"
            "                       SECONDS ago, which cairnd may still be storing\n"
            "                       (default %d; 0 removes all)\n"
            "\n"
            "Exit status: 0 success, 1 failure or inconsistency found, 2 invalid usage.\n",
            DEFAULT_MIN_AGE);
}

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

static const char *option_name(unsigned bit)
{
    switch (bit) {
    case OPTION_JSON: return "--json";
    case OPTION_PATIENT: return "--patient";
    case OPTION_ISSUER: return "--issuer";
    case OPTION_STUDY: return "--study";
    case OPTION_SERIES: return "--series";
    case OPTION_REPAIR: return "--repair";
    default: return "--min-age";
    }
}

/* Stores a filter value; an empty one would match every row, so it is rejected. */
static int set_filter(const char **slot, unsigned bit, const char *value)
{
    if (value[0] == '\0')
        return usage_error("%s needs a non-empty value", option_name(bit));
    *slot = value;
    return 0;
}

static int parse_min_age(arguments *args, const char *value)
{
    char *end = NULL;
    unsigned long seconds;

    errno = 0;
    seconds = strtoul(value, &end, 10);
    if (value[0] < '0' || value[0] > '9' || *end != '\0' || errno != 0 || seconds > 86400 * 365)
        return usage_error("invalid --min-age '%s': expected 0 to 31536000 seconds", value);
    args->check.min_age_seconds = (unsigned)seconds;
    return 0;
}

/* Parses the options after the command name (argv[0] is the command). */
static int parse_command_options(int argc, char **argv, arguments *args)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"json", no_argument, NULL, OPTION_JSON},
        {"patient", required_argument, NULL, OPTION_PATIENT},
        {"issuer", required_argument, NULL, OPTION_ISSUER},
        {"study", required_argument, NULL, OPTION_STUDY},
        {"series", required_argument, NULL, OPTION_SERIES},
        {"repair", no_argument, NULL, OPTION_REPAIR},
        {"min-age", required_argument, NULL, OPTION_MIN_AGE},
        {NULL, 0, NULL, 0},
    };
    int opt;
    int rc = 0;

    optind = 0; /* glibc: restart the scan from argv[1] */
    opterr = 0; /* usage_error names the option instead */
    while (rc == 0 && (opt = getopt_long(argc, argv, "+c:h", options, NULL)) != -1) {
        switch (opt) {
        case 'c': args->config_path = optarg; continue;
        case 'h': usage(stdout); exit(CLI_EXIT_OK);
        case '?':
            return usage_error("option '%s' is unknown or lacks its value (command %s)",
                               argv[optind - 1], argv[0]);
        default: break;
        }

        if (!(args->command->allowed & (unsigned)opt)) {
            fprintf(stderr, "cairn: option %s does not apply to the %s command\n",
                    option_name((unsigned)opt), argv[0]);
            return CLI_EXIT_USAGE;
        }
        args->options_seen |= (unsigned)opt;
        switch (opt) {
        case OPTION_PATIENT: rc = set_filter(&args->filter.patient_id, OPTION_PATIENT, optarg); break;
        case OPTION_ISSUER: rc = set_filter(&args->filter.issuer, OPTION_ISSUER, optarg); break;
        case OPTION_STUDY: rc = set_filter(&args->filter.study_uid, OPTION_STUDY, optarg); break;
        case OPTION_SERIES: rc = set_filter(&args->filter.series_uid, OPTION_SERIES, optarg); break;
        case OPTION_REPAIR: args->check.repair = true; break;
        case OPTION_MIN_AGE: rc = parse_min_age(args, optarg); break;
        default: break;
        }
    }
    if (rc != 0)
        return rc;

    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if ((args->options_seen & OPTION_MIN_AGE) && !args->check.repair)
        return usage_error("%s applies only with --repair", "--min-age");
    return 0;
}

/* Parses the whole command line. Returns 0, or the exit code to stop with. */
static int parse_arguments(int argc, char **argv, arguments *args)
{
    static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    opterr = 0; /* usage_error names the option instead */
    args->config_path = DEFAULT_CONFIG;
    args->check.min_age_seconds = DEFAULT_MIN_AGE;

    /* "+" stops at the command name, so its options are parsed separately. */
    while ((opt = getopt_long(argc, argv, "+c:hV", options, NULL)) != -1) {
        switch (opt) {
        case 'c': args->config_path = optarg; break;
        case 'h': usage(stdout); exit(CLI_EXIT_OK);
        case 'V':
            printf("cairn %s (SDK %s)\n", CAIRN_VERSION, CAIRN_SDK_VERSION);
            exit(CLI_EXIT_OK);
        default:
            return usage_error("option '%s' is unknown or lacks its value", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return usage_error("%s", "missing COMMAND (patients, studies, series, instances or check)");

    args->command = find_command(argv[optind]);
    if (args->command == NULL)
        return usage_error("unknown command '%s'", argv[optind]);
    return parse_command_options(argc - optind, argv + optind, args);
}

int main(int argc, char **argv)
{
    arguments args = {0};
    cli_archive archive;
    int result;

    result = parse_arguments(argc, argv, &args);
    if (result != 0)
        return result;

    if (cli_archive_open(args.config_path, &archive) != 0)
        return CLI_EXIT_FAILURE;

    if (args.command->id == COMMAND_CHECK)
        result = cli_check(&archive, &args.check);
    else
        result = cli_list(&archive, args.command->level, &args.filter,
                          (args.options_seen & OPTION_JSON) != 0);
    cli_archive_close(&archive);

    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error("cannot write the output: %s", strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    return result;
}
