# SPDX-License-Identifier: Apache-2.0
#
# Installed files beyond the programs, plugins and SDK, and the CPack
# settings that split them into three Debian packages:
#   cairn             cairnd, the cairn tool, every plugin without
#                     dependencies of its own (SQLite index included), the
#                     configuration, the systemd unit and the system user;
#   cairn-postgresql  the PostgreSQL index plugin (libpq), built only when
#                     plugins/index-postgresql exists;
#   cairn-dev         the SDK headers, pkg-config file, CMake package
#                     config and the sample plugin's source.
# packaging/build-packages.sh runs the build and CPack; packaging/rpm/
# holds the RPM spec, which splits the same install tree the same way.
#
# The packages are a system install: CMAKE_INSTALL_PREFIX=/usr and
# CMAKE_INSTALL_SYSCONFDIR=/etc, where GNUInstallDirs gives the
# distribution's library folder (/usr/lib/x86_64-linux-gnu on Debian) for
# the plugins.

# Relative folders are taken from the install prefix, so that
# `cmake --install --prefix DIR` puts everything under DIR. The package
# builds pass absolute ones (/etc, /lib/systemd/system, ...).
set(CAIRN_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
  "Folder of the systemd unit (Debian 12: /lib/systemd/system)")
set(CAIRN_SYSUSERS_DIR "lib/sysusers.d" CACHE STRING
  "Folder of the sysusers.d file that declares the cairn user")
set(CAIRN_TMPFILES_DIR "lib/tmpfiles.d" CACHE STRING
  "Folder of the tmpfiles.d file that creates /var/lib/cairn")

set(CAIRN_CONFIG_DIR "${CMAKE_INSTALL_SYSCONFDIR}/cairn")
set(CAIRN_CONFIG_PATH "${CMAKE_INSTALL_FULL_SYSCONFDIR}/cairn/cairn.conf")
set(CAIRN_DAEMON_PATH "${CMAKE_INSTALL_FULL_SBINDIR}/cairnd")
set(CAIRN_EXAMPLES_DIR "${CMAKE_INSTALL_DATADIR}/cairn/examples")

# The default configuration: a Debian conffile, kept on upgrade when the
# site changed it. postinst makes it readable by the cairn group only,
# since it may hold the control API token.
install(FILES ${PROJECT_SOURCE_DIR}/etc/cairn.conf DESTINATION ${CAIRN_CONFIG_DIR}
  COMPONENT daemon)
install(FILES ${PROJECT_SOURCE_DIR}/etc/cairn-reference.conf
  DESTINATION ${CAIRN_EXAMPLES_DIR} COMPONENT daemon)

configure_file(${PROJECT_SOURCE_DIR}/packaging/systemd/cairn.service.in
  ${PROJECT_BINARY_DIR}/packaging/cairn.service @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/packaging/cairn.service
  DESTINATION ${CAIRN_SYSTEMD_UNIT_DIR} COMPONENT daemon)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/systemd/cairn.sysusers
  DESTINATION ${CAIRN_SYSUSERS_DIR} RENAME cairn.conf COMPONENT daemon)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/systemd/cairn.tmpfiles
  DESTINATION ${CAIRN_TMPFILES_DIR} RENAME cairn.conf COMPONENT daemon)

set(CAIRN_PACKAGE_COMPONENTS daemon dev)
if(TARGET index-postgresql)
  list(APPEND CAIRN_PACKAGE_COMPONENTS postgresql)
  install(FILES ${PROJECT_SOURCE_DIR}/etc/cairn-postgresql.conf
    DESTINATION ${CAIRN_EXAMPLES_DIR} COMPONENT postgresql)
endif()

# Debian policy asks every package for /usr/share/doc/PACKAGE/copyright.
# RPM has no such rule, so only the DEB build turns this on.
option(CAIRN_INSTALL_DEBIAN_COPYRIGHT "Install /usr/share/doc/<package>/copyright" OFF)
if(CAIRN_INSTALL_DEBIAN_COPYRIGHT)
  foreach(pair daemon:cairn dev:cairn-dev postgresql:cairn-postgresql)
    string(REPLACE ":" ";" pair ${pair})
    list(GET pair 0 component)
    list(GET pair 1 package)
    if(component IN_LIST CAIRN_PACKAGE_COMPONENTS)
      install(FILES ${PROJECT_SOURCE_DIR}/packaging/deb/copyright
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${package} COMPONENT ${component})
    endif()
  endforeach()
endif()

# --- CPack: Debian packages.

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cairn)
set(CPACK_PACKAGE_VENDOR "Cairn")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# NOTE: a placeholder address; set the real maintainer before publishing.
set(CPACK_PACKAGE_CONTACT "Cairn maintainers <maintainers@cairn.invalid>")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
set(CPACK_COMPONENTS_ALL ${CAIRN_PACKAGE_COMPONENTS})
set(CPACK_STRIP_FILES ON)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(cairn_deb_version "${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}")

set(CPACK_DEBIAN_DAEMON_PACKAGE_NAME cairn)
set(CPACK_DEBIAN_DAEMON_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_DAEMON_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_DAEMON_PACKAGE_SUGGESTS "cairn-postgresql, dcmtk")
string(CONCAT CPACK_DEBIAN_DAEMON_DESCRIPTION
  "DICOM archive (PACS) daemon, tool and bundled plugins\n"
  "cairnd stores, indexes and serves DICOM instances: verification,\n"
  "storage, query/retrieve and storage commitment, with an SQLite index.\n"
  "The package adds the cairn system user, /etc/cairn/cairn.conf and a\n"
  "hardened systemd unit (cairn.service).")
set(CPACK_DEBIAN_DAEMON_PACKAGE_CONTROL_EXTRA
  "${PROJECT_SOURCE_DIR}/packaging/deb/conffiles"
  "${PROJECT_SOURCE_DIR}/packaging/deb/postinst"
  "${PROJECT_SOURCE_DIR}/packaging/deb/prerm"
  "${PROJECT_SOURCE_DIR}/packaging/deb/postrm")

set(CPACK_DEBIAN_POSTGRESQL_PACKAGE_NAME cairn-postgresql)
set(CPACK_DEBIAN_POSTGRESQL_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_POSTGRESQL_PACKAGE_DEPENDS "cairn (= ${cairn_deb_version})")
string(CONCAT CPACK_DEBIAN_POSTGRESQL_DESCRIPTION
  "PostgreSQL index back end for the Cairn archive\n"
  "Keeps the archive index in PostgreSQL (through libpq), so that several\n"
  "cairnd nodes can share one database. An example configuration is in\n"
  "/usr/share/cairn/examples/cairn-postgresql.conf.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME cairn-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "cairn (>= ${cairn_deb_version})")
set(CPACK_DEBIAN_DEV_PACKAGE_RECOMMENDS "cmake, pkg-config")
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
string(CONCAT CPACK_DEBIAN_DEV_DESCRIPTION
  "SDK for writing Cairn archive plugins\n"
  "C11 headers, a pkg-config file (cairn-sdk) and a CMake package config\n"
  "(find_package(Cairn)) for building plugins out of tree, and the source\n"
  "of a sample plugin in /usr/share/cairn/sdk/examples.")

include(CPack)
