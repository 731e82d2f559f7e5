/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The document that keeps a transaction in the index: UTF-8 text, one
 * "key value" line per field, the value running to the end of the line.
 *
 *     cairn-commitment 1
 *     transaction <Transaction UID>
 *     calling <requestor AE title>
 *     called <archive AE title>
 *     flags <new-association> <duplicate> <checked>    (each 0 or 1)
 *     attempts <failed deliveries> <Unix time of the next one>
 *     ref <SOP Class UID> <SOP Instance UID> <Failure Reason, hex, 0 when committed>
 *
 * UIDs hold only digits and dots and AE titles no control characters, so
 * no value contains a line break; parsing checks every value again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commitment.h"

#define RECORD_MAGIC "cairn-commitment 1"

bool commitment_valid_uid(const char *uid)
{
    size_t len = strlen(uid);

    if (len == 0 || len > 64 || uid[0] == '.' || uid[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        if ((uid[i] < '0' || uid[i] > '9') && uid[i] != '.')
            return false;
        if (uid[i] == '.' && uid[i + 1] == '.')
            return false;
    }
    return true;
}

static bool valid_ae(const char *ae)
{
    size_t len = strlen(ae);

    if (len == 0 || len > 16)
        return false;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)ae[i] < 0x20 || ae[i] == 0x7f || ae[i] == '\\')
            return false;
    }
    return true;
}

void commitment_txn_free(commitment_txn *txn)
{
    if (txn == NULL)
        return;
    free(txn->refs);
    free(txn);
}

char *commitment_record_format(const commitment_txn *txn)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);

    if (out == NULL)
        return NULL;
    fprintf(out, RECORD_MAGIC "\ntransaction %s\ncalling %s\ncalled %s\nflags %d %d %d\n"
            "attempts %u %lld\n", txn->transaction_uid, txn->calling_ae, txn->called_ae,
            txn->new_association, txn->duplicate, txn->checked, txn->attempts,
            (long long)txn->next_attempt);
    for (size_t i = 0; i < txn->n_refs; i++)
        fprintf(out, "ref %s %s %x\n", txn->refs[i].sop_class, txn->refs[i].sop_instance,
                txn->refs[i].failure);
    if (fclose(out) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* Copies a value into buf; -1 when it does not fit. */
static int copy_value(const char *value, size_t len, char *buf, size_t size)
{
    if (len >= size)
        return -1;
    memcpy(buf, value, len);
    buf[len] = '\0';
    return 0;
}

static int parse_ref(commitment_txn *txn, const char *value, size_t len)
{
    char line[200];
    char sop_class[65], sop_instance[65];
    unsigned failure;
    commitment_ref *refs;

    if (copy_value(value, len, line, sizeof line) != 0 ||
        sscanf(line, "%64s %64s %x", sop_class, sop_instance, &failure) != 3 ||
        !commitment_valid_uid(sop_class) || !commitment_valid_uid(sop_instance) ||
        failure > 0xFFFFu || txn->n_refs >= COMMITMENT_MAX_REFERENCES)
        return -1;
    refs = realloc(txn->refs, (txn->n_refs + 1) * sizeof *refs);
    if (refs == NULL)
        return -1;
    txn->refs = refs;
    snprintf(refs[txn->n_refs].sop_class, sizeof refs->sop_class, "%s", sop_class);
    snprintf(refs[txn->n_refs].sop_instance, sizeof refs->sop_instance, "%s", sop_instance);
    refs[txn->n_refs].failure = (uint16_t)failure;
    txn->n_refs++;
    return 0;
}

static int parse_line(commitment_txn *txn, const char *line, size_t len)
{
    const char *space = memchr(line, ' ', len);
    size_t key_len = space ? (size_t)(space - line) : len;
    const char *value = space ? space + 1 : line + len;
    size_t value_len = len - (size_t)(value - line);
    char buf[64];
    int a, b, c;
    unsigned attempts;
    long long next;

    if (key_len == 11 && memcmp(line, "transaction", 11) == 0)
        return copy_value(value, value_len, txn->transaction_uid, sizeof txn->transaction_uid);
    if (key_len == 7 && memcmp(line, "calling", 7) == 0)
        return copy_value(value, value_len, txn->calling_ae, sizeof txn->calling_ae);
    if (key_len == 6 && memcmp(line, "called", 6) == 0)
        return copy_value(value, value_len, txn->called_ae, sizeof txn->called_ae);
    if (key_len == 5 && memcmp(line, "flags", 5) == 0) {
        if (copy_value(value, value_len, buf, sizeof buf) != 0 ||
            sscanf(buf, "%d %d %d", &a, &b, &c) != 3)
            return -1;
        txn->new_association = a != 0;
        txn->duplicate = b != 0;
        txn->checked = c != 0;
        return 0;
    }
    if (key_len == 8 && memcmp(line, "attempts", 8) == 0) {
        if (copy_value(value, value_len, buf, sizeof buf) != 0 ||
            sscanf(buf, "%u %lld", &attempts, &next) != 2)
            return -1;
        txn->attempts = attempts;
        txn->next_attempt = next;
        return 0;
    }
    if (key_len == 3 && memcmp(line, "ref", 3) == 0)
        return parse_ref(txn, value, value_len);
    return -1;
}

commitment_txn *commitment_record_parse(const char *id, const char *document)
{
    commitment_txn *txn = calloc(1, sizeof *txn);
    const char *line = document;
    size_t magic_len = strlen(RECORD_MAGIC);

    if (txn == NULL || strlen(id) >= sizeof txn->id)
        goto fail;
    snprintf(txn->id, sizeof txn->id, "%s", id);
    if (strncmp(document, RECORD_MAGIC "\n", magic_len + 1) != 0)
        goto fail;
    line += magic_len + 1;

    while (*line != '\0') {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);

        if (parse_line(txn, line, len) != 0)
            goto fail;
        line += len + (end ? 1 : 0);
    }
    if (!commitment_valid_uid(txn->transaction_uid) || !valid_ae(txn->calling_ae) ||
        !valid_ae(txn->called_ae) || txn->n_refs == 0)
        goto fail;
    return txn;

fail:
    commitment_txn_free(txn);
    return NULL;
}
