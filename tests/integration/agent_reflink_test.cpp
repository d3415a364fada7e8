// Copy intake by reflink: the agent's root on a loop-mounted XFS image made with reflink=1 (the
// inbox, work/ and serving/ on it). Every file of a bundle is cloned (O(1), the audit record says
// "intake_copy": {"reflink": n}), and what is served is what was claimed even when the producer
// keeps writing through a descriptor it held open. On tmpfs (no reflinks) the same agent copies
// with copy_file_range and says so.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/support/agent_process.h"
#include "tests/support/loop_fs.h"

using namespace bg::test;
namespace fs = std::filesystem;

namespace {

bool WorkEmpty(const std::string& work) {
  std::error_code ec;
  return fs::is_directory(work, ec) && fs::is_empty(work, ec);
}

// Runs the agent with its root at `root_dir`, drops one bundle whose model file the producer
// keeps open for writing, waits for the decision, then lets the producer overwrite the file.
// Returns the promoted record; checks that serving holds the original bytes.
json DropAndOverwrite(const std::string& root_dir) {
  AgentRoot root;
  WriteFile(root.config(), "intake = \"copy\"\nrequire_parity = false\n[paths]\nroot = \"" +
                               root_dir + "\"\n[watch]\nsettle_ms = 100\n"
                               // The 512 MiB image is below the default 1 GiB floor.
                               "[limits]\nmin_free_bytes = 0\n");
  const std::string audit = root_dir + "/audit.jsonl";
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  const std::string original = RandomBytes(4 << 20, 7);
  BundleSpec spec;
  spec.name = "cow";
  spec.version = "1";
  spec.files["model.pt"] = original;
  const std::string staging = root_dir + "/inbox/.cow.tmp";
  WriteBundle(staging, spec);
  const int held = ::open((staging + "/model.pt").c_str(), O_WRONLY | O_CLOEXEC);
  REQUIRE(held >= 0);
  fs::rename(staging, root_dir + "/inbox/cow");

  auto d = WaitForAudit(audit, DecisionFor("cow"));
  INFO("agent log:\n" << agent.Log());
  REQUIRE(d.size() == 1);
  REQUIRE(d[0]["event"] == "promoted");
  // The producer writes through its old descriptor after the claim (the original was removed
  // from the work area, but the inode lives on while it is open).
  const std::string evil(1 << 20, 'X');
  CHECK(::pwrite(held, evil.data(), evil.size(), 0) == static_cast<ssize_t>(evil.size()));
  ::fsync(held);
  ::close(held);
  const std::string served = d[0]["path"].get<std::string>() + "/model.pt";
  CHECK(ReadFile(served) == original);
  CHECK(WaitUntil([&] { return WorkEmpty(root_dir + "/work"); }));
  return d[0];
}

}  // namespace

TEST_CASE("copy intake on XFS with reflinks clones every file, and serves what was claimed") {
  LoopFs xfs("xfs-reflink");
  if (!xfs.ok()) {
    WARN("skipped: " << xfs.why());
    return;
  }
  const json d = DropAndOverwrite(xfs.path() + "/root");
  INFO(d.dump());
  REQUIRE(d.contains("intake_copy"));
  CHECK(d["intake_copy"].size() == 1);  // nothing fell back to a copy
  CHECK(d["intake_copy"].value("reflink", 0) >= 5);  // bundle.toml, model, lockfile, ...
}

TEST_CASE("copy intake on tmpfs (no reflinks) copies in the kernel and says so") {
  std::string templ = "/dev/shm/bundlegate-cow-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    WARN("skipped: no /dev/shm here");
    return;
  }
  struct Cleanup {
    std::string p;
    ~Cleanup() {
      std::error_code ec;
      for (auto& e : fs::recursive_directory_iterator(p, ec)) {
        fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add, ec);
      }
      fs::remove_all(p, ec);
    }
  } cleanup{templ};
  const json d = DropAndOverwrite(templ + "/root");
  INFO(d.dump());
  REQUIRE(d.contains("intake_copy"));
  CHECK(d["intake_copy"].size() == 1);
  CHECK(d["intake_copy"].value("copy_file_range", 0) >= 5);
}
