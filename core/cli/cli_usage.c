/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The help texts of the `cairn` tool: `cairn --help` shows every command
 * and every option, and `cairn COMMAND --help` shows one command with the
 * options it takes and an example. Each block of options is written once
 * and shared by both.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char global_options[] =
    "Global options:\n"
    "  -c, --config FILE    configuration file (default " CLI_DEFAULT_CONFIG ")\n"
    "  -h, --help           show this help and exit; after a command, that command's help\n"
    "  -V, --version        show the version and exit\n";

static const char api_options[] =
    "Control API options (the API's address, token and certificate come from the\n"
    "`api` group of the configuration file unless these options are given):\n"
    "      --api URL        base URL of the API, e.g. http://127.0.0.1:8104\n"
    "      --token TOKEN    bearer token of the API (default: $CAIRN_API_TOKEN, else\n"
    "                       api.token of the configuration)\n"
    "      --cacert FILE    PEM certificates to trust for https (default: the\n"
    "                       configured api.tls_certificate, else the system's)\n"
    "      --insecure       do not verify the API's certificate\n";

static const char listing_options[] =
    "Listing options (only rows matching every filter are listed):\n"
    "      --json           write a JSON array of objects with snake_case keys\n"
    "                       instead of a table\n"
    "      --patient ID     only the patient with this Patient ID\n"
    "      --issuer ISSUER  only patients with this Issuer of Patient ID\n"
    "      --study UID      only this Study Instance UID (studies, series, instances)\n"
    "      --series UID     only this Series Instance UID (series, instances)\n";

static const char check_options[] =
    "Check options:\n"
    "      --repair         remove orphan files and temporary files; indexed\n"
    "                       instances are never removed\n"
    "      --min-age SECONDS  with --repair, keep files modified less than\n"
    "                       SECONDS ago, which cairnd may still be storing\n"
    "                       (default " CLI_DEFAULT_MIN_AGE_TEXT "; 0 removes all)\n";

static const char query_options[] =
    "Query options:\n"
    "      --model MODEL    Query/Retrieve information model: study (Study Root,\n"
    "                       the default), patient (Patient Root) or patient-study\n"
    "      --level LEVEL    PATIENT, STUDY, SERIES or IMAGE (default STUDY for the\n"
    "                       study model, else PATIENT)\n"
    "  -k, --key KEY=VALUE  a matching key: attribute keyword or tag (00100010 or\n"
    "                       0010,0010) and the value to match (wildcards * and ?,\n"
    "                       date ranges 20240101-20240131, UID lists with \\);\n"
    "                       KEY alone or KEY= asks for the attribute back.\n"
    "                       Repeat for more keys\n"
    "      --no-default-keys  ask only for the -k keys; by default a few common\n"
    "                       attributes of the level are asked for too\n"
    "      --max-results N  keep at most N matches, 1 to 100000 (default 1000);\n"
    "                       cairnd cancels the C-FIND at the limit\n";

static const char transfer_options[] =
    "Retrieve and send options:\n"
    "      --study UID      Study Instance UID (required)\n"
    "      --series UID     only this series of the study\n"
    "      --instance UID   only this SOP Instance UID (needs --series for\n"
    "                       retrieve); repeat for more instances\n"
    "      --destination AE retrieve: our AE the remote sends to, the move\n"
    "                       destination (default: the first enabled AE with the\n"
    "                       storage plugin)\n"
    "      --wait           follow the job to its end with a progress bar (plain\n"
    "                       lines when stdout is not a terminal); the exit status\n"
    "                       is 0 only when the job succeeded\n";

static const char job_options[] =
    "Options of the control commands:\n"
    "      --json           write the API's JSON (job record, job list, AEs)\n"
    "                       instead of text\n"
    "      --calling-ae AE  our AE title for the associations of echo, query,\n"
    "                       retrieve and send (default: cairnd's first enabled AE)\n"
    "      --timeout SECONDS  stop waiting for the job after SECONDS, leaving it\n"
    "                       running (default 0: wait until it ends). Ctrl-C also\n"
    "                       stops the wait, not the job\n";

static const char exit_status[] =
    "Exit status: 0 success, 1 failure (an API error, a failed job, or an\n"
    "inconsistency found by check), 2 invalid usage.\n";

/* One command's help: its synopsis, what it does, and the option blocks it takes. */
typedef struct command_help {
    const char *name;
    const char *synopsis;
    const char *description;
    const char *blocks[4];
} command_help;

static const command_help helps[] = {
    {"patients", "cairn patients [--json] [--patient ID] [--issuer ISSUER]",
     "List the patients: ID, issuer, name, birth date, sex and the number of\n"
     "studies, series and instances. Reads the index directly.\n",
     {listing_options}},
    {"studies", "cairn studies [--json] [--patient ID] [--issuer ISSUER] [--study UID]",
     "List the studies: Study Instance UID, date, accession number, description,\n"
     "modalities, number of series and instances. Reads the index directly.\n",
     {listing_options}},
    {"series", "cairn series [--json] [--patient ID] [--issuer I] [--study UID] [--series UID]",
     "List the series: Series Instance UID, modality, number, description, number\n"
     "of instances. Reads the index directly.\n",
     {listing_options}},
    {"instances", "cairn instances [--json] [--patient ID] [--issuer I] [--study UID] "
     "[--series UID]",
     "List the instances: SOP Instance UID, SOP class, instance number, transfer\n"
     "syntax, file size in bytes, reception time (UTC), calling AE title and file\n"
     "path relative to storage.path. Reads the index directly.\n",
     {listing_options}},
    {"check", "cairn check [--repair [--min-age SECONDS]]",
     "Verify that every indexed instance has its file (present, of the indexed\n"
     "size, a readable DICOM file with the indexed SOP Instance UID) and that\n"
     "every *.dcm file is indexed; report orphan files and unfinished receptions\n"
     "in tmp/. Exits with 0 when consistent and 1 otherwise.\n",
     {check_options}},
    {"ae", "cairn ae list | ae enable TITLE | ae disable TITLE  [--json]",
     "List cairnd's AEs with their run-time state (ENABLED) and their `enabled`\n"
     "key in the file (IN FILE), or enable or disable one AE. A disabled AE\n"
     "rejects new associations; open ones go on. The change lasts until cairnd\n"
     "stops or a reload changes the AE's `enabled` key.\n"
     "Example: cairn ae disable CAIRN\n",
     {job_options, api_options}},
    {"echo", "cairn echo REMOTE [--calling-ae AE] [--json]",
     "Make cairnd send a C-ECHO to REMOTE, one of the `remotes` of its\n"
     "configuration, and report whether it answered.\n"
     "Example: cairn echo PACS\n",
     {job_options, api_options}},
    {"query", "cairn query REMOTE [--model MODEL] [--level LEVEL] [-k KEY=VALUE ...] [--json]",
     "Make cairnd query REMOTE (C-FIND), wait for the query job and print the\n"
     "matches as a table, one column per returned attribute, or with --json the\n"
     "job record, whose `result` holds the matches.\n"
     "Example: cairn query PACS -k PatientName='SMITH*' -k StudyDate=20240101-\n",
     {query_options, job_options, api_options}},
    {"retrieve", "cairn retrieve REMOTE --study UID [--series UID] [--instance UID ...]\n"
     "                      [--destination AE] [--wait] [--json]",
     "Make cairnd load a study, series or instances from REMOTE into the archive\n"
     "(C-MOVE). REMOTE must know the destination AE with cairnd's host and port.\n"
     "Prints the job id, or with --wait follows the job to its end.\n"
     "Example: cairn retrieve PACS --study 1.2.3 --wait\n",
     {transfer_options, job_options, api_options}},
    {"send", "cairn send REMOTE --study UID [--series UID] [--instance UID ...] [--wait] [--json]",
     "Make cairnd send archived instances to REMOTE (C-STORE): the listed\n"
     "instances, else the series, else the whole study. Prints the job id, or\n"
     "with --wait follows the job to its end.\n"
     "Example: cairn send WORKSTATION --study 1.2.3 --wait\n",
     {transfer_options, job_options, api_options}},
    {"jobs", "cairn jobs [list | show ID [--wait] | cancel ID | retry ID] [--json]",
     "List cairnd's jobs, newest first (the default), show one job record,\n"
     "cancel a queued or running job, or queue a failed or cancelled job again.\n"
     "show --wait follows the job to its end, like retrieve --wait.\n",
     {job_options, api_options}},
    {"commitment", "cairn commitment STUDY_UID [--instances] [--json]",
     "Show the storage commitment cairnd requested of its backup archives (remotes\n"
     "with a `commitment` group) for one study: per remote the number of\n"
     "instances committed, pending and failed, and with --instances the state,\n"
     "attempts and Failure Reason of each instance.\n"
     "Example: cairn commitment 1.2.3 --instances\n",
     {job_options, api_options}},
    {"mpps", "cairn mpps [SOP_INSTANCE_UID] [--json]",
     "List the Modality Performed Procedure Steps the data router received, newest\n"
     "first, or show one step with its series and instance counts.\n"
     "Example: cairn mpps 1.2.3.4\n",
     {api_options}},
    {"outbox", "cairn outbox [--json]",
     "List the messages cairnd still has to deliver to remote AEs (forwarded MPPS,\n"
     "study notifications) with their attempts, next try and last error.\n",
     {api_options}},
};

static const command_help *find_help(const char *name)
{
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
        if (strcmp(helps[i].name, name) == 0)
            return &helps[i];
    }
    return NULL;
}

void cli_usage(FILE *out)
{
    fputs("Usage: cairn [--config FILE] COMMAND [ARGUMENTS] [OPTIONS]\n"
          "\n"
          "The administration tool of the Cairn archive. The archive commands read the\n"
          "index and the storage folder that the configuration file describes\n"
          "(storage.path and index.plugin), while cairnd may be running. The control\n"
          "commands call the HTTP control API of a running cairnd.\n"
          "\n"
          "Archive commands:\n"
          "  patients, studies, series, instances   list one level of the index\n"
          "  check                                  compare the index with the files\n"
          "\n"
          "Control commands:\n"
          "  ae list | ae enable TITLE | ae disable TITLE\n"
          "  echo REMOTE                            C-ECHO from cairnd to a remote\n"
          "  query REMOTE [-k KEY=VALUE ...]        C-FIND, printing the matches\n"
          "  retrieve REMOTE --study UID [--wait]   C-MOVE into the archive\n"
          "  send REMOTE --study UID [--wait]       C-STORE from the archive\n"
          "  jobs [list | show ID | cancel ID | retry ID]\n"
          "  commitment STUDY_UID [--instances]     storage commitment at backup archives\n"
          "  mpps [SOP_INSTANCE_UID]                MPPS steps the data router received\n"
          "  outbox                                 messages waiting for a remote AE\n"
          "\n"
          "`cairn COMMAND --help` describes one command.\n\n",
          out);
    fputs(global_options, out);
    fputc('\n', out);
    fputs(listing_options, out);
    fputc('\n', out);
    fputs(check_options, out);
    fputc('\n', out);
    fputs(query_options, out);
    fputc('\n', out);
    fputs(transfer_options, out);
    fputc('\n', out);
    fputs(job_options, out);
    fputc('\n', out);
    fputs(api_options, out);
    fputc('\n', out);
    fputs(exit_status, out);
}

int cli_usage_command(FILE *out, const char *name)
{
    const command_help *help = find_help(name);

    if (help == NULL)
        return -1;
    fprintf(out, "Usage: %s\n\n%s\n", help->synopsis, help->description);
    for (size_t i = 0; i < sizeof help->blocks / sizeof help->blocks[0]; i++) {
        if (help->blocks[i] != NULL) {
            fputs(help->blocks[i], out);
            fputc('\n', out);
        }
    }
    fputs(global_options, out);
    fputc('\n', out);
    fputs(exit_status, out);
    return 0;
}
