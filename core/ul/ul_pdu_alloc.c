/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Memory of the A-ASSOCIATE-RQ and -AC structures: the builders that append
 * presentation contexts and role selections, and the functions that free
 * every dynamic part.
 */
#include "ul/ul_pdu.h"

#include <stdlib.h>
#include <string.h>

static int copy_uid(ul_uid dst, const char *src)
{
    size_t n = strnlen(src, UL_UID_MAX + 1);
    if (n > UL_UID_MAX)
        return -1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

/* Reallocates array to hold count + 1 elements of elem_size bytes. */
static void *grow(void *array, size_t count, size_t elem_size)
{
    return realloc(array, (count + 1) * elem_size);
}

int ul_assoc_rq_add_pctx(ul_assoc_rq *rq, uint8_t id, const char *abstract_syntax,
                         const char *const *transfer_syntaxes, size_t count)
{
    if (rq->pctx_count >= UL_PCTX_MAX || count == 0 || count > UL_TS_PER_PCTX_MAX)
        return -1;

    ul_uid *ts = calloc(count, sizeof *ts);
    if (!ts)
        return -1;
    for (size_t i = 0; i < count; i++) {
        if (copy_uid(ts[i], transfer_syntaxes[i]) != 0) {
            free(ts);
            return -1;
        }
    }

    ul_pctx_rq tmp = {.id = id, .transfer_syntaxes = ts, .transfer_syntax_count = count};
    if (copy_uid(tmp.abstract_syntax, abstract_syntax) != 0) {
        free(ts);
        return -1;
    }
    ul_pctx_rq *pctx = grow(rq->pctx, rq->pctx_count, sizeof *pctx);
    if (!pctx) {
        free(ts);
        return -1;
    }
    rq->pctx = pctx;
    rq->pctx[rq->pctx_count++] = tmp;
    return 0;
}

int ul_assoc_ac_add_pctx(ul_assoc_ac *ac, uint8_t id, uint8_t result,
                         const char *transfer_syntax)
{
    ul_pctx_ac tmp = {.id = id, .result = result};

    if (ac->pctx_count >= UL_PCTX_MAX)
        return -1;
    if (transfer_syntax && copy_uid(tmp.transfer_syntax, transfer_syntax) != 0)
        return -1;

    ul_pctx_ac *pctx = grow(ac->pctx, ac->pctx_count, sizeof *pctx);
    if (!pctx)
        return -1;
    ac->pctx = pctx;
    ac->pctx[ac->pctx_count++] = tmp;
    return 0;
}

static int add_role(ul_role_selection **roles, size_t *count, const char *sop_class_uid,
                    bool scu, bool scp)
{
    ul_role_selection tmp = {.scu_role = scu, .scp_role = scp};

    if (copy_uid(tmp.sop_class_uid, sop_class_uid) != 0)
        return -1;

    ul_role_selection *grown = grow(*roles, *count, sizeof *grown);
    if (!grown)
        return -1;
    *roles = grown;
    grown[(*count)++] = tmp;
    return 0;
}

int ul_assoc_rq_add_role(ul_assoc_rq *rq, const char *sop_class_uid, bool scu, bool scp)
{
    return add_role(&rq->user_info.roles, &rq->user_info.role_count, sop_class_uid,
                    scu, scp);
}

int ul_assoc_ac_add_role(ul_assoc_ac *ac, const char *sop_class_uid, bool scu, bool scp)
{
    return add_role(&ac->user_info.roles, &ac->user_info.role_count, sop_class_uid,
                    scu, scp);
}

static void free_ext_neg(ul_ext_neg *items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(items[i].info);
    free(items);
}

void ul_assoc_rq_free(ul_assoc_rq *rq)
{
    if (!rq)
        return;

    for (size_t i = 0; i < rq->pctx_count; i++)
        free(rq->pctx[i].transfer_syntaxes);
    free(rq->pctx);

    ul_user_info_rq *ui = &rq->user_info;
    free(ui->roles);
    free_ext_neg(ui->ext_neg, ui->ext_neg_count);
    for (size_t i = 0; i < ui->common_ext_neg_count; i++)
        free(ui->common_ext_neg[i].related_sop_classes);
    free(ui->common_ext_neg);
    free(ui->user_identity.primary);
    free(ui->user_identity.secondary);

    memset(rq, 0, sizeof *rq);
}

void ul_assoc_ac_free(ul_assoc_ac *ac)
{
    if (!ac)
        return;

    free(ac->pctx);
    free(ac->user_info.roles);
    free_ext_neg(ac->user_info.ext_neg, ac->user_info.ext_neg_count);
    free(ac->user_info.user_identity.server_response);

    memset(ac, 0, sizeof *ac);
}
