/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Look-ups in the generated data dictionary: exact tags by binary search,
 * then repeating groups, then the rules the dictionary file leaves to the
 * reader (group length elements and private creator elements).
 */
#include <stdlib.h>
#include <string.h>

#include "dcm/dict_data.h"

static const dcm_dict_entry group_length_entry = {
    0x00000000u, DCM_VR_UL, DCM_DICT_REPEATING, "1", "GroupLength"};
static const dcm_dict_entry private_creator_entry = {
    0x00090010u, DCM_VR_LO, DCM_DICT_REPEATING, "1", "PrivateCreator"};

static bool range_matches(const dcm_dict_range *r, uint16_t group, uint16_t element)
{
    if (group < r->g_lo || group > r->g_hi || (group - r->g_lo) % r->g_step != 0)
        return false;
    return element >= r->e_lo && element <= r->e_hi && (element - r->e_lo) % r->e_step == 0;
}

const dcm_dict_entry *dcm_dict_find(dcm_tag tag)
{
    size_t lo = 0, hi = dcm_dict_entry_count;
    uint16_t group = DCM_TAG_GROUP(tag), element = DCM_TAG_ELEMENT(tag);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (dcm_dict_entries[mid].tag == tag)
            return &dcm_dict_entries[mid];
        if (dcm_dict_entries[mid].tag < tag)
            lo = mid + 1;
        else
            hi = mid;
    }

    for (size_t i = 0; i < dcm_dict_range_count; i++) {
        if (range_matches(&dcm_dict_ranges[i], group, element))
            return dcm_dict_ranges[i].entry;
    }

    if (element == 0x0000)
        return &group_length_entry;
    if ((group & 1) && group > 0x0008 && element >= 0x0010 && element <= 0x00FF)
        return &private_creator_entry;
    return NULL;
}

static int compare_keyword(const void *key, const void *member)
{
    const dcm_dict_entry *const *entry = member;

    return strcmp(key, (*entry)->keyword);
}

const dcm_dict_entry *dcm_dict_find_keyword(const char *keyword)
{
    const dcm_dict_entry *const *found;

    if (!keyword)
        return NULL;
    found = bsearch(keyword, dcm_dict_by_keyword, dcm_dict_by_keyword_count,
                    sizeof dcm_dict_by_keyword[0], compare_keyword);
    return found ? *found : NULL;
}
