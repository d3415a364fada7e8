# Install rules and the Debian package (CPack): `scripts/package` builds
# build/bundlegate_<version>_amd64.deb and runs lintian on it.
#
# What the package holds:
#   /usr/bin/bundlegate                          the agent and its CLI
#   /usr/lib/bundlegate/plugins/                 bundlegate-check-torchscript (not on PATH)
#   /etc/bundlegate/bundlegate.toml              conffile: the production config, made here from
#                                                the reference etc/bundlegate.toml (below)
#   /lib/systemd/system/bundlegate.service       the unit (Debian 12 keeps units in /lib)
#   /usr/lib/sysusers.d, /usr/lib/tmpfiles.d     bundlegate.conf each
#   /usr/share/man/man1/bundlegate*.1.gz         generated from --help (scripts/manpages)
#   /usr/share/doc/bundlegate/                   README.md, the plugin's README, copyright,
#                                                changelog.gz
# Maintainer scripts are packaging/deb/{postinst,prerm,postrm}; Depends come from dpkg-shlibdeps
# plus systemd (sysusers, tmpfiles, the unit).
include(GNUInstallDirs)

# (plugins/torchscript installs its plugin into lib/bundlegate/plugins itself.)
install(TARGETS bundlegate RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Installed binaries are stripped as dh_strip does (debug info and the .comment/.note sections
# out); the build tree keeps its debug info.
install(CODE [[
  foreach(_bg_bin bin/bundlegate lib/bundlegate/plugins/bundlegate-check-torchscript)
    set(_bg_path "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/${_bg_bin}")
    if(EXISTS "${_bg_path}")
      execute_process(COMMAND strip --remove-section=.comment --remove-section=.note "${_bg_path}"
                      COMMAND_ERROR_IS_FATAL ANY)
    endif()
  endforeach()
]])

# The production config: the reference file itself (every key annotated), with plugins taken
# from the packaged plugin directory only (not from next to /usr/bin/bundlegate) and the
# TorchScript parity check enabled. Each edit must match, so a reshaped reference file fails
# the configure step instead of shipping something else.
set(_bg_reference "${PROJECT_SOURCE_DIR}/etc/bundlegate.toml")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_bg_reference}")
file(READ "${_bg_reference}" _bg_config)
function(_bg_config_edit from to)
  string(FIND "${_bg_config}" "${from}" _at)
  if(_at EQUAL -1)
    message(FATAL_ERROR "etc/bundlegate.toml no longer contains:\n${from}\n(cmake/Packaging.cmake makes the packaged config from it)")
  endif()
  string(REPLACE "${from}" "${to}" _edited "${_bg_config}")
  set(_bg_config "${_edited}" PARENT_SCOPE)
endfunction()
_bg_config_edit("# bundlegate: the annotated reference configuration.\n"
  "# bundlegate: the production configuration, /etc/bundlegate/bundlegate.toml (a conffile of the\n# Debian package: your edits survive upgrades). It is the annotated reference configuration with\n# plugins from /usr/lib/bundlegate/plugins only and the TorchScript parity check enabled; add\n# the git, lockfile and preprocessing checks your models need (below), then:\n#   systemctl enable --now bundlegate      (later changes: systemctl reload bundlegate)\n")
_bg_config_edit("# plugin_dirs = [\"/usr/lib/bundlegate/plugins\"]\n"
  "plugin_dirs = [\"/usr/lib/bundlegate/plugins\"]\n")
_bg_config_edit("# [[checks]]\n# kind = \"torchscript\"\n# timeout_s = 300\n"
  "[[checks]]\nkind = \"torchscript\"\ntimeout_s = 300\n")
_bg_config_edit("None is enabled in this reference file\n# (uncomment and adapt); etc/bundlegate.checkout.toml is a complete working example.\n"
  "Here the TorchScript\n# parity check is enabled; uncomment and adapt the others.\n")
set(BUNDLEGATE_PACKAGED_CONFIG "${CMAKE_BINARY_DIR}/packaging/bundlegate.toml")
file(CONFIGURE OUTPUT "${BUNDLEGATE_PACKAGED_CONFIG}" CONTENT "${_bg_config}" @ONLY)
install(FILES "${BUNDLEGATE_PACKAGED_CONFIG}" DESTINATION /etc/bundlegate)

install(FILES systemd/bundlegate.service DESTINATION /lib/systemd/system)
install(FILES systemd/bundlegate.sysusers DESTINATION lib/sysusers.d RENAME bundlegate.conf)
install(FILES systemd/bundlegate.tmpfiles DESTINATION lib/tmpfiles.d RENAME bundlegate.conf)

# Man pages, from the binary's own --help (help2man; scripts/bootstrap installs it).
find_program(HELP2MAN help2man)
set(_bg_man_dir "${CMAKE_BINARY_DIR}/man")
if(HELP2MAN)
  add_custom_command(OUTPUT "${_bg_man_dir}/bundlegate.1.gz"
    COMMAND "${PROJECT_SOURCE_DIR}/scripts/manpages" $<TARGET_FILE:bundlegate> "${_bg_man_dir}"
            "${PROJECT_VERSION}" > /dev/null
    DEPENDS bundlegate "${PROJECT_SOURCE_DIR}/scripts/manpages"
            "${PROJECT_SOURCE_DIR}/packaging/man/bundlegate.h2m"
    COMMENT "Man pages from bundlegate --help")
  add_custom_target(manpages ALL DEPENDS "${_bg_man_dir}/bundlegate.1.gz")
  install(DIRECTORY "${_bg_man_dir}/" DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "help2man not found: no man pages (the Debian package needs them; scripts/bootstrap)")
endif()

# Documentation. Debian wants the changelog compressed without a timestamp (gzip -n).
set(_bg_doc share/doc/bundlegate)
set(_bg_changelog "${CMAKE_BINARY_DIR}/packaging/changelog.gz")
add_custom_command(OUTPUT "${_bg_changelog}"
  COMMAND gzip -9n < "${PROJECT_SOURCE_DIR}/packaging/deb/changelog" > "${_bg_changelog}"
  DEPENDS "${PROJECT_SOURCE_DIR}/packaging/deb/changelog")
add_custom_target(package_changelog ALL DEPENDS "${_bg_changelog}")
install(FILES README.md packaging/deb/copyright "${_bg_changelog}" DESTINATION ${_bg_doc})
install(FILES plugins/torchscript/README.md DESTINATION ${_bg_doc} RENAME README.torchscript.md)
install(FILES packaging/deb/lintian-overrides DESTINATION share/lintian/overrides RENAME bundlegate)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME bundlegate)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "bundlegate maintainers <bundlegate@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "release gate for PyTorch model bundles")
set(CPACK_PACKAGE_DESCRIPTION
"bundlegate is a long-running agent that gates PyTorch model bundles into
production. Training pipelines drop a bundle into a watched inbox; the agent
checks its integrity, the git commit of the training code, the dependency
lockfile and the preprocessing version, and runs parity checks that load the
TorchScript model in LibTorch and compare its outputs with those recorded at
training time. A bundle that passes is moved atomically into a versioned
serving directory; one that fails goes to quarantine with a machine-readable
reason. Every decision is appended to a hash-chained audit log.
.
The package installs a hardened systemd unit, but neither enables nor starts
it: review /etc/bundlegate/bundlegate.toml first.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd")
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  "${PROJECT_SOURCE_DIR}/packaging/deb/postinst;${PROJECT_SOURCE_DIR}/packaging/deb/prerm;${PROJECT_SOURCE_DIR}/packaging/deb/postrm;${PROJECT_SOURCE_DIR}/packaging/deb/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
