#!/usr/bin/python3
"""Differential test of the agent's PEP 440 specifier matching against Python's `packaging`.

    pep440_differential.py PEP440_EVAL [--report]

PEP440_EVAL is tests/tools/pep440_eval (the agent's own Pep440SpecifierSet/Pep440Version). The
test generates a large, deterministic set of (specifier, version) pairs: every operator, with
epochs, pre-, post-, dev-releases, local labels, trailing zeros and the other spellings PEP 440
normalizes, and asks three parties whether the version is inside the specifier, pre-releases
allowed (what a deny rule asks):

  agent      our C++ code, through PEP440_EVAL;
  installed  the `packaging` on this machine (Debian 12: python3-packaging 23.0), the live
             oracle: Specifier(s).contains(v, prereleases=True);
  reference  PEP 440's exclusive-comparison rules as packaging 26.1 reads them
             (pypa/packaging#1140, #1141, #1097), written here on top of the installed
             packaging's Version (its parsing and ordering) and nothing else.

It requires agent == reference on every pair (but versions with a number of 2^64 or more, which
the agent refuses by design), and reference == installed on every pair outside
the three families of cases where packaging changed its answer after 23.0 (see `changed`);
inside them the installed version is the old, fail-open reading that issue 8 item 17 is about.
Parsing is compared too: a specifier or version one side refuses, the other must refuse.
--report prints the counts (pairs, disagreements of each kind) instead of only failing.
"""

import itertools
import re
import random
import subprocess
import sys

from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version

# ------------------------------------------------------------------------- the generated pairs

RELEASES = ["0", "0.9", "1", "1.0", "1.0.0", "1.0.1", "1.1", "2", "2.6.0", "10.0"]
PRES = ["", "a0", "a1", "b2", "rc1", "rc2"]
POSTS = ["", ".post0", ".post1", ".post2"]
DEVS = ["", ".dev0", ".dev1", ".dev2"]
LOCALS = ["", "+local", "+cu124", "+1.abc", "+abc.2"]
EPOCHS = ["", "1!"]
# Spellings that normalize to the canonical forms above (and some that do not parse).
SPELLINGS = [
    "1.0-alpha.1", "1.0ALPHA1", "v1.0", "V1.0", "1.0-1", "1.0_post_1", "1.0.RC1", "1.0c1",
    "1.0-preview-2", "1.0pre3", "1.0.r4", "1.0rev5", " 1.0 ", "1.0.DEV", "1.0-dev-3",
    "1.0+Ubuntu-1", "1.0+UBUNTU_1.a", "01.002.0003", "1!1.0", "0!1.0", "1.0a", "1.0.post",
    "1.0-r", "1.0+", "1.0.", ".1", "1..0", "1.0+abc..1", "1.0+-abc", "a1.0", "1.0b", "1.0-",
    "1.0_", "1.0junk", "1.0a1-1", "1.0.0.0.0.0", "1.0a1.post1.dev1+x.y.z", "18446744073709551616",
]
OPERATORS = ["<", "<=", ">", ">=", "==", "!=", "~=", "==="]


def versions(rng):
    grid = [
        e + r + p + po + d + loc
        for e, r, p, po, d, loc in itertools.product(EPOCHS, RELEASES, PRES, POSTS, DEVS, LOCALS)
    ]
    rng.shuffle(grid)
    return sorted(set(grid[:900] + SPELLINGS), key=grid_key)


def grid_key(text):
    return (len(text), text)


def specifiers(rng, pool):
    bases = [v for v in pool if "+" not in v][:600]
    rng.shuffle(bases)
    specs = []
    for op in OPERATORS:
        for v in bases[:30]:
            specs.append(op + v)
    for v in [v for v in pool if "+" in v][:20]:
        specs += ["==" + v, "!=" + v, ">" + v, "<=" + v]  # the last two do not parse
    for prefix in ["1", "1.0", "1.0.0", "2", "1!1", "0.9", "2.6"]:
        specs += ["==" + prefix + ".*", "!=" + prefix + ".*"]
    specs += ["~=1", "==1.0a1.*", ">=1.*", "<1.0+local", ">= 1.0 , < 2", ">1.0,<1.0.post2",
              "<1.0.post1,>1.0a0", "~=1.0.post1", "~=1.0.dev1", "===1.0+LOCAL", "=== 1.0"]
    return sorted(set(specs))


# ----------------------------------------------------------------------------- the three sides

def installed(spec, version):
    try:
        s = SpecifierSet(spec)
    except InvalidSpecifier:
        return "S"
    try:
        v = Version(version)
    except InvalidVersion:
        return "V"
    if "===" in spec:
        # === compares text; give it the normalized text, as the agent only keeps that.
        version = str(v)
    return "1" if s.contains(version, prereleases=True) else "0"


def trimmed(release):
    release = list(release)
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    return tuple(release)


def replace(v, **parts):
    """A Version like `v` with some parts replaced (and no local label)."""
    fields = {"epoch": v.epoch, "release": v.release, "pre": v.pre, "post": v.post, "dev": v.dev}
    fields.update(parts)
    text = f"{fields['epoch']}!" + ".".join(str(n) for n in fields["release"])
    if fields["pre"] is not None:
        text += f"{fields['pre'][0]}{fields['pre'][1]}"
    if fields["post"] is not None:
        text += f".post{fields['post']}"
    if fields["dev"] is not None:
        text += f".dev{fields['dev']}"
    return Version(text)


def next_release_dev0(v, release):
    release = list(release)
    release[-1] += 1
    return replace(v, release=tuple(release), pre=None, post=None, dev=0)


def reference_one(op, operand, c):
    """One clause, by PEP 440's rules (read as packaging 26.1 does)."""
    if op == "===":
        return str(c).lower() == operand.lower()
    if operand.endswith(".*"):
        prefix = Version(operand[:-2])
        inside = (replace(prefix, pre=None, post=None, dev=0) <= c
                  < next_release_dev0(prefix, prefix.release))
        return inside if op == "==" else not inside
    v = Version(operand)
    public = Version(c.public)
    if op == "==":
        return c == v if v.local is not None else public == v
    if op == "!=":
        return not reference_one("==", operand, c)
    if op == "<=":
        return public <= v
    if op == ">=":
        return public >= v
    if op == "~=":
        return v <= c < next_release_dev0(v, v.release[:-1])
    if op == "<":
        # Below V's earliest pre-release, V.dev0, unless V is itself a pre-release.
        return c < (v if v.is_prerelease else replace(v, dev=0))
    if op == ">":
        if v.dev is not None:
            return c >= replace(v, dev=v.dev + 1)
        if v.post is not None:
            return c >= replace(v, post=v.post + 1, dev=0)
        same_release = (c.epoch == v.epoch and trimmed(c.release) == trimmed(v.release)
                        and c.pre == v.pre)
        post_family = same_release and (c.dev is None or c.post is not None)
        return c > v and not post_family
    raise ValueError(op)


def reference(spec, version):
    try:
        clauses = [Specifier(s.strip()) for s in spec.split(",")]
    except InvalidSpecifier:
        return "S"
    try:
        c = Version(version)
    except InvalidVersion:
        return "V"
    return "1" if all(reference_one(s.operator, s.version, c) for s in clauses) else "0"


def changed(spec, version):
    """The pairs where packaging's answer changed after 23.0 (so 23.0 is not the oracle)."""
    try:
        clauses = [Specifier(s.strip()) for s in spec.split(",")]
        c = Version(version)
    except (InvalidSpecifier, InvalidVersion):
        return False
    for s in clauses:
        if s.operator == "===":
            continue
        if s.version.endswith(".*") or s.operator == "~=":
            # 23.0 padded the candidate's text split at the first suffix: a candidate with a
            # shorter release and a suffix (1.0rc1 for ==1.0.0.*) fell outside.
            prefix = Version(s.version[:-2] if s.version.endswith(".*") else s.version)
            if c.epoch != 0 or prefix.epoch != 0:
                return True  # 23.0's text split did not know epochs ("1!1a0" for ==1!1.*)
            length = len(prefix.release) - (1 if s.operator == "~=" else 0)
            if len(c.release) < length and (c.pre or c.post is not None or c.dev is not None):
                return True
            continue
        v = Version(s.version)
        if s.operator == "<" and v.is_postrelease and not v.is_prerelease:
            return True  # #1140: <V.postN kept out every pre-release of V's release
        if s.operator == ">" and (v.is_prerelease or v.is_postrelease):
            return True  # #1141, #1097: >V kept out all post/local versions of V's release
    return False


def oversized(text):
    """A number of 2^64 or more: the agent's versions are 64-bit (see pep440_version.h)."""
    return any(int(n) >= 1 << 64 for n in re.findall(r"[0-9]+", text))


def agent(binary, pairs):
    text = "".join(f"{s}\t{v}\n" for s, v in pairs)
    out = subprocess.run([binary], input=text, capture_output=True, text=True, check=True)
    answers = out.stdout.split("\n")[:-1]
    if len(answers) != len(pairs):
        raise SystemExit(f"pep440_eval answered {len(answers)} of {len(pairs)} questions")
    return answers


# -------------------------------------------------------------------------------------- main

def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    rng = random.Random(440)
    pool = versions(rng)
    specs = specifiers(rng, pool)
    pairs = [(s, v) for s in specs for v in pool]
    ours = agent(argv[1], pairs)

    counts = {"pairs": len(pairs), "agent_vs_reference": 0, "agent_vs_installed": 0,
              "agent_vs_installed_changed": 0, "reference_vs_installed_unchanged": 0,
              "changed": 0, "oversized": 0}
    failures = []
    for (s, v), a in zip(pairs, ours):
        inst = installed(s, v)
        ref = reference(s, v)
        moved = changed(s, v)
        counts["changed"] += moved
        if a != inst:
            counts["agent_vs_installed"] += 1
            counts["agent_vs_installed_changed"] += moved
        if a == "V" and oversized(v) and ref != "V":
            counts["oversized"] += 1
        elif a != ref:
            counts["agent_vs_reference"] += 1
            failures.append(f"agent says {a}, reference {ref}, packaging {inst}: {s!r} {v!r}")
        if ref != inst and not moved:
            counts["reference_vs_installed_unchanged"] += 1
            failures.append(f"reference says {ref}, packaging {inst} (unchanged rule): {s!r} {v!r}")

    import packaging
    print(f"packaging {packaging.__version__}: " +
          ", ".join(f"{k} {n}" for k, n in counts.items()))
    for f in failures[:40]:
        print(f)
    if "--report" in argv:
        return 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
