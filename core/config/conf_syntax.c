/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Syntax checks for values the configuration names. AE titles follow the
 * AE value representation of PS3.5: at most 16 characters of the default
 * repertoire, no backslash or control characters, not only spaces. UIDs
 * follow PS3.5 section 9: digits and dots, at most 64 characters, no
 * leading zero in a component. Listen addresses must be IP literals.
 */
#include "config/conf_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define AE_TITLE_MAX 16
#define UID_MAX 64

const char *conf_ae_title_problem(const char *title)
{
    size_t length = strlen(title);
    bool only_spaces = true;

    if (length == 0)
        return "it is empty";
    if (length > AE_TITLE_MAX)
        return "it is longer than 16 characters";

    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)title[i];

        if (c == '\\')
            return "it contains a backslash";
        if (c < 0x20 || c == 0x7f)
            return "it contains a control character";
        if (c >= 0x80)
            return "it contains a character outside ASCII";
        if (c != ' ')
            only_spaces = false;
    }
    if (only_spaces)
        return "it contains only spaces";
    return NULL;
}

const char *conf_uid_problem(const char *uid)
{
    size_t length = strlen(uid);
    size_t component_start = 0;

    if (length == 0)
        return "it is empty";
    if (length > UID_MAX)
        return "it is longer than 64 characters";

    for (size_t i = 0; i <= length; i++) {
        char c = uid[i];

        if (c == '.' || c == '\0') {
            size_t component_length = i - component_start;

            if (component_length == 0)
                return "it has an empty component";
            if (component_length > 1 && uid[component_start] == '0')
                return "a component has a leading zero";
            component_start = i + 1;
        } else if (c < '0' || c > '9') {
            return "it contains a character other than digits and dots";
        }
    }
    return NULL;
}

const char *conf_bind_problem(const char *bind)
{
    struct in_addr v4;
    struct in6_addr v6;

    if (bind[0] == '\0')
        return "it is empty";
    if (strcmp(bind, "localhost") == 0)
        return NULL;
    if (inet_pton(AF_INET, bind, &v4) == 1 || inet_pton(AF_INET6, bind, &v6) == 1)
        return NULL;
    return "it is not an IPv4 or IPv6 address or \"localhost\"";
}

const char *conf_nonempty_problem(const char *value)
{
    return value[0] == '\0' ? "it is empty" : NULL;
}

char *conf_trim_title(const char *title)
{
    size_t start = 0;
    size_t end = strlen(title);

    while (title[start] == ' ')
        start++;
    while (end > start && title[end - 1] == ' ')
        end--;
    return strndup(title + start, end - start);
}
