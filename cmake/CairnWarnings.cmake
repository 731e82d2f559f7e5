# SPDX-License-Identifier: Apache-2.0
#
# Compiler warnings and sanitizers shared by every target the project owns.
# cairn_target_defaults() applies them to one target.

set(CAIRN_C_WARNINGS -Wall -Wextra -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wformat=2 -Wno-unused-parameter)
if(CAIRN_WERROR)
  list(APPEND CAIRN_C_WARNINGS -Werror)
endif()

set(CAIRN_SANITIZE_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)

function(cairn_target_defaults target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:C>:${CAIRN_C_WARNINGS}>
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra $<$<BOOL:${CAIRN_WERROR}>:-Werror>>)
  target_compile_definitions(${target} PRIVATE _GNU_SOURCE)
  if(CAIRN_SANITIZE)
    target_compile_options(${target} PRIVATE ${CAIRN_SANITIZE_FLAGS})
    target_link_options(${target} PRIVATE ${CAIRN_SANITIZE_FLAGS})
  endif()
endfunction()
