// pep440_eval: answers "does specifier set S contain version V?" with the agent's own PEP 440
// code, one question per line, for the differential test against Python's `packaging`
// (tests/python/pep440_differential.py).
//
//   stdin:  S <TAB> V            one pair a line
//   stdout: 1 | 0 | S | V        contained, not contained, S does not parse, V does not parse
#include <iostream>
#include <string>

#include "agent/lockfile/pep440_specifier.h"
#include "agent/lockfile/pep440_version.h"

int main() {
  std::ios::sync_with_stdio(false);
  std::string line;
  while (std::getline(std::cin, line)) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos) {
      std::cout << "?\n";
      continue;
    }
    const auto spec = bg::Pep440SpecifierSet::Parse(line.substr(0, tab));
    const auto version = bg::Pep440Version::Parse(line.substr(tab + 1));
    if (!spec.ok()) {
      std::cout << "S\n";
    } else if (!version) {
      std::cout << "V\n";
    } else {
      std::cout << (spec->Contains(*version) ? "1\n" : "0\n");
    }
  }
  return 0;
}
