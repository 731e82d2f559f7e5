# SPDX-License-Identifier: Apache-2.0
#
# The data dictionary of core/dcm is generated at build time from DCMTK's
# dicom.dic by a small host program (dictgen), so that no tag table is kept
# by hand. Included by core/CMakeLists.txt before the core sources are
# collected; appends the generated file to CAIRN_CORE_GENERATED.

find_file(CAIRN_DICOM_DIC dicom.dic
  PATHS /usr/share/libdcmtk17 /usr/share/libdcmtk18 /usr/share/libdcmtk16
        /usr/share/libdcmtk15 /usr/share/dcmtk /usr/local/share/dcmtk
  NO_DEFAULT_PATH)
if(NOT CAIRN_DICOM_DIC)
  file(GLOB _cairn_dic_candidates /usr/share/libdcmtk*/dicom.dic)
  if(_cairn_dic_candidates)
    list(GET _cairn_dic_candidates 0 _cairn_dic_first)
    set(CAIRN_DICOM_DIC ${_cairn_dic_first} CACHE FILEPATH "DCMTK data dictionary" FORCE)
  endif()
endif()
if(NOT CAIRN_DICOM_DIC)
  message(FATAL_ERROR "dicom.dic (DCMTK data dictionary) not found in "
    "/usr/share/libdcmtk*, /usr/share/dcmtk. Install the DCMTK data package "
    "(Debian/Ubuntu: libdcmtk17 or dcmtk) or pass -DCAIRN_DICOM_DIC=/path/to/dicom.dic.")
endif()

add_executable(cairn_dictgen ${CMAKE_CURRENT_LIST_DIR}/dictgen/dictgen.c)
cairn_target_defaults(cairn_dictgen)

add_custom_command(
  OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/dcm_dict_data.c
  COMMAND cairn_dictgen ${CAIRN_DICOM_DIC} ${CMAKE_CURRENT_BINARY_DIR}/dcm_dict_data.c
  DEPENDS cairn_dictgen ${CAIRN_DICOM_DIC}
  COMMENT "Generating the DICOM data dictionary from ${CAIRN_DICOM_DIC}"
  VERBATIM)

list(APPEND CAIRN_CORE_GENERATED ${CMAKE_CURRENT_BINARY_DIR}/dcm_dict_data.c)
