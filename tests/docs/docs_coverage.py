#!/usr/bin/env python3
"""Every gateway.yaml key, `kgw cli` command, kgw subcommand and drop reason is documented.

Read from the sources, so that a key or command added without its docs fails
here rather than reaching users undocumented:
  - gateway.yaml keys: every key list the reader accepts
    (`entries(node, "section", {"key", ...})` in dataplane/config/gateway_config.cc)
    must appear in docs/gateway-config.md as `key` (alone or as a part of a
    dotted name such as `vxlan.vni` or `limits.headers`);
  - `kgw cli` commands: the help text of every command (control/cli/cli.cc),
    each alternative's leading words (before its placeholders) and each choice
    of an `a|b` word, must be among the commands docs/cli.md shows in code
    (read the same way);
  - kgw subcommands (cmd/kgw.cc): `kgw NAME` somewhere in README.md or docs/;
  - drop reasons: every packet drop reason (pipelines/common/drop_reason.h)
    and TCP segment drop reason (pipelines/l7/tcp/tcp_counters.h) as `name` in
    docs/cli.md, every HTTP proxy error reason (pipelines/common/http_reason.h)
    in docs/proxy.md.

usage: docs_coverage.py SOURCE_ROOT
"""
import os
import re
import sys


def read(root, path):
    with open(os.path.join(root, path), encoding="utf-8") as f:
        return f.read()


def config_keys(src):
    """(section, key) for every key list the gateway.yaml reader accepts."""
    out = []
    for m in re.finditer(r'entries\(\s*\w+\s*,\s*("[^"]*"|\w+)\s*,\s*\{([^}]*)\}', src, re.S):
        section = m.group(1).strip('"')
        out += [(section, k) for k in re.findall(r'"([^"]+)"', m.group(2))]
    return out


def documented_key(doc, key):
    """`key`, or key as one part of a dotted name (`vxlan.vni`, `limits.headers`)."""
    return re.search(r"`(?:[\w.]+\.)?" + re.escape(key) + r"(?:\.[\w.]+)?`", doc) is not None


def cli_helps(src):
    """The help string of every cmdline_parse_inst_t (the first literal after its two callbacks)."""
    helps = []
    for m in re.finditer(r"cmdline_parse_inst_t\s+\w+\s*=\s*\{\s*\w+\s*,\s*\w+\s*,\s*((?:\"(?:[^\"\\]|\\.)*\"\s*)+)", src):
        helps.append("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))))
    return helps


def command_forms(help_text):
    """The literal words of each command a help text describes, every `a|b` choice expanded; a
    choice that is a placeholder (`all|<port>`) ends that form before it."""
    literal = re.compile(r"^[a-z][a-z0-9_-]*$")
    forms = set()
    for alt in help_text.split(":", 1)[0].split(" | "):
        prefixes = [[]]
        for w in alt.split():
            choices = w.split("|")
            words = [c for c in choices if literal.match(c)]
            if len(words) < len(choices):
                forms.update(" ".join(p) for p in prefixes if p)
            if not words:
                break
            prefixes = [p + [c] for p in prefixes for c in words]
        forms.update(" ".join(p) for p in prefixes if p)
    return sorted(forms)


def macro_names(src, macro):
    """The first argument of every X(...) of an X-macro list."""
    body = src[src.index("#define " + macro):]
    lines = []
    for line in body.split("\n"):
        lines.append(line)
        if not line.rstrip().endswith("\\"):
            break
    return re.findall(r"X\((\w+),", " ".join(lines))


def main():
    root = sys.argv[1]
    failed = []
    keys = config_keys(read(root, "dataplane/config/gateway_config.cc"))
    cfg_doc = read(root, "docs/gateway-config.md")
    for section, key in keys:
        if not documented_key(cfg_doc, key):
            failed.append(f"gateway.yaml key {section}.{key} is not in docs/gateway-config.md")
    helps = cli_helps(read(root, "control/cli/cli.cc"))
    spans = re.findall(r"`([^`\n]+)`", read(root, "docs/cli.md").replace("\\|", "|"))
    documented = {f for span in spans for f in command_forms(span)}
    forms = sorted({f for h in helps for f in command_forms(h)})
    for f in forms:
        if f not in documented and not any(d.startswith(f + " ") for d in documented):
            failed.append(f"kgw cli command '{f}' is not in docs/cli.md")
    subs = re.findall(r'\{"([a-z-]+)", kgw::\w+_main,', read(root, "cmd/kgw.cc"))
    docs = read(root, "README.md") + "".join(
        read(root, os.path.join("docs", n)) for n in sorted(os.listdir(os.path.join(root, "docs"))) if n.endswith(".md"))
    for s in subs:
        if f"kgw {s}" not in docs:
            failed.append(f"kgw {s} is not in README.md or docs/")
    reasons = []
    for header, macro, doc in (("pipelines/common/drop_reason.h", "KGW_DROP_REASONS(X)", "docs/cli.md"),
                               ("pipelines/l7/tcp/tcp_counters.h", "KGW_TCP_DROPS(X)", "docs/cli.md"),
                               ("pipelines/common/http_reason.h", "KGW_HTTP_REASONS(X)", "docs/proxy.md")):
        text = read(root, doc)
        for name in macro_names(read(root, header), macro):
            reasons.append(name)
            if f"`{name}`" not in text:
                failed.append(f"{macro.split('(')[0]} reason {name} is not in {doc}")
    if len(keys) < 50 or len(forms) < 30 or len(subs) < 8 or len(reasons) < 100:
        failed.append(f"read too little from the sources ({len(keys)} keys, {len(forms)} commands, {len(subs)} "
                      f"subcommands, {len(reasons)} reasons): has their shape changed?")
    for f in failed:
        print("FAIL", f)
    total = len(keys) + len(forms) + len(subs) + len(reasons)
    print(f"{len(keys)} gateway.yaml keys, {len(forms)} cli commands, {len(subs)} subcommands, {len(reasons)} "
          f"drop and error reasons checked; {total - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
