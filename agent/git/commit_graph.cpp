#include "agent/git/commit_graph.h"

#include <sys/stat.h>

#include <fstream>

namespace bg {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Result<std::vector<CommitGraphLayer>> OpenSingle(const std::string& path) {
  BG_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  BG_ASSIGN_OR_RETURN(CommitGraphLayer layer, CommitGraphLayer::Parse(std::move(file), 0, {}));
  std::vector<CommitGraphLayer> layers;
  layers.push_back(std::move(layer));
  return layers;
}

Result<std::vector<git_oid>> ReadChainFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Error("cannot read " + path);
  std::vector<git_oid> hashes;
  for (std::string line; std::getline(in, line);) {
    git_oid oid;
    if (line.size() != GIT_OID_HEXSZ || git_oid_fromstrn(&oid, line.data(), line.size()) < 0) {
      return Status::Error(path + ": \"" + line + "\" is not a graph hash");
    }
    hashes.push_back(oid);
  }
  if (hashes.empty()) return Status::Error(path + " lists no graph");
  return hashes;
}

Result<std::vector<CommitGraphLayer>> OpenChain(const std::string& dir) {
  BG_ASSIGN_OR_RETURN(std::vector<git_oid> hashes, ReadChainFile(dir + "/commit-graph-chain"));
  std::vector<CommitGraphLayer> layers;
  std::vector<git_oid> below;
  std::uint64_t first = 0;
  for (const git_oid& hash : hashes) {
    const std::string path = dir + "/graph-" + git_oid_tostr_s(&hash) + ".graph";
    BG_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
    BG_ASSIGN_OR_RETURN(
        CommitGraphLayer layer,
        CommitGraphLayer::Parse(std::move(file), static_cast<std::uint32_t>(first), below));
    const git_oid sum = layer.checksum();
    if (!git_oid_equal(&sum, &hash)) return Status::Error(path + ": checksum is not its name");
    first += layer.count();
    if (first >= 0x70000000) return Status::Error(dir + ": too many commits for a commit-graph");
    below.push_back(hash);
    layers.push_back(std::move(layer));
  }
  return layers;
}

}  // namespace

Result<std::unique_ptr<CommitGraph>> CommitGraph::Open(const std::string& objects_dir) {
  const std::string single = objects_dir + "/info/commit-graph";
  const std::string chain = objects_dir + "/info/commit-graphs";
  std::vector<CommitGraphLayer> layers;
  if (Exists(single)) {
    BG_ASSIGN_OR_RETURN(layers, OpenSingle(single));
  } else if (Exists(chain + "/commit-graph-chain")) {
    BG_ASSIGN_OR_RETURN(layers, OpenChain(chain));
  } else {
    return std::unique_ptr<CommitGraph>();
  }
  return std::unique_ptr<CommitGraph>(new CommitGraph(std::move(layers)));
}

CommitGraph::CommitGraph(std::vector<CommitGraphLayer> layers) : layers_(std::move(layers)) {
  has_generation_ = !layers_.empty();
  for (const auto& layer : layers_) {
    total_ += layer.count();
    has_generation_ = has_generation_ && layer.has_generation();
  }
}

const CommitGraphLayer* CommitGraph::LayerOf(std::uint32_t position) const {
  for (const auto& layer : layers_) {
    if (position >= layer.first_position() && position - layer.first_position() < layer.count()) {
      return &layer;
    }
  }
  return nullptr;
}

std::optional<std::uint32_t> CommitGraph::Find(const git_oid& oid) const {
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
    if (auto index = it->Find(oid)) return it->first_position() + *index;
  }
  return std::nullopt;
}

git_oid CommitGraph::OidAt(std::uint32_t position) const {
  const CommitGraphLayer* layer = LayerOf(position);
  return layer ? layer->OidAt(position - layer->first_position()) : git_oid{};
}

bool CommitGraph::Read(std::uint32_t position, GraphCommit& out) const {
  const CommitGraphLayer* layer = LayerOf(position);
  if (layer == nullptr || !layer->Read(position - layer->first_position(), total_, out)) {
    return false;
  }
  if (!has_generation_) out.generation = 0;
  return true;
}

}  // namespace bg
