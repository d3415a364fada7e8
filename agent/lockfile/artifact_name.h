// What a direct reference's file name says: "torch-2.5.1%2Bcu121-cp311-cp311-linux_x86_64.whl"
// is torch 2.5.1+cu121. Used to name (and, for torch, compare) entries that a lockfile records
// as a URL or path rather than as a version.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace bg {

struct ArtifactName {
  std::string name;     // empty when the reference names nothing usable
  std::string version;  // empty unless the file is a wheel or an sdist archive
};

// From "#egg=name" when present, else from the last path component: a wheel or sdist file name
// gives name and version, a directory or repository ("./libs/feat", "repo.git") its name.
ArtifactName ArtifactNameOf(std::string_view reference);

// True for what pip treats as a path or URL rather than a requirement ("./x", "/x", "x.whl",
// "https://...", "git+ssh://...", "file:...").
bool LooksLikePathOrUrl(std::string_view text);

}  // namespace bg
