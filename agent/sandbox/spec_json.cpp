#include "agent/sandbox/spec_json.h"

#include <cstdint>
#include <functional>
#include <map>

namespace bg::sandbox {
namespace {

using Json = nlohmann::ordered_json;

Json Names(LayerSet set) {
  Json a = Json::array();
  for (const auto& n : set.Names()) a.push_back(n);
  return a;
}

bool ReadLayers(const Json& v, LayerSet* out, std::string* error) {
  if (!v.is_array()) return (*error = "must be an array of layer names", false);
  LayerSet set;
  for (const auto& n : v) {
    Layer l;
    if (!n.is_string() || !ParseLayerName(n.get<std::string>(), &l)) {
      return (*error = "unknown layer " + n.dump(), false);
    }
    set.Add(l);
  }
  *out = set;
  return true;
}

bool ReadString(const Json& v, std::string* out, bool absolute, std::string* error) {
  if (!v.is_string()) return (*error = "must be a string", false);
  *out = v.get<std::string>();
  if (absolute && !out->empty() && (*out)[0] != '/') return (*error = "must be absolute", false);
  return true;
}

bool ReadPaths(const Json& v, std::vector<std::string>* out, std::string* error) {
  if (!v.is_array()) return (*error = "must be an array of absolute paths", false);
  out->clear();
  for (const auto& p : v) {
    std::string s;
    if (!ReadString(p, &s, true, error) || s.empty()) {
      if (error->empty()) *error = "must not be empty";
      return false;
    }
    out->push_back(std::move(s));
  }
  return true;
}

bool ReadUnsigned(const Json& v, std::uint64_t* out, std::string* error) {
  if (!v.is_number_unsigned()) return (*error = "must be a non-negative integer", false);
  *out = v.get<std::uint64_t>();
  return true;
}

bool ReadId(const Json& v, long* out, std::string* error) {
  if (!v.is_number_integer() || v.get<std::int64_t>() < -1 || v.get<std::int64_t>() > 0xfffffffe) {
    return (*error = "must be -1 or a uid/gid", false);
  }
  *out = static_cast<long>(v.get<std::int64_t>());
  return true;
}

using Reader = std::function<bool(const Json&, Spec*, std::string*)>;

const std::map<std::string, Reader>& Readers() {
  static const std::map<std::string, Reader> readers = {
      {"layers", [](const Json& v, Spec* s, std::string* e) { return ReadLayers(v, &s->layers, e); }},
      {"required", [](const Json& v, Spec* s, std::string* e) { return ReadLayers(v, &s->required, e); }},
      {"exec_paths", [](const Json& v, Spec* s, std::string* e) { return ReadPaths(v, &s->exec_paths, e); }},
      {"data_paths", [](const Json& v, Spec* s, std::string* e) { return ReadPaths(v, &s->data_paths, e); }},
      {"devices", [](const Json& v, Spec* s, std::string* e) { return ReadPaths(v, &s->devices, e); }},
      {"hidden_paths", [](const Json& v, Spec* s, std::string* e) { return ReadPaths(v, &s->hidden_paths, e); }},
      {"masked_paths", [](const Json& v, Spec* s, std::string* e) { return ReadPaths(v, &s->masked_paths, e); }},
      {"tmp_bytes", [](const Json& v, Spec* s, std::string* e) { return ReadUnsigned(v, &s->tmp_bytes, e); }},
      {"proc_writable", [](const Json& v, Spec* s, std::string* e) {
         if (!v.is_boolean()) return (*e = "must be a boolean", false);
         s->proc_writable = v.get<bool>();
         return true;
       }},
      {"run_dir_parent", [](const Json& v, Spec* s, std::string* e) { return ReadString(v, &s->run_dir_parent, true, e); }},
      {"uid", [](const Json& v, Spec* s, std::string* e) { return ReadId(v, &s->uid, e); }},
      {"gid", [](const Json& v, Spec* s, std::string* e) { return ReadId(v, &s->gid, e); }},
      {"address_space_bytes", [](const Json& v, Spec* s, std::string* e) { return ReadUnsigned(v, &s->address_space_bytes, e); }},
      {"cpu_seconds", [](const Json& v, Spec* s, std::string* e) { return ReadUnsigned(v, &s->cpu_seconds, e); }},
      {"open_files", [](const Json& v, Spec* s, std::string* e) { return ReadUnsigned(v, &s->open_files, e); }},
      {"processes", [](const Json& v, Spec* s, std::string* e) { return ReadUnsigned(v, &s->processes, e); }},
      {"cgroup_parent", [](const Json& v, Spec* s, std::string* e) { return ReadString(v, &s->cgroup_parent, true, e); }},
      {"cgroup_unavailable", [](const Json& v, Spec* s, std::string* e) { return ReadString(v, &s->cgroup_unavailable, false, e); }},
      {"memory_bytes", [](const Json& v, Spec* s, std::string* e) { return ReadUnsigned(v, &s->memory_bytes, e); }},
  };
  return readers;
}

}  // namespace

Json SpecToJson(const Spec& s) {
  return Json{{"layers", Names(s.layers)},
              {"required", Names(s.required)},
              {"exec_paths", s.exec_paths},
              {"data_paths", s.data_paths},
              {"devices", s.devices},
              {"hidden_paths", s.hidden_paths},
              {"masked_paths", s.masked_paths},
              {"tmp_bytes", s.tmp_bytes},
              {"proc_writable", s.proc_writable},
              {"run_dir_parent", s.run_dir_parent},
              {"uid", s.uid},
              {"gid", s.gid},
              {"address_space_bytes", s.address_space_bytes},
              {"cpu_seconds", s.cpu_seconds},
              {"open_files", s.open_files},
              {"processes", s.processes},
              {"cgroup_parent", s.cgroup_parent},
              {"cgroup_unavailable", s.cgroup_unavailable},
              {"memory_bytes", s.memory_bytes}};
}

bool SpecFromJson(const Json& j, Spec* spec, std::string* error) {
  if (!j.is_object()) {
    *error = "the sandbox spec must be an object";
    return false;
  }
  Spec s;
  for (const auto& [key, value] : j.items()) {
    const auto it = Readers().find(key);
    if (it == Readers().end()) {
      *error = "the sandbox spec has an unknown key \"" + key + "\"";
      return false;
    }
    std::string why;
    if (!it->second(value, &s, &why)) {
      *error = "sandbox spec \"" + key + "\" " + why;
      return false;
    }
  }
  *spec = std::move(s);
  return true;
}

Json LayersToJson(const std::vector<LayerOutcome>& layers) {
  Json j = Json::object();
  for (const auto& l : layers) {
    Json layer = {{"applied", l.state == LayerState::kApplied}};
    if (l.state == LayerState::kOff) layer["off"] = true;
    if (!l.why.empty()) layer["why"] = l.why;
    for (const auto& [key, value] : l.facts) layer[key] = value;
    j[l.name] = std::move(layer);
  }
  return j;
}

std::vector<LayerOutcome> LayersFromJson(const Json& j) {
  std::vector<LayerOutcome> out;
  if (!j.is_object()) return out;
  for (const auto& [name, layer_json] : j.items()) {
    const Json& value = layer_json;  // a structured binding cannot be captured (C++17 rules)
    LayerOutcome l;
    if (!ParseLayerName(name, &l.layer) || !value.is_object()) continue;
    l.name = name;
    auto flag = [&value](const char* key) {
      const auto it = value.find(key);
      return it != value.end() && it->is_boolean() && it->get<bool>();
    };
    l.state = flag("applied") ? LayerState::kApplied
              : flag("off")   ? LayerState::kOff
                              : LayerState::kNotApplied;
    for (const auto& [key, fact] : value.items()) {
      if (key == "applied" || key == "off" || !fact.is_string()) continue;
      if (key == "why") {
        l.why = fact.get<std::string>();
      } else {
        l.facts.emplace_back(key, fact.get<std::string>());
      }
    }
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace bg::sandbox
