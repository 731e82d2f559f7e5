# SPDX-License-Identifier: Apache-2.0
#
# Writes OUTPUT, a C table of every storage SOP class UID that INPUT
# (DCMTK's dcuid.h) defines, retired ones included. Storage Commitment,
# service class UIDs and the Media Storage Directory (DICOMDIR, never sent
# by C-STORE) are left out.

file(STRINGS ${INPUT} lines REGEX "^#define UID_[A-Za-z0-9_]*Storage[A-Za-z0-9_]*[ \t]+\"")
set(body "")
set(count 0)
foreach(line IN LISTS lines)
  if(line MATCHES "^#define (UID_[A-Za-z0-9_]*)[ \t]+\"([0-9.]+)\"")
    set(name ${CMAKE_MATCH_1})
    set(uid ${CMAKE_MATCH_2})
    if(name MATCHES "Commitment|ServiceClass|MediaStorageDirectory")
      continue()
    endif()
    string(REGEX REPLACE "^UID_" "" name ${name})
    string(APPEND body "    \"${uid}\", /* ${name} */\n")
    math(EXPR count "${count} + 1")
  endif()
endforeach()

file(WRITE ${OUTPUT}
"/* Generated from ${INPUT} by storage_classes.cmake; do not edit. */
#include <stddef.h>

#include \"storage_classes.h\"

const char *const storage_sop_classes[] = {
${body}};

const size_t storage_sop_class_count = ${count};
")
