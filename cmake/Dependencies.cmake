# Third-party libraries, all from Debian 12 packages (scripts/bootstrap installs them).
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED COMPONENTS Crypto)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(tomlplusplus 3 REQUIRED)
find_package(spdlog 1.10 REQUIRED)
find_package(CLI11 2 REQUIRED)
find_package(Boost 1.74 REQUIRED)  # header-only: Asio
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBGIT2 REQUIRED IMPORTED_TARGET libgit2>=1.5)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
if(BUNDLEGATE_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
endif()
