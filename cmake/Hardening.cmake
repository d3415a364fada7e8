# Debian's hardening flags for every target (what dpkg-buildflags gives a package built with
# hardening=+all): stack protector and stack-clash protection, fortified libc calls where the
# optimizer allows it (not in Debug builds, where glibc warns and -Werror would stop), full
# RELRO with immediate binding (a read-only GOT). Opt-in for now (-DBUNDLEGATE_HARDENING=ON):
# switching it on recompiles everything once, on a machine the whole team shares; lintian
# reports its absence as info only (hardening-no-fortify-functions, hardening-no-bindnow).
option(BUNDLEGATE_HARDENING "Build with Debian's hardening compiler and linker flags" OFF)
if(BUNDLEGATE_HARDENING)
  add_compile_options(-fstack-protector-strong -fstack-clash-protection
    "$<$<NOT:$<CONFIG:Debug>>:-D_FORTIFY_SOURCE=2>")
  add_link_options(-Wl,-z,relro -Wl,-z,now)
endif()
