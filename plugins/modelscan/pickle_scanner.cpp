#include "plugins/modelscan/pickle_scanner.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <unordered_map>

#include "plugins/modelscan/zip_archive.h"

namespace bg::modelscan {
namespace {

// Python's pickle opcodes (Lib/pickle.py), protocols 0 to 5.
enum Op : unsigned char {
  kMark = '(', kStop = '.', kPop = '0', kPopMark = '1', kDup = '2', kFloat = 'F', kInt = 'I',
  kBinInt = 'J', kBinInt1 = 'K', kLong = 'L', kBinInt2 = 'M', kNone = 'N', kPersId = 'P',
  kBinPersId = 'Q', kReduce = 'R', kString = 'S', kBinString = 'T', kShortBinString = 'U',
  kUnicode = 'V', kBinUnicode = 'X', kAppend = 'a', kBuild = 'b', kGlobal = 'c', kDict = 'd',
  kEmptyDict = '}', kAppends = 'e', kGet = 'g', kBinGet = 'h', kInst = 'i', kLongBinGet = 'j',
  kList = 'l', kEmptyList = ']', kObj = 'o', kPut = 'p', kBinPut = 'q', kLongBinPut = 'r',
  kSetItem = 's', kTuple = 't', kEmptyTuple = ')', kSetItems = 'u', kBinFloat = 'G',
  kProto = 0x80, kNewObj = 0x81, kExt1 = 0x82, kExt2 = 0x83, kExt4 = 0x84, kTuple1 = 0x85,
  kTuple2 = 0x86, kTuple3 = 0x87, kNewTrue = 0x88, kNewFalse = 0x89, kLong1 = 0x8a,
  kLong4 = 0x8b, kBinBytes = 'B', kShortBinBytes = 'C', kShortBinUnicode = 0x8c,
  kBinUnicode8 = 0x8d, kBinBytes8 = 0x8e, kEmptySet = 0x8f, kAddItems = 0x90,
  kFrozenSet = 0x91, kNewObjEx = 0x92, kStackGlobal = 0x93, kMemoize = 0x94, kFrame = 0x95,
  kByteArray8 = 0x96, kNextBuffer = 0x97, kReadonlyBuffer = 0x98,
};

constexpr std::size_t kMaxPickleBytes = 64u << 20;
constexpr std::size_t kMaxOpcodes = 8u << 20;
constexpr std::size_t kKeptText = 256;     // a module or class name is never longer
constexpr std::size_t kKeptItems = 6;      // torch's persistent id is a 5- or 6-tuple
constexpr std::size_t kMaxProblems = 20;

enum class Kind : unsigned char {
  kNone, kBool, kInt, kFloat, kString, kBytes, kTuple, kList, kDict, kSet, kFrozenSet,
  kGlobal, kObject, kStorage,
};

const char* KindName(Kind k) {
  static constexpr std::array<const char*, 14> kNames = {
      "None", "a bool", "an int", "a float", "a string", "bytes", "a tuple", "a list", "a dict",
      "a set", "a frozenset", "a global", "an object", "a storage"};
  return kNames[static_cast<std::size_t>(k)];
}

// One value on the stack or in the memo. Strings keep up to kKeptText bytes in the pool
// (`exact` when that is all of it); tuples keep their first kKeptItems items; globals and the
// objects made by calling them keep the index of the global.
struct Value {
  Kind kind = Kind::kNone;
  bool exact = false;
  std::uint32_t ref = 0;  // pool offset, tuple record, or global index
  std::uint32_t len = 0;  // string bytes kept, or tuple size
  std::int64_t number = 0;
  bool number_known = false;
};

using ValueId = std::uint32_t;

class Walker {
 public:
  Walker(std::string_view b, const PickleAllowlist& allow, bool trailing)
      : b_(b), allow_(allow), trailing_(trailing) {}

  PickleScan Run() {
    if (b_.size() > kMaxPickleBytes) {
      Problem("the pickle", "is " + std::to_string(b_.size()) + " bytes, more than the " +
                                std::to_string(kMaxPickleBytes) + " this scan reads");
      return std::move(out_);
    }
    while (!stopped_ && !broken_) {
      if (pos_ >= b_.size()) {
        Malformed(pos_, "end of data", "the pickle ends without STOP (truncated)");
        break;
      }
      if (++out_.opcodes > kMaxOpcodes) {
        Malformed(pos_, "the pickle", "has more than " + std::to_string(kMaxOpcodes) + " opcodes");
        break;
      }
      start_ = pos_;
      Step(static_cast<unsigned char>(b_[pos_++]));
    }
    out_.length = pos_;
    if (stopped_ && !trailing_ && pos_ != b_.size()) {
      Problem("STOP at byte " + std::to_string(start_),
              std::to_string(b_.size() - pos_) + " bytes follow the end of the pickle");
    }
    return std::move(out_);
  }

 private:
  // ---------------------------------------------------------------- problems and reading
  void Problem(const std::string& where, const std::string& what) {
    if (out_.problems.size() < kMaxProblems) out_.problems.push_back(where + ": " + what);
  }
  void Malformed(std::size_t at, const std::string& op, const std::string& what) {
    Problem(op + " at byte " + std::to_string(at), what);
    broken_ = true;
  }
  void Bad(const std::string& what) { Malformed(start_, op_name_, what); }

  bool Need(std::size_t n) {
    if (b_.size() - pos_ >= n) return true;
    Bad("its argument runs past the end of the data (truncated)");
    return false;
  }
  std::uint64_t Le(std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t(static_cast<unsigned char>(b_[pos_ + i])) << (8 * i);
    pos_ += n;
    return v;
  }
  std::optional<std::string_view> Line() {
    const std::size_t nl = b_.find('\n', pos_);
    if (nl == std::string_view::npos) {
      Bad("its text argument has no end of line (truncated)");
      return std::nullopt;
    }
    const std::string_view line = b_.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    return line;
  }
  std::optional<std::string_view> Counted(std::size_t width) {
    if (!Need(width)) return std::nullopt;
    const std::uint64_t n = Le(width);
    if (width == 4 && (op_ == kBinString || op_ == kLong4) && (n & 0x80000000u)) {
      Bad("a negative length");
      return std::nullopt;
    }
    if (n > b_.size() - pos_) {
      Bad("its " + std::to_string(n) + "-byte argument runs past the end of the data");
      return std::nullopt;
    }
    const std::string_view data = b_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return data;
  }
  static std::optional<std::uint64_t> Decimal(std::string_view s) {
    if (s.empty() || s.size() > 18) return std::nullopt;
    std::uint64_t n = 0;
    for (const char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return n;
  }

  // ---------------------------------------------------------------------------- values
  ValueId Make(Kind kind) {
    values_.push_back(Value{kind});
    return static_cast<ValueId>(values_.size() - 1);
  }
  // Values without identity or content (None, a float, a list: what they hold is not
  // tracked) share one entry per kind, so that memory grows with strings, numbers, tuples and
  // calls only.
  ValueId Plain(Kind kind) {
    ValueId& id = plain_[static_cast<std::size_t>(kind)];
    if (id == 0) id = Make(kind);
    return id;
  }
  ValueId MakeString(std::string_view text, bool exact, Kind kind = Kind::kString) {
    const ValueId id = Make(kind);
    Value& v = values_[id];
    v.exact = exact && text.size() <= kKeptText;
    v.ref = static_cast<std::uint32_t>(pool_.size());
    v.len = static_cast<std::uint32_t>(std::min(text.size(), kKeptText));
    pool_.append(text.substr(0, v.len));
    return id;
  }
  ValueId MakeInt(std::int64_t n, bool known = true) {
    const ValueId id = Make(Kind::kInt);
    values_[id].number = n;
    values_[id].number_known = known;
    return id;
  }
  ValueId MakeTuple(const std::vector<ValueId>& items, std::size_t from = 0) {
    const ValueId id = Make(Kind::kTuple);
    std::array<ValueId, kKeptItems> kept{};
    for (std::size_t i = 0; i < kKeptItems && from + i < items.size(); ++i) kept[i] = items[from + i];
    values_[id].ref = static_cast<std::uint32_t>(tuples_.size());
    values_[id].len = static_cast<std::uint32_t>(items.size() - from);
    tuples_.push_back(kept);
    return id;
  }
  std::string_view Text(const Value& v) const { return std::string_view(pool_).substr(v.ref, v.len); }
  const Value& At(ValueId id) const { return values_[id]; }

  void Push(ValueId id) { stack_.push_back(id); }
  std::optional<ValueId> Pop() {
    if (stack_.empty()) {
      Bad(metastack_.empty() ? "pops an empty stack" : "pops across a MARK");
      return std::nullopt;
    }
    const ValueId id = stack_.back();
    stack_.pop_back();
    return id;
  }
  std::optional<ValueId> Top() {
    if (stack_.empty()) {
      Bad("needs a value on the stack");
      return std::nullopt;
    }
    return stack_.back();
  }
  std::optional<std::vector<ValueId>> PopMark() {
    if (metastack_.empty()) {
      Bad("has no MARK to pop to");
      return std::nullopt;
    }
    std::vector<ValueId> items = std::move(stack_);
    stack_ = std::move(metastack_.back());
    metastack_.pop_back();
    return items;
  }

  // ---------------------------------------------------------------------------- globals
  ValueId Global(std::string_view module, std::string_view name) {
    std::string key = std::to_string(module.size()) + ":";  // unambiguous, whatever the bytes
    key.append(module).append(name);
    const auto [it, fresh] =
        global_index_.emplace(std::move(key), static_cast<std::uint32_t>(out_.globals.size()));
    const std::uint32_t index = it->second;
    if (fresh) {
      out_.globals.push_back({std::string(module), std::string(name), allow_.Allowed(module, name)});
    }
    const PickleGlobal& g = out_.globals[index];
    if (!g.allowed) {
      out_.disallowed_global = true;
      Problem(op_name_ + " at byte " + std::to_string(start_),
              "global " + GlobalName(g) + " is not allowed in a model archive");
    }
    const ValueId id = Make(Kind::kGlobal);
    values_[id].ref = index;
    return id;
  }
  ValueId Called(ValueId callee) {
    const ValueId id = Make(Kind::kObject);
    values_[id].ref = At(callee).ref;
    return id;
  }
  // A call of `callee` (REDUCE, NEWOBJ...): only a global may be called.
  std::optional<ValueId> Call(ValueId callee) {
    if (At(callee).kind != Kind::kGlobal) {
      Bad(std::string("calls ") + KindName(At(callee).kind) +
          ", not a global: the callable was computed (an attribute chain or a call's result)");
      return std::nullopt;
    }
    return Called(callee);
  }
  bool Target(ValueId target, std::initializer_list<Kind> kinds, const char* what) {
    const Kind k = At(target).kind;
    for (const Kind ok : kinds) {
      if (k == ok) return true;
    }
    Bad(std::string(what) + " " + KindName(k));
    return false;
  }

  // ------------------------------------------------------------------------ the opcodes
  void Step(unsigned char op) {
    op_ = op;
    op_name_ = OpName(op);
    switch (op) {
      case kProto: {
        if (!Need(1)) return;
        out_.protocol = static_cast<int>(Le(1));
        if (out_.protocol > 5) Bad("protocol " + std::to_string(out_.protocol) + " (at most 5)");
        return;
      }
      case kFrame:
        if (Need(8) && Le(8) > b_.size() - pos_) Bad("a frame longer than the data");
        return;
      case kStop: {
        if (!metastack_.empty() || stack_.size() != 1) {
          Bad("ends with " + std::to_string(stack_.size()) + " values and " +
              std::to_string(metastack_.size()) + " open MARKs (one value expected)");
          return;
        }
        stopped_ = true;
        return;
      }
      case kMark:
        metastack_.push_back(std::move(stack_));
        stack_.clear();
        return;
      case kPop:
        if (!stack_.empty()) {
          stack_.pop_back();
        } else {
          PopMark();
        }
        return;
      case kPopMark:
        PopMark();
        return;
      case kDup:
        if (auto top = Top()) Push(*top);
        return;
      case kNone: Push(Plain(Kind::kNone)); return;
      case kNewTrue:
      case kNewFalse: Push(Plain(Kind::kBool)); return;
      case kInt: return TextNumber(true);
      case kLong: return TextNumber(false);
      case kFloat:
        if (Line()) Push(Plain(Kind::kFloat));
        return;
      case kBinFloat:
        if (!Need(8)) return;
        pos_ += 8;
        Push(Plain(Kind::kFloat));
        return;
      case kBinInt:
        if (Need(4)) Push(MakeInt(static_cast<std::int32_t>(Le(4))));
        return;
      case kBinInt1:
        if (Need(1)) Push(MakeInt(static_cast<std::int64_t>(Le(1))));
        return;
      case kBinInt2:
        if (Need(2)) Push(MakeInt(static_cast<std::int64_t>(Le(2))));
        return;
      case kLong1:
      case kLong4: return BinaryLong(op == kLong1 ? 1 : 4);
      case kString: return QuotedString();
      case kBinString:
      case kShortBinString: {
        if (auto s = Counted(op == kBinString ? 4 : 1)) Push(MakeString(*s, IsAscii(*s)));
        return;
      }
      case kUnicode:
        // raw-unicode-escape: "\u0073" is "s"; text with a backslash is not known exactly.
        if (auto s = Line()) Push(MakeString(*s, s->find('\\') == std::string_view::npos));
        return;
      case kBinUnicode:
      case kShortBinUnicode:
      case kBinUnicode8: {
        if (auto s = Counted(op == kShortBinUnicode ? 1 : op == kBinUnicode ? 4 : 8)) {
          Push(MakeString(*s, true));
        }
        return;
      }
      case kBinBytes:
      case kShortBinBytes:
      case kBinBytes8:
      case kByteArray8: {
        if (Counted(op == kShortBinBytes ? 1 : op == kBinBytes ? 4 : 8)) Push(Plain(Kind::kBytes));
        return;
      }
      case kNextBuffer:
      case kReadonlyBuffer:
        return Bad("out-of-band buffers are not part of a model archive");
      case kEmptyTuple: Push(MakeTuple({})); return;
      case kTuple:
        if (auto items = PopMark()) Push(MakeTuple(*items));
        return;
      case kTuple1:
      case kTuple2:
      case kTuple3: return SmallTuple(op - kTuple1 + 1);
      case kEmptyList: Push(Plain(Kind::kList)); return;
      case kList:
        if (PopMark()) Push(Plain(Kind::kList));
        return;
      case kEmptyDict: Push(Plain(Kind::kDict)); return;
      case kDict:
        if (auto items = PopMark()) {
          if (items->size() % 2) return Bad("an odd number of items for a dict");
          Push(Plain(Kind::kDict));
        }
        return;
      case kEmptySet: Push(Plain(Kind::kSet)); return;
      case kFrozenSet:
        if (PopMark()) Push(Plain(Kind::kFrozenSet));
        return;
      case kAppend: {
        const auto value = Pop();
        const auto target = value ? Top() : std::nullopt;
        if (target) Target(*target, {Kind::kList, Kind::kObject}, "appends to");
        return;
      }
      case kAppends: {
        const auto items = PopMark();
        const auto target = items ? Top() : std::nullopt;
        if (target) Target(*target, {Kind::kList, Kind::kObject}, "appends to");
        return;
      }
      case kSetItem: {
        const auto value = Pop();
        const auto key = value ? Pop() : std::nullopt;
        const auto target = key ? Top() : std::nullopt;
        if (target) Target(*target, {Kind::kDict, Kind::kObject}, "sets an item of");
        return;
      }
      case kSetItems: {
        const auto items = PopMark();
        if (items && items->size() % 2) return Bad("an odd number of items for SETITEMS");
        const auto target = items ? Top() : std::nullopt;
        if (target) Target(*target, {Kind::kDict, Kind::kObject}, "sets items of");
        return;
      }
      case kAddItems: {
        const auto items = PopMark();
        const auto target = items ? Top() : std::nullopt;
        if (target) Target(*target, {Kind::kSet, Kind::kObject}, "adds items to");
        return;
      }
      case kGet: {
        if (auto line = Line()) MemoGet(Decimal(*line));
        return;
      }
      case kBinGet:
        if (Need(1)) MemoGet(Le(1));
        return;
      case kLongBinGet:
        if (Need(4)) MemoGet(Le(4));
        return;
      case kPut: {
        if (auto line = Line()) MemoPut(Decimal(*line));
        return;
      }
      case kBinPut:
        if (Need(1)) MemoPut(Le(1));
        return;
      case kLongBinPut:
        if (Need(4)) MemoPut(Le(4));
        return;
      case kMemoize: MemoPut(memo_.size()); return;
      case kGlobal: {
        const auto module = Line();
        const auto name = module ? Line() : std::nullopt;
        if (name) Push(Global(*module, *name));
        return;
      }
      case kStackGlobal: return StackGlobal();
      case kInst: {
        const auto module = Line();
        const auto name = module ? Line() : std::nullopt;
        if (!name) return;
        const ValueId cls = Global(*module, *name);
        if (PopMark()) Push(Called(cls));
        return;
      }
      case kObj: {
        auto items = PopMark();
        if (!items) return;
        if (items->empty()) return Bad("has no class to call");
        if (auto obj = Call(items->front())) Push(*obj);
        return;
      }
      case kReduce:
      case kNewObj: {
        const auto args = Pop();
        const auto callee = args ? Pop() : std::nullopt;
        if (!callee) return;
        if (auto obj = Call(*callee)) Push(*obj);
        return;
      }
      case kNewObjEx: {
        const auto kwargs = Pop();
        const auto args = kwargs ? Pop() : std::nullopt;
        const auto callee = args ? Pop() : std::nullopt;
        if (!callee) return;
        if (auto obj = Call(*callee)) Push(*obj);
        return;
      }
      case kBuild: {
        const auto state = Pop();
        const auto target = state ? Top() : std::nullopt;
        if (target) Target(*target, {Kind::kObject}, "sets the state of");
        return;
      }
      case kBinPersId: return BinPersId();
      case kPersId:
        return Bad("a text persistent id (torch writes BINPERSID ids only)");
      case kExt1:
      case kExt2:
      case kExt4:
        return Bad("an extension-registry code: the callable it stands for cannot be checked");
      default:
        return Bad("not a pickle opcode");
    }
  }

  static bool IsAscii(std::string_view s) {
    for (const char c : s) {
      if (static_cast<unsigned char>(c) >= 0x80) return false;
    }
    return true;
  }

  void TextNumber(bool is_int) {
    auto line = Line();
    if (!line) return;
    std::string_view s = *line;
    if (is_int && (s == "00" || s == "01")) return Push(Plain(Kind::kBool));
    if (!is_int && !s.empty() && s.back() == 'L') s.remove_suffix(1);
    const bool negative = !s.empty() && s.front() == '-';
    const auto n = Decimal(negative ? s.substr(1) : s);
    Push(MakeInt(n ? (negative ? -static_cast<std::int64_t>(*n) : static_cast<std::int64_t>(*n)) : 0,
                 n.has_value()));
  }

  void BinaryLong(std::size_t width) {
    auto data = Counted(width);
    if (!data) return;
    std::int64_t n = 0;
    const bool known = data->size() <= 7;
    if (known) {
      for (std::size_t i = 0; i < data->size(); ++i) {
        n |= std::int64_t(static_cast<unsigned char>((*data)[i])) << (8 * i);
      }
      if (!data->empty() && ((*data)[data->size() - 1] & 0x80)) n -= std::int64_t(1) << (8 * data->size());
    }
    Push(MakeInt(n, known));
  }

  void QuotedString() {
    auto line = Line();
    if (!line) return;
    const std::string_view s = *line;
    if (s.size() < 2 || s.front() != s.back() || (s.front() != '\'' && s.front() != '"')) {
      return Bad("the STRING argument is not quoted");
    }
    const std::string_view inner = s.substr(1, s.size() - 2);
    Push(MakeString(inner, inner.find('\\') == std::string_view::npos && IsAscii(inner)));
  }

  void SmallTuple(std::size_t n) {
    if (stack_.size() < n) return Bad("needs " + std::to_string(n) + " values on the stack");
    std::vector<ValueId> items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
    stack_.resize(stack_.size() - n);
    Push(MakeTuple(items));
  }

  void MemoGet(std::optional<std::uint64_t> index) {
    if (!index) return Bad("a memo index that is not a decimal number");
    const auto it = memo_.find(*index);
    if (it == memo_.end()) return Bad("reads memo entry " + std::to_string(*index) + ", never stored");
    Push(it->second);
  }
  void MemoPut(std::optional<std::uint64_t> index) {
    if (!index) return Bad("a memo index that is not a decimal number");
    if (auto top = Top()) memo_[*index] = *top;
  }

  void StackGlobal() {
    const auto name = Pop();
    const auto module = name ? Pop() : std::nullopt;
    if (!module) return;
    const Value& m = At(*module);
    const Value& n = At(*name);
    if (m.kind != Kind::kString || n.kind != Kind::kString || !m.exact || !n.exact) {
      return Bad(std::string("takes its names from ") + KindName(m.kind) + " and " + KindName(n.kind) +
                 (m.kind == Kind::kString && n.kind == Kind::kString ? " whose text is not known"
                                                                     : "") +
                 ", not two plain strings");
    }
    Push(Global(Text(m), Text(n)));
  }

  void BinPersId() {
    const auto pid = Pop();
    if (!pid) return;
    const Value& t = At(*pid);
    const auto items = t.kind == Kind::kTuple ? tuples_[t.ref] : std::array<ValueId, kKeptItems>{};
    const auto is = [&](std::size_t i, Kind k) { return At(items[i]).kind == k; };
    // torch.save's legacy format adds a sixth item, the view metadata (None or a tuple).
    const bool legacy = t.len == 6 && (is(5, Kind::kNone) || is(5, Kind::kTuple));
    const bool shape = t.kind == Kind::kTuple && (t.len == 5 || legacy) && is(0, Kind::kString) &&
                       Text(At(items[0])) == "storage" && is(1, Kind::kGlobal) &&
                       is(2, Kind::kString) && At(items[2]).exact && is(3, Kind::kString) &&
                       is(4, Kind::kInt) && At(items[4]).number_known && At(items[4]).number >= 0;
    if (!shape) {
      return Bad("a persistent id that is not ('storage', torch.<type>Storage, key, device, "
                 "numel)");
    }
    const PickleGlobal& type = out_.globals[At(items[1]).ref];
    const std::size_t item_size = PickleAllowlist::StorageItemSize(type.module, type.name);
    if (item_size == 0) return Bad("a storage of type " + GlobalName(type));
    out_.storages.push_back({std::string(Text(At(items[2]))), item_size,
                             static_cast<std::uint64_t>(At(items[4]).number), type.name});
    Push(Plain(Kind::kStorage));
  }

  static std::string OpName(unsigned char op) {
    static constexpr std::pair<unsigned char, const char*> kNames[] = {
        {kMark, "MARK"}, {kStop, "STOP"}, {kPop, "POP"}, {kPopMark, "POP_MARK"}, {kDup, "DUP"},
        {kFloat, "FLOAT"}, {kInt, "INT"}, {kBinInt, "BININT"}, {kBinInt1, "BININT1"},
        {kLong, "LONG"}, {kBinInt2, "BININT2"}, {kNone, "NONE"}, {kPersId, "PERSID"},
        {kBinPersId, "BINPERSID"}, {kReduce, "REDUCE"}, {kString, "STRING"},
        {kBinString, "BINSTRING"}, {kShortBinString, "SHORT_BINSTRING"}, {kUnicode, "UNICODE"},
        {kBinUnicode, "BINUNICODE"}, {kAppend, "APPEND"}, {kBuild, "BUILD"}, {kGlobal, "GLOBAL"},
        {kDict, "DICT"}, {kEmptyDict, "EMPTY_DICT"}, {kAppends, "APPENDS"}, {kGet, "GET"},
        {kBinGet, "BINGET"}, {kInst, "INST"}, {kLongBinGet, "LONG_BINGET"}, {kList, "LIST"},
        {kEmptyList, "EMPTY_LIST"}, {kObj, "OBJ"}, {kPut, "PUT"}, {kBinPut, "BINPUT"},
        {kLongBinPut, "LONG_BINPUT"}, {kSetItem, "SETITEM"}, {kTuple, "TUPLE"},
        {kEmptyTuple, "EMPTY_TUPLE"}, {kSetItems, "SETITEMS"}, {kBinFloat, "BINFLOAT"},
        {kProto, "PROTO"}, {kNewObj, "NEWOBJ"}, {kExt1, "EXT1"}, {kExt2, "EXT2"},
        {kExt4, "EXT4"}, {kTuple1, "TUPLE1"}, {kTuple2, "TUPLE2"}, {kTuple3, "TUPLE3"},
        {kNewTrue, "NEWTRUE"}, {kNewFalse, "NEWFALSE"}, {kLong1, "LONG1"}, {kLong4, "LONG4"},
        {kBinBytes, "BINBYTES"}, {kShortBinBytes, "SHORT_BINBYTES"},
        {kShortBinUnicode, "SHORT_BINUNICODE"}, {kBinUnicode8, "BINUNICODE8"},
        {kBinBytes8, "BINBYTES8"}, {kEmptySet, "EMPTY_SET"}, {kAddItems, "ADDITEMS"},
        {kFrozenSet, "FROZENSET"}, {kNewObjEx, "NEWOBJ_EX"}, {kStackGlobal, "STACK_GLOBAL"},
        {kMemoize, "MEMOIZE"}, {kFrame, "FRAME"}, {kByteArray8, "BYTEARRAY8"},
        {kNextBuffer, "NEXT_BUFFER"}, {kReadonlyBuffer, "READONLY_BUFFER"},
    };
    for (const auto& [code, name] : kNames) {
      if (code == op) return name;
    }
    static const char* kHex = "0123456789abcdef";
    return std::string("byte 0x") + kHex[op >> 4] + kHex[op & 15];
  }

  std::string_view b_;
  const PickleAllowlist& allow_;
  bool trailing_;
  std::size_t pos_ = 0, start_ = 0;
  unsigned char op_ = 0;
  std::string op_name_;
  bool stopped_ = false, broken_ = false;
  std::vector<Value> values_{Value{}};  // entry 0 is never handed out: Plain()'s "unset"
  std::array<ValueId, 14> plain_{};
  std::string pool_;
  std::vector<std::array<ValueId, kKeptItems>> tuples_;
  std::vector<ValueId> stack_;
  std::vector<std::vector<ValueId>> metastack_;
  std::unordered_map<std::uint64_t, ValueId> memo_;
  std::unordered_map<std::string, std::uint32_t> global_index_;
  PickleScan out_;
};

}  // namespace

std::string GlobalName(const PickleGlobal& global) {
  return Printable(global.module) + "." + Printable(global.name);
}

PickleScan ScanPickle(std::string_view bytes, const PickleAllowlist& allowlist,
                      bool allow_trailing) {
  return Walker(bytes, allowlist, allow_trailing).Run();
}

}  // namespace bg::modelscan
