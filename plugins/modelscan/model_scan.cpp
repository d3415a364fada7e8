#include "plugins/modelscan/model_scan.h"

#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include "plugins/modelscan/archive_layout.h"
#include "plugins/modelscan/code_scanner.h"
#include "plugins/modelscan/pickle_scanner.h"

namespace bg::modelscan {
namespace {

constexpr std::size_t kMaxFindings = 50;
constexpr std::size_t kMaxGlobals = 200;
constexpr int kLegacyPickles = 5;  // magic, protocol, sys_info, the object, storage keys

bool LooksLikePickle(std::string_view b) {
  return b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0x80 && b[1] >= 2 && b[1] <= 5;
}

bool IsSmallNumber(std::string_view s) {
  if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  if (s.empty() || s.size() > 6) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsShortText(std::string_view s) {
  if (s.size() > 64) return false;
  for (const char c : s) {
    if ((c < 0x20 || c > 0x7e) && c != '\n') return false;
  }
  return true;
}

class Scanner {
 public:
  explicit Scanner(const ZipLimits& limits) : limits_(limits) {}

  ScanReport Run(std::string_view bytes) {
    const auto start = std::chrono::steady_clock::now();
    r_.bytes = bytes.size();
    Classify(bytes);
    if (!r_.findings.empty()) {
      r_.verdict = ScanVerdict::kUnsafe;
      const ScanFinding& f = r_.findings.front();
      r_.summary = (f.entry.empty() ? "" : f.entry + ": ") + f.message;
      if (r_.findings.size() > 1) {
        r_.summary += " (+" + std::to_string(r_.findings.size() - 1) + " more)";
      }
    }
    r_.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count();
    return std::move(r_);
  }

 private:
  void Unsafe(const std::string& entry, const std::string& message) {
    if (r_.findings.size() < kMaxFindings) r_.findings.push_back({Printable(entry), message});
  }
  void Verdict(ScanVerdict v, std::string summary) {
    r_.verdict = v;
    r_.summary = std::move(summary);
  }

  void Classify(std::string_view bytes) {
    if (bytes.empty()) return Verdict(ScanVerdict::kUnreadable, "the file is empty");
    if (bytes.size() >= 8 && bytes.substr(4, 4) == "PTMF") {
      r_.format = "flatbuffer";
      return Unsafe("", "a flatbuffer model, which this scan cannot read (save it with "
                        "torch.jit.save as a ZIP archive)");
    }
    if (LooksLikePickle(bytes)) return Legacy(bytes);
    ZipProblem problem;
    const auto zip = ZipArchive::Open(bytes, limits_, &problem);
    if (!zip) {
      if (problem.kind == ZipProblem::kNotZip) {
        return Verdict(ScanVerdict::kUnreadable, problem.message);
      }
      r_.format = "zip";
      return Unsafe("", problem.message);
    }
    Archive(*zip);
  }

  // torch.save's format before 1.6: pickles back to back, then raw storage bytes.
  void Legacy(std::string_view bytes) {
    r_.format = "torch.save (legacy)";
    std::size_t at = 0;
    for (int i = 0; i < kLegacyPickles && LooksLikePickle(bytes.substr(at)); ++i) {
      const PickleScan scan = ScanPickle(bytes.substr(at), PickleAllowlist::Checkpoint(), true);
      Record("pickle " + std::to_string(i + 1), scan);
      if (!scan.ok()) return;
      at += scan.length;
    }
    Verdict(ScanVerdict::kNotTorchScript,
            "a legacy torch.save file (pickles, not a TorchScript archive)");
  }

  void Record(const std::string& entry, const PickleScan& scan) {
    ++r_.pickles;
    r_.opcodes += scan.opcodes;
    for (const auto& g : scan.globals) {
      const std::string name = GlobalName(g);
      if (globals_.insert(name).second && r_.globals.size() < kMaxGlobals) {
        r_.globals.push_back(name);
      }
    }
    for (const auto& p : scan.problems) Unsafe(entry, p);
  }

  void Archive(const ZipArchive& zip) {
    const ArchiveLayout layout = ClassifyEntries(zip.entries());
    r_.entries = zip.entries().size();
    r_.inflated_bytes = zip.inflated_total();
    r_.format = layout.kind == ArchiveLayout::kTorchScript  ? "torchscript"
                : layout.kind == ArchiveLayout::kCheckpoint ? "torch.save"
                                                            : "zip";
    for (const auto& p : layout.problems) Unsafe("", p);
    const PickleAllowlist& allow = layout.kind == ArchiveLayout::kCheckpoint
                                       ? PickleAllowlist::Checkpoint()
                                       : PickleAllowlist::TorchScript();
    std::string storage;
    for (std::size_t i = 0; i < zip.entries().size(); ++i) {
      const ZipEntry& e = zip.entries()[i];
      std::string_view content;
      std::string why;
      if (!zip.Read(e, &storage, &content, &why)) {
        Unsafe(e.name, why);
        continue;
      }
      Entry(layout, e, layout.roles[i], content, allow);
    }
    CheckStorages(layout);
    if (!r_.findings.empty()) return;
    if (layout.kind == ArchiveLayout::kTorchScript) {
      return Verdict(ScanVerdict::kClean,
                     "a TorchScript archive: " + std::to_string(r_.entries) + " entries, " +
                         std::to_string(r_.pickles) + " pickles, only allowed globals");
    }
    Verdict(ScanVerdict::kNotTorchScript,
            layout.kind == ArchiveLayout::kCheckpoint
                ? "a torch.save checkpoint (data.pkl without code/), not a TorchScript archive"
                : "a ZIP archive without a TorchScript model (data.pkl, constants.pkl, code/)");
  }

  void Entry(const ArchiveLayout& layout, const ZipEntry& e, EntryRole role,
             std::string_view content, const PickleAllowlist& allow) {
    const std::string rest = e.name.substr(layout.top.size() + 1);
    switch (role) {
      case EntryRole::kDataPickle:
      case EntryRole::kConstantsPickle:
      case EntryRole::kBytecodePickle:
      case EntryRole::kDebugPickle:
        return Pickle(e.name, content, allow, role);
      case EntryRole::kExtra:
        // Arbitrary bytes for LibTorch, but a pickle there is one for whoever reads it.
        if (LooksLikePickle(content) || (rest.size() >= 4 && rest.substr(rest.size() - 4) == ".pkl")) {
          return Pickle(e.name, content, PickleAllowlist::TorchScript(), role);
        }
        return;
      case EntryRole::kCode:
        for (const auto& p : ScanTorchScriptCode(content)) Unsafe(e.name, p);
        return;
      case EntryRole::kVersion:
        if (!IsSmallNumber(content)) Unsafe(e.name, "is not a format version number");
        return;
      case EntryRole::kMetadata:
        if (!IsShortText(content)) Unsafe(e.name, "is not a short line of text");
        return;
      case EntryRole::kDataStorage:
        sizes_[rest] = e.size;
        return;
      case EntryRole::kConstantStorage:
        sizes_[rest] = e.size;
        return;
      case EntryRole::kUnknown:
        return;
    }
  }

  void Pickle(const std::string& name, std::string_view content, const PickleAllowlist& allow,
              EntryRole role) {
    const PickleScan scan = ScanPickle(content, allow);
    Record(name, scan);
    const std::string dir = role == EntryRole::kDataPickle        ? "data/"
                            : role == EntryRole::kConstantsPickle ? "constants/"
                                                                  : "";
    for (const auto& s : scan.storages) {
      if (dir.empty()) {
        Unsafe(name, "names storage \"" + Printable(s.key) + "\", which only data.pkl and "
                     "constants.pkl may");
        continue;
      }
      refs_.push_back({name, dir + s.key, s});
    }
  }

  void CheckStorages(const ArchiveLayout& layout) {
    std::map<std::string, std::uint64_t> needed;
    for (const auto& [pickle, key, ref] : refs_) {
      std::uint64_t bytes = 0;
      if (__builtin_mul_overflow(ref.numel, static_cast<std::uint64_t>(ref.item_size), &bytes)) {
        Unsafe(pickle, "a storage of " + std::to_string(ref.numel) + " elements overflows");
        continue;
      }
      const auto have = sizes_.find(key);
      if (have == sizes_.end()) {
        if (ref.numel > 0) Unsafe(pickle, "names storage " + Printable(key) + ", which the archive lacks");
        continue;
      }
      const auto [it, fresh] = needed.emplace(key, bytes);
      if (!fresh && it->second != bytes) {
        Unsafe(pickle, "gives storage " + Printable(key) + " two different sizes");
      } else if (have->second != bytes) {
        Unsafe(layout.top + "/" + key,
               "holds " + std::to_string(have->second) + " bytes where its " +
                   std::to_string(ref.numel) + " " + ref.type + " elements need " +
                   std::to_string(bytes) +
                   (have->second > bytes ? " (hidden content?)" : " (an out-of-bounds read)"));
      }
    }
    for (const auto& [key, size] : sizes_) {
      if (!needed.count(key)) {
        Unsafe(layout.top + "/" + key, "is a storage that no tensor uses (hidden content?)");
      }
    }
  }

  struct Ref {
    std::string pickle;
    std::string key;  // "data/3"
    StorageRef ref;
  };

  const ZipLimits& limits_;
  ScanReport r_;
  std::set<std::string> globals_;
  std::map<std::string, std::uint64_t> sizes_;  // "data/3" -> bytes
  std::vector<Ref> refs_;
};

}  // namespace

const char* VerdictName(ScanVerdict verdict) {
  switch (verdict) {
    case ScanVerdict::kClean: return "clean";
    case ScanVerdict::kNotTorchScript: return "not-torchscript";
    case ScanVerdict::kUnreadable: return "unreadable";
    case ScanVerdict::kUnsafe: return "unsafe";
  }
  return "unsafe";
}

sdk::Json ScanReport::ToJson() const {
  sdk::Json findings_json = sdk::Json::array();
  for (const auto& f : findings) findings_json.push_back({{"entry", f.entry}, {"message", f.message}});
  return {{"verdict", VerdictName(verdict)},
          {"format", format},
          {"summary", summary},
          {"bytes", bytes},
          {"entries", entries},
          {"inflated_bytes", inflated_bytes},
          {"pickles", pickles},
          {"opcodes", opcodes},
          {"globals", globals},
          {"findings", findings_json},
          {"scan_ms", std::round(ms * 1000.0) / 1000.0}};
}

ScanReport ScanModel(std::string_view bytes, const ZipLimits& limits) {
  return Scanner(limits).Run(bytes);
}

}  // namespace bg::modelscan
