/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Build-time generator of the data dictionary. Reads DCMTK's dicom.dic
 * (tab-separated: tag, VR, keyword, VM, version) and writes a C file with
 * the exact-tag entries sorted by tag, the repeating-group entries such as
 * (60xx,3000), and an index sorted by keyword. Private, illegal and generic
 * catch-all lines are skipped: the lookup code handles group lengths and
 * private creators itself.
 *
 * Usage: dictgen INPUT.dic OUTPUT.c
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    unsigned g_lo, g_hi, g_step;
    unsigned e_lo, e_hi, e_step;
    char vr[16];
    unsigned flags;
    char vm[16];
    char keyword[96];
    int repeating;
    size_t seq; /* input order, so that a later line overrides an earlier one */
};

enum { FLAG_MULTI_VR = 1, FLAG_RETIRED = 2, FLAG_REPEATING = 4 };

static struct entry *entries;
static size_t entry_count, entry_cap;

/* Parses "gggg", "gggg-gggg", "gggg-o-gggg" or "gggg-u-gggg". The plain
 * range form covers even numbers only, as dicom.dic documents. */
static int parse_range(const char *s, unsigned *lo, unsigned *hi, unsigned *step)
{
    char kind = 0;
    char *end;

    *lo = (unsigned)strtoul(s, &end, 16);
    if (end == s)
        return -1;
    if (*end == '\0') {
        *hi = *lo;
        *step = 1;
        return 0;
    }
    if (*end != '-')
        return -1;
    end++;
    if ((end[0] == 'o' || end[0] == 'u') && end[1] == '-') {
        kind = end[0];
        end += 2;
    }
    *hi = (unsigned)strtoul(end, &end, 16);
    if (*end != '\0')
        return -1;
    *step = kind == 'u' ? 1 : 2;
    return 0;
}

/* Maps DCMTK's pseudo VRs to the first VR the standard allows. */
static const char *map_vr(const char *vr, unsigned *flags)
{
    static const struct { const char *pseudo, *vr; int multi; } map[] = {
        {"ox", "OB", 1}, /* OB or OW */
        {"px", "OB", 1}, /* Pixel Data: OB or OW */
        {"xs", "US", 1}, /* US or SS */
        {"lt", "US", 1}, /* US or SS or OW (LUT data) */
        {"up", "UL", 0}, /* unsigned 32-bit offset */
        {"na", "UNKNOWN", 0}, /* item and delimitation tags */
    };

    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(vr, map[i].pseudo) == 0) {
            if (map[i].multi)
                *flags |= FLAG_MULTI_VR;
            return map[i].vr;
        }
    }
    return vr;
}

static int add_line(char *line, size_t lineno, const char *path)
{
    char *fields[5];
    char *save = NULL;
    struct entry e;
    char *comma;
    int n = 0;

    for (char *tok = strtok_r(line, "\t\r\n", &save); tok && n < 5;
         tok = strtok_r(NULL, "\t\r\n", &save))
        fields[n++] = tok;
    if (n < 5) {
        fprintf(stderr, "%s:%zu: expected 5 tab-separated fields\n", path, lineno);
        return -1;
    }
    if (strncmp(fields[4], "DICOM", 5) != 0)
        return 0; /* PRIVATE, ILLEGAL and GENERIC catch-all lines */

    memset(&e, 0, sizeof e);
    if (fields[0][0] != '(' || fields[0][strlen(fields[0]) - 1] != ')') {
        fprintf(stderr, "%s:%zu: invalid tag '%s'\n", path, lineno, fields[0]);
        return -1;
    }
    fields[0][strlen(fields[0]) - 1] = '\0';
    comma = strchr(fields[0], ',');
    if (!comma) {
        fprintf(stderr, "%s:%zu: invalid tag '%s'\n", path, lineno, fields[0]);
        return -1;
    }
    *comma = '\0';
    if (parse_range(fields[0] + 1, &e.g_lo, &e.g_hi, &e.g_step) != 0 ||
        parse_range(comma + 1, &e.e_lo, &e.e_hi, &e.e_step) != 0) {
        fprintf(stderr, "%s:%zu: invalid tag range\n", path, lineno);
        return -1;
    }
    e.repeating = e.g_lo != e.g_hi || e.e_lo != e.e_hi;
    if (e.repeating)
        e.flags |= FLAG_REPEATING;

    snprintf(e.vr, sizeof e.vr, "%s", map_vr(fields[1], &e.flags));
    if (strcmp(e.vr, "UNKNOWN") != 0 &&
        (strlen(e.vr) != 2 || !isupper((unsigned char)e.vr[0]) ||
         !isupper((unsigned char)e.vr[1]))) {
        fprintf(stderr, "%s:%zu: unknown VR '%s'\n", path, lineno, fields[1]);
        return -1;
    }

    if (strncmp(fields[2], "RETIRED_", 8) == 0) {
        e.flags |= FLAG_RETIRED;
        fields[2] += 8;
    }
    if (strstr(fields[4], "retired"))
        e.flags |= FLAG_RETIRED;
    snprintf(e.keyword, sizeof e.keyword, "%s", fields[2]);
    snprintf(e.vm, sizeof e.vm, "%s", fields[3]);
    e.seq = entry_count;

    if (entry_count == entry_cap) {
        size_t cap = entry_cap ? entry_cap * 2 : 1024;
        struct entry *grown = realloc(entries, cap * sizeof *grown);
        if (!grown) {
            fprintf(stderr, "out of memory\n");
            return -1;
        }
        entries = grown;
        entry_cap = cap;
    }
    entries[entry_count++] = e;
    return 0;
}

static unsigned long tag_of(const struct entry *e)
{
    return ((unsigned long)e->g_lo << 16) | e->e_lo;
}

/* Sorts by tag, later input lines first so that deduplication keeps them. */
static int compare_tag(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;

    if (x->repeating != y->repeating)
        return x->repeating - y->repeating;
    if (tag_of(x) != tag_of(y))
        return tag_of(x) < tag_of(y) ? -1 : 1;
    return x->seq > y->seq ? -1 : (x->seq < y->seq);
}

static const struct entry **keyword_index;

static int compare_keyword(const void *a, const void *b)
{
    const struct entry *const *x = a, *const *y = b;
    int c = strcmp((*x)->keyword, (*y)->keyword);

    if (c != 0)
        return c;
    /* Prefer the current attribute over a retired one of the same name. */
    return (int)((*x)->flags & FLAG_RETIRED) - (int)((*y)->flags & FLAG_RETIRED);
}

static void print_entry(FILE *out, const struct entry *e)
{
    fprintf(out, "    {0x%04X%04Xu, DCM_VR_%s, %uu, \"%s\", \"%s\"},\n", e->g_lo, e->e_lo,
            e->vr, e->flags, e->vm, e->keyword);
}

static int write_output(FILE *out)
{
    size_t exact = 0, kept = 0;

    qsort(entries, entry_count, sizeof *entries, compare_tag);

    /* Drop overridden duplicates (the first of equal tags is the latest). */
    for (size_t i = 0; i < entry_count; i++) {
        if (kept > 0 && entries[kept - 1].repeating == entries[i].repeating &&
            tag_of(&entries[kept - 1]) == tag_of(&entries[i]))
            continue;
        entries[kept++] = entries[i];
    }
    entry_count = kept;
    while (exact < entry_count && !entries[exact].repeating)
        exact++;

    fprintf(out, "/* Generated by dictgen from DCMTK's dicom.dic; do not edit. */\n");
    fprintf(out, "#include \"dcm/dict_data.h\"\n\n");

    fprintf(out, "const dcm_dict_entry dcm_dict_entries[] = {\n");
    for (size_t i = 0; i < exact; i++)
        print_entry(out, &entries[i]);
    fprintf(out, "};\nconst size_t dcm_dict_entry_count = %zu;\n\n", exact);

    fprintf(out, "const dcm_dict_entry dcm_dict_repeating_entries[] = {\n");
    for (size_t i = exact; i < entry_count; i++)
        print_entry(out, &entries[i]);
    fprintf(out, "};\n\nconst dcm_dict_range dcm_dict_ranges[] = {\n");
    for (size_t i = exact; i < entry_count; i++) {
        const struct entry *e = &entries[i];
        fprintf(out, "    {0x%04Xu, 0x%04Xu, %u, 0x%04Xu, 0x%04Xu, %u, &dcm_dict_repeating_entries[%zu]},\n",
                e->g_lo, e->g_hi, e->g_step, e->e_lo, e->e_hi, e->e_step, i - exact);
    }
    fprintf(out, "};\nconst size_t dcm_dict_range_count = %zu;\n\n", entry_count - exact);

    keyword_index = malloc(entry_count * sizeof *keyword_index);
    if (!keyword_index)
        return -1;
    for (size_t i = 0; i < entry_count; i++)
        keyword_index[i] = &entries[i];
    qsort(keyword_index, entry_count, sizeof *keyword_index, compare_keyword);
    fprintf(out, "const dcm_dict_entry *const dcm_dict_by_keyword[] = {\n");
    for (size_t i = 0; i < entry_count; i++) {
        size_t at = (size_t)(keyword_index[i] - entries);
        if (i > 0 && strcmp(keyword_index[i - 1]->keyword, keyword_index[i]->keyword) == 0)
            continue;
        if (at < exact)
            fprintf(out, "    &dcm_dict_entries[%zu],\n", at);
        else
            fprintf(out, "    &dcm_dict_repeating_entries[%zu],\n", at - exact);
    }
    fprintf(out, "};\nconst size_t dcm_dict_by_keyword_count = "
                 "sizeof dcm_dict_by_keyword / sizeof dcm_dict_by_keyword[0];\n");
    free(keyword_index);
    return 0;
}

int main(int argc, char **argv)
{
    char line[512];
    size_t lineno = 0;
    FILE *in = NULL, *out = NULL;
    int result = 1;

    if (argc != 3) {
        fprintf(stderr, "usage: dictgen INPUT.dic OUTPUT.c\n");
        return 2;
    }
    in = fopen(argv[1], "r");
    if (!in) {
        perror(argv[1]);
        goto out;
    }
    while (fgets(line, sizeof line, in)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n' || line[0] == '\r')
            continue;
        if (add_line(line, lineno, argv[1]) != 0)
            goto out;
    }
    if (entry_count == 0) {
        fprintf(stderr, "%s: no entries found\n", argv[1]);
        goto out;
    }

    out = fopen(argv[2], "w");
    if (!out) {
        perror(argv[2]);
        goto out;
    }
    if (write_output(out) != 0 || fclose(out) != 0) {
        out = NULL;
        fprintf(stderr, "%s: write failed\n", argv[2]);
        remove(argv[2]);
        goto out;
    }
    out = NULL;
    result = 0;

out:
    if (out)
        fclose(out);
    if (in)
        fclose(in);
    free(entries);
    return result;
}
