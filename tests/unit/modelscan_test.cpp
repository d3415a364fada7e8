// The static model scan (plugins/modelscan) on archives and pickles built byte by byte: each
// rule of the ZIP reader, each opcode rule of the pickle walker, the allowlist's exactness, and
// the TorchScript code check. Real archives (python3-torch's) are tested in
// tests/integration/hostile_model_test.cpp and tests/python/test_pickle_scanner.py.
#include <catch2/catch.hpp>
#include <string>

#include "plugins/modelscan/code_scanner.h"
#include "plugins/modelscan/model_scan.h"
#include "plugins/modelscan/pickle_scanner.h"
#include "tests/unit/zip_builder.h"

using namespace bg::modelscan;
using namespace std::string_literals;  // "...\x00..."s keeps its NUL bytes
using bg::test::ZipBuilder;

namespace {

// ------------------------------------------------------------------------- pickle pieces
std::string Uni(const std::string& s) {
  std::string out = "X";
  bg::test::Put(out, s.size(), 4);
  return out + s;
}
std::string Short(const std::string& s) { return "\x8c" + std::string(1, static_cast<char>(s.size())) + s; }
std::string Glob(const std::string& m, const std::string& n) { return "c" + m + "\n" + n + "\n"; }
std::string P2(const std::string& ops) { return "\x80\x02" + ops + "."; }
std::string P4(const std::string& ops) { return "\x80\x04" + ops + "."; }

// A data.pkl like TorchScript's: one __torch__ object whose state holds a tensor on data/0.
std::string TorchScriptPickle(int numel = 2) {
  return P2(Glob("__torch__", "M") + ")\x81}(" + Uni("w") + Glob("torch._utils", "_rebuild_tensor_v2") +
            "((" + Uni("storage") + Glob("torch", "FloatStorage") + Uni("0") + Uni("cpu") + "K" +
            std::string(1, static_cast<char>(numel)) + "tQK\x00(K\x02t(K\x01t\x89"s +
            Glob("collections", "OrderedDict") + ")RtRub");
}

ZipBuilder TorchScriptZip(int numel = 2) {
  ZipBuilder z;
  z.Add("m/data.pkl", TorchScriptPickle(numel))
      .Add("m/code/__torch__.py", "class M(Module):\n  __parameters__ = []\n", true)
      .Add("m/data/0", std::string(static_cast<std::size_t>(numel) * 4, '\x01'))
      .Add("m/constants.pkl", "\x80\x02).")
      .Add("m/version", "3\n");
  return z;
}

ScanReport Scan(const std::string& bytes) { return ScanModel(bytes); }

void RequireUnsafe(const std::string& bytes, const std::string& needle) {
  const ScanReport r = Scan(bytes);
  INFO(r.summary);
  CHECK(r.verdict == ScanVerdict::kUnsafe);
  CHECK_THAT(r.summary, Catch::Contains(needle));
}

PickleScan Walk(const std::string& pickle) { return ScanPickle(pickle, PickleAllowlist::TorchScript()); }

void RequireRefused(const std::string& pickle, const std::string& needle) {
  const PickleScan s = Walk(pickle);
  INFO((s.problems.empty() ? std::string("(no problem)") : s.problems.front()));
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.problems.front(), Catch::Contains(needle));
}

}  // namespace

// ----------------------------------------------------------------------------- the archive

TEST_CASE("a well-formed TorchScript archive is clean, with or without zip64 end records") {
  for (const bool zip64 : {false, true}) {
    ZipBuilder z = TorchScriptZip();
    z.zip64 = zip64;
    const ScanReport r = Scan(z.Build());
    INFO(r.summary);
    CHECK(r.verdict == ScanVerdict::kClean);
    CHECK(r.format == "torchscript");
    CHECK(r.entries == 5);
    CHECK(r.pickles == 2);
    CHECK(r.globals == std::vector<std::string>{"__torch__.M", "torch._utils._rebuild_tensor_v2",
                                                "torch.FloatStorage", "collections.OrderedDict"});
    CHECK(r.ToJson()["verdict"] == "clean");
  }
}

TEST_CASE("bytes outside the archive's records are refused") {
  ZipBuilder before = TorchScriptZip();
  before.prefix = "#!/bin/sh\nrm -rf ~\n";
  RequireUnsafe(before.Build(), "polyglot");
  ZipBuilder after = TorchScriptZip();
  after.trailer = "\x80\x02N.";
  RequireUnsafe(after.Build(), "follow the end of the ZIP archive");
  ZipBuilder comment = TorchScriptZip();
  comment.comment = "hello";
  RequireUnsafe(comment.Build(), "comment");
  ZipBuilder gap = TorchScriptZip();
  gap.items[1].gap_after = "hidden";
  RequireUnsafe(gap.Build(), "unaccounted bytes");
}

TEST_CASE("entry names that escape, hide or collide are refused") {
  const std::pair<const char*, const char*> cases[] = {
      {"m/../../etc/passwd", "component"},  {"/etc/passwd", "absolute"},
      {"m\\..\\x", "backslash"},            {"m/./data/0", "component"},
      {"m//x", "component"},                {"C:/x", "drive"},
      {"m/a\x01", "printable"},             {"m/\xff\xfe", "printable"},
      {"m/\xc0\xae\xc0\xae/x", "printable"},  // overlong "..": not UTF-8
  };
  for (const auto& [name, needle] : cases) {
    INFO(name);
    ZipBuilder z = TorchScriptZip();
    z.Add(name, "x");
    RequireUnsafe(z.Build(), needle);
  }
  ZipBuilder nul = TorchScriptZip();
  nul.Add(std::string("m/data.pkl\0.txt", 15), "x");
  RequireUnsafe(nul.Build(), "NUL");
  ZipBuilder dup = TorchScriptZip();
  dup.Add("m/data.pkl", P2("N"));
  RequireUnsafe(dup.Build(), "a second entry");
  ZipBuilder upper = TorchScriptZip();
  upper.Add("m/Data.PKL", P2("N"));
  RequireUnsafe(upper.Build(), "a second entry");
}

TEST_CASE("headers that disagree, or lie about their data, are refused") {
  ZipBuilder name = TorchScriptZip();
  name.items[0].local_name = "m/datb.pkl";
  RequireUnsafe(name.Build(), "disagree");
  ZipBuilder crc = TorchScriptZip();
  crc.items[3].crc_xor = 1;
  RequireUnsafe(crc.Build(), "CRC-32");
  ZipBuilder small = TorchScriptZip();
  small.items[1].declared_size = 10;
  RequireUnsafe(small.Build(), "more than its declared");
  ZipBuilder large = TorchScriptZip();
  large.items[1].declared_size = 1000;
  RequireUnsafe(large.Build(), "not its declared");
  ZipBuilder stored = TorchScriptZip();
  stored.items[4].declared_size = 1;
  RequireUnsafe(stored.Build(), "sizes differ");
  ZipBuilder method = TorchScriptZip();
  method.items[4].method = 12;  // bzip2
  RequireUnsafe(method.Build(), "compression method 12");
  ZipBuilder encrypted = TorchScriptZip();
  encrypted.items[4].flags = 1;
  RequireUnsafe(encrypted.Build(), "encrypted");
}

TEST_CASE("zip bombs are refused by size and by ratio") {
  ZipBuilder ratio = TorchScriptZip();
  ratio.Add("m/extra/blob", std::string(8u << 20, '\0'), true);
  RequireUnsafe(ratio.Build(), "zip bomb");
  ZipLimits tight;
  tight.max_inflated_entry = 1000;
  ZipBuilder big = TorchScriptZip();
  big.Add("m/extra/blob", std::string(2000, 'a'), true);
  const ScanReport r = ScanModel(big.Build(), tight);
  CHECK(r.verdict == ScanVerdict::kUnsafe);
  CHECK_THAT(r.summary, Catch::Contains("more than the limit of 1000"));
}

TEST_CASE("files that are not, or no longer, ZIP archives are unreadable") {
  CHECK(Scan("").verdict == ScanVerdict::kUnreadable);
  CHECK(Scan("hello world, not a model").verdict == ScanVerdict::kUnreadable);
  const std::string zip = TorchScriptZip().Build();
  const ScanReport cut = Scan(zip.substr(0, zip.size() / 2));
  CHECK(cut.verdict == ScanVerdict::kUnreadable);
  CHECK_THAT(cut.summary, Catch::Contains("truncated"));
  RequireUnsafe("\x18\0\0\0PTMF...."s, "flatbuffer");
}

TEST_CASE("the layout must be TorchScript's, every storage used and exactly sized") {
  ZipBuilder odd = TorchScriptZip();
  odd.Add("m/run.sh", "#!/bin/sh");
  RequireUnsafe(odd.Build(), "not part of a TorchScript archive");
  ZipBuilder other_top = TorchScriptZip();
  other_top.Add("n/data.pkl", P2("N"));
  RequireUnsafe(other_top.Build(), "not part of a TorchScript archive");
  ZipBuilder code = TorchScriptZip();
  code.Add("m/code/__torch__/x-y.py", "");
  RequireUnsafe(code.Build(), "not part of a TorchScript archive");
  ZipBuilder unused = TorchScriptZip();
  unused.Add("m/data/1", "abcd");
  RequireUnsafe(unused.Build(), "no tensor uses");
  ZipBuilder missing = TorchScriptZip();
  missing.items.erase(missing.items.begin() + 2);
  RequireUnsafe(missing.Build(), "which the archive lacks");
  ZipBuilder oversized = TorchScriptZip();
  oversized.items[2].data += "hidden";
  RequireUnsafe(oversized.Build(), "hidden content");
  ZipBuilder undersized = TorchScriptZip();
  undersized.items[2].data.resize(4);
  RequireUnsafe(undersized.Build(), "out-of-bounds");
  ZipBuilder version = TorchScriptZip();
  version.items[4].data = "3; rm -rf /\n";
  RequireUnsafe(version.Build(), "version number");
  ZipBuilder extra = TorchScriptZip();
  extra.Add("m/extra/meta.pkl", P2(Glob("os", "system") + Uni("id") + "\x85R"));
  RequireUnsafe(extra.Build(), "m/extra/meta.pkl: GLOBAL at byte 2: global os.system");
  ZipBuilder text_extra = TorchScriptZip();
  text_extra.Add("m/extra/notes.txt", "anything at all");
  CHECK(Scan(text_extra.Build()).verdict == ScanVerdict::kClean);
}

TEST_CASE("a torch.save checkpoint is scanned, then called what it is") {
  ZipBuilder ckpt;
  ckpt.Add("c/data.pkl", P2(Glob("collections", "OrderedDict") + ")R")).Add("c/version", "3\n");
  const ScanReport ok = Scan(ckpt.Build());
  CHECK(ok.verdict == ScanVerdict::kNotTorchScript);
  CHECK(ok.format == "torch.save");
  ZipBuilder bad;
  bad.Add("c/data.pkl", P2(Glob("os", "system") + Uni("id") + "\x85R")).Add("c/version", "3\n");
  RequireUnsafe(bad.Build(), "os.system");
  // The legacy format: pickles back to back.
  const ScanReport legacy = Scan(P2("K\x01") + P2("K\x02") + "raw storage bytes");
  CHECK(legacy.verdict == ScanVerdict::kNotTorchScript);
  CHECK(legacy.format == "torch.save (legacy)");
  RequireUnsafe(P2("K\x01") + P2(Glob("posix", "system") + Uni("id") + "\x85R"), "posix.system");
}

// ---------------------------------------------------------------------------- the pickles

TEST_CASE("a TorchScript pickle walks clean and names its storages") {
  const PickleScan s = Walk(TorchScriptPickle(3));
  INFO((s.problems.empty() ? "" : s.problems.front()));
  REQUIRE(s.ok());
  CHECK(s.protocol == 2);
  REQUIRE(s.storages.size() == 1);
  CHECK(s.storages[0].key == "0");
  CHECK(s.storages[0].numel == 3);
  CHECK(s.storages[0].item_size == 4);
  CHECK(s.globals.size() == 4);
}

TEST_CASE("every global is checked, called or not, and named in the problem") {
  RequireRefused(P2(Glob("os", "system") + "0N"), "global os.system is not allowed");
  RequireRefused(P2(Glob("subprocess", "Popen") + "0N"), "subprocess.Popen");
  RequireRefused(P2("(" + Uni("id") + "ios\nsystem\n"), "INST at byte 10: global os.system");
  RequireRefused(P2("(" + Glob("builtins", "eval") + Uni("1") + "o"), "builtins.eval");
  RequireRefused(P2(Glob("torch", "load") + "0N"), "torch.load");
  RequireRefused(P2(Glob("functools", "partial") + "0N"), "functools.partial");
  RequireRefused(P2(Glob("operator", "attrgetter") + "0N"), "operator.attrgetter");
  const PickleScan all = Walk(P2(Glob("os", "system") + "0" + Glob("builtins", "exec") + "0N"));
  CHECK(all.problems.size() == 2);
  CHECK(all.disallowed_global);
}

TEST_CASE("allowed names match byte for byte: no near miss is allowed") {
  const std::pair<std::string, std::string> near[] = {
      {"collections ", "OrderedDict"},        {"collections", "OrderedDict "},
      {"Collections", "OrderedDict"},         {"collections\r", "OrderedDict"},
      {"\xd1\x81ollections", "OrderedDict"},  // Cyrillic es
      {"collections", "OrderedDict.fromkeys"}, {"collections", "OrderedDict.__init__"},
      {"torch._utils", "torch.os.system"},    {"__torch__ ", "M"},
      {"__torch__..a", "M"},                  {"__torch__.1a", "M"},
      {"__torch__", "M.__reduce__"},          {"torch", "Storage"},
      {"torch", "Tensor"},                    {"__builtin__", "complex"},
  };
  const PickleAllowlist& allow = PickleAllowlist::TorchScript();
  for (const auto& [m, n] : near) {
    INFO(m << "." << n);
    CHECK_FALSE(allow.Allowed(m, n));
  }
  CHECK(allow.Allowed("__torch__.torch.nn.modules.linear.___torch_mangle_0", "Linear"));
  CHECK(allow.Allowed("__torch__.torch.classes.quantized", "LinearPackedParamsBase"));
  CHECK(allow.Allowed("torch", "QUInt4x2Storage"));
  CHECK(allow.Allowed("torch", "per_channel_affine"));
  CHECK_FALSE(allow.Allowed("torch._utils", "_rebuild_parameter"));
  CHECK(PickleAllowlist::Checkpoint().Allowed("torch._utils", "_rebuild_parameter"));
}

TEST_CASE("STACK_GLOBAL is resolved through the memo, and refused when it cannot be") {
  // picklescan's bypass: the names are memoized long before STACK_GLOBAL uses them.
  RequireRefused(P4(Short("posix") + "\x94" "0" + Short("system") + "\x94" "0" + "h\x00h\x01\x93"s +
                    Short("id") + "\x85R"),
                 "STACK_GLOBAL at byte 25: global posix.system");
  RequireRefused(P4(Short("posix") + "q\x07" "0" + Short("system") + "r\x09\x00\x00\x00"s + "0" +
                    "h\x07j\x09\x00\x00\x00\x93"s + "0N"),
                 "posix.system");
  RequireRefused(P4("K\x01" + Short("system") + "\x93" "0N"), "an int and a string");
  RequireRefused(P4("S'o\\x73'\n" + Short("system") + "\x93" "0N"), "not known");
  RequireRefused(P4("V\\u006fs\n" + Short("system") + "\x93" "0N"), "not known");
  CHECK(Walk(P4(Short("collections") + Short("OrderedDict") + "\x93" ")R")).ok());
}

TEST_CASE("only globals may be called, and only objects may take state") {
  // getattr(__import__('os'), 'system')('id'): the last call is of a call's result.
  const std::string chain = Glob("builtins", "getattr") + Glob("builtins", "__import__") +
                            Uni("os") + "\x85R" + Uni("system") + "\x86R" + Uni("id") + "\x85R";
  const PickleScan s = Walk(P2(chain));
  CHECK(s.disallowed_global);
  CHECK_THAT(s.problems.back(), Catch::Contains("calls an object"));
  RequireRefused(P2(Uni("os.system") + Uni("id") + "\x85R"), "calls a string");
  RequireRefused(P2(Glob("collections", "OrderedDict") + ")R" + ")R"), "calls an object");
  RequireRefused(P2(")" ")" "\x81"), "calls a tuple");
  RequireRefused(P2("}" "}" "b"), "sets the state of a dict");
  RequireRefused(P2(Glob("collections", "OrderedDict") + "}b"), "sets the state of a global");
  RequireRefused(P2(")" "N" "a"), "appends to a tuple");
  RequireRefused(P2(Glob("collections", "OrderedDict") + "(NNu"), "sets items of a global");
  CHECK(Walk(P2(Glob("collections", "OrderedDict") + ")R(NNu")).ok());
}

TEST_CASE("opcodes whose effect cannot be checked are refused") {
  RequireRefused(P2("\x82\x01"), "EXT1");
  RequireRefused(P2("\x83\x01\x00"s), "EXT2");
  RequireRefused(P2("\x84\x01\x00\x00\x00"s), "EXT4");
  RequireRefused(P2("Pstorage\n"), "PERSID");
  RequireRefused(P2(Uni("file") + "Q"), "persistent id");
  RequireRefused(P2("(" + Uni("storage") + Glob("collections", "OrderedDict") + Uni("0") +
                    Uni("cpu") + "K\x01tQ"),
                 "a storage of type collections.OrderedDict");
  RequireRefused("\x80\x05\x97.", "out-of-band");
  RequireRefused("\x80\x05\x98.", "out-of-band");
}

TEST_CASE("malformed pickles are refused, never half-read") {
  RequireRefused("\x80\x02" + Uni("abc"), "without STOP");
  RequireRefused("\x80\x02X\xff\x00\x00\x00" "ab."s, "runs past the end");
  RequireRefused("\x80\x02T\xff\xff\xff\xff" "ab.", "negative length");
  RequireRefused(P2("cos\nsystem"), "no end of line");
  RequireRefused(P2("NN"), "2 values");
  RequireRefused(P2("(N"), "open MARK");
  RequireRefused(P2("h\x05"), "never stored");
  RequireRefused(P2("\xff"), "not a pickle opcode");
  RequireRefused(P2("0"), "no MARK");
  RequireRefused(P2("(\x85"), "needs 1 values");
  RequireRefused("\x80\x06N.", "protocol 6");
  RequireRefused(P2("N") + P2("N"), "follow the end of the pickle");
  RequireRefused(P2("(NNNd"), "odd number");
  CHECK(ScanPickle(P2("N") + "rest", PickleAllowlist::TorchScript(), true).ok());
  CHECK(ScanPickle(P2("N") + "rest", PickleAllowlist::TorchScript(), true).length == 4);
}

TEST_CASE("every protocol's data opcodes walk clean") {
  // Protocol 0 text opcodes, memo by text index, nested containers.
  CHECK(Walk("(lp0\nI1\naF2.5\naS'text'\np1\naVuni\np2\naL12345678901234567890L\nag1\na(dp3\nI00\n"
             "I01\nsa(I1\nI2\ntp4\na.")
            .ok());
  // Protocols 2-5: binary numbers and strings, sets, frozensets, bytes, frames, memoize.
  const std::string ops =
      "\x95\x30\x00\x00\x00\x00\x00\x00\x00"s  // FRAME
      "]\x94("                                  // EMPTY_LIST MEMOIZE MARK
      "K\x01" "M\x00\x01" "J\xff\xff\xff\xff"s   // BININT1 BININT2 BININT
      "\x8a\x02\xff\x7f" "\x8b\x01\x00\x00\x00\x01"s  // LONG1 LONG4
      "G?\xf8\x00\x00\x00\x00\x00\x00"s          // BINFLOAT
      "C\x02hi" "B\x01\x00\x00\x00x" "\x8e\x01\x00\x00\x00\x00\x00\x00\x00y"s  // bytes
      "\x96\x00\x00\x00\x00\x00\x00\x00\x00"s     // BYTEARRAY8
      "\x8f(K\x01\x90" "(K\x02\x91"                // EMPTY_SET ADDITEMS FROZENSET
      "\x88\x89N\x85\x86\x87"                       // NEWTRUE NEWFALSE NONE TUPLE1-3
      "\x8d\x01\x00\x00\x00\x00\x00\x00\x00z"s      // BINUNICODE8
      "U\x01w" "h\x00"s "2" "e" "0";              // SHORT_BINSTRING BINGET DUP APPENDS POP
  const PickleScan s = Walk("\x80\x05" + ops + "N.");
  INFO((s.problems.empty() ? "" : s.problems.front()));
  CHECK(s.ok());
  CHECK(s.protocol == 5);
}

TEST_CASE("a huge number of opcodes is refused, not walked for ever") {
  const std::string many = "\x80\x02" + std::string(9u << 20, 'N');
  const PickleScan s = Walk(many);
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.problems.front(), Catch::Contains("opcodes"));
}

// --------------------------------------------------------------------------- the code

TEST_CASE("TorchScript code that reaches the filesystem is found, strings and comments aside") {
  const auto found = ScanTorchScriptCode(
      "def __setstate__(self, state: Tuple[int, bool]) -> NoneType:\n"
      "  self.k = torch.numel(torch.from_file(\"/tmp/x\", True, 16))\n"
      "  torch.save(self.k, \"/tmp/y\")\n"
      "  _0 = ops.aten.save(self.k, \"/tmp/z\")\n");
  REQUIRE(found.size() == 3);
  CHECK(found[0] == "line 2: from_file (maps, and can create, a file)");
  CHECK(found[1] == "line 3: torch.save (writes a file)");
  CHECK(found[2] == "line 4: aten.save (writes a file)");
  CHECK(ScanTorchScriptCode("# torch.from_file in a comment\n"
                            "x = \"torch.save(a, b)\"\n"
                            "y = '''from_file\n'''\n"
                            "self.save(x)\n"
                            "self.saved = 1\n")
            .empty());
}

// ------------------------------------------------- inputs the fuzzers found slow or misread

TEST_CASE("fuzz: an empty ZIP (only an end record) is not a model, read at once") {
  const std::string end = "PK\x05\x06"s + std::string(18, '\0');
  const ScanReport r = Scan(end);
  CHECK(r.verdict == ScanVerdict::kUnreadable);
  CHECK_THAT(r.summary, Catch::Contains("empty ZIP archive"));
}

TEST_CASE("fuzz: many distinct globals are looked up in constant time, each named once") {
  // 60,000 distinct GLOBALs (about 1 MB): a linear search per global was quadratic (minutes
  // under the fuzzer); a hashed index walks it at once. Names whose module/name split differs
  // ("ab" "c" and "a" "bc") stay distinct.
  std::string ops = Glob("ab", "c") + "0" + Glob("a", "bc") + "0";
  for (int i = 0; i < 60000; ++i) ops += Glob("m" + std::to_string(i), "f") + "0";
  const PickleScan s = Walk(P2(ops + "N"));
  REQUIRE(s.globals.size() == 60002);
  CHECK(GlobalName(s.globals[0]) == "ab.c");
  CHECK(GlobalName(s.globals[1]) == "a.bc");
  CHECK_FALSE(s.ok());
}

TEST_CASE("fuzz: TorchScript code with 200,000 findings reports the first 20") {
  std::string code;
  for (int i = 0; i < 200000; ++i) code += "torch.from_file\n";
  const auto found = ScanTorchScriptCode(code);
  CHECK(found.size() == 20);
  CHECK(found.front() == "line 1: from_file (maps, and can create, a file)");
}
