#!/usr/bin/env python3
"""Real-world-shaped manifests directories, each with what `kgw validate`
says about it (stderr and exit code) in CASE/expected.out.

Every case is also read by `kgw route-check`: the two must reject the same
kinds in the same places (kinds are classified once, in
dataplane/config/yaml/kubernetes_kinds.*), every Ingress issue route-check
prints validate prints too, and route-check's lines too must start with
error: or warning:.

  check_corpus.py KGW CORPUS_DIR [--update]

--update rewrites expected.out files after the invariants hold; review the
diff before committing it.
"""
import os
import re
import subprocess
import sys


def run(cmd, stdout=None):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if stdout is not None:
        stdout.extend(r.stdout.splitlines())
    return r.returncode, r.stderr.splitlines()


def kind_errors(lines):
    """(file:line, kind, apiVersion) of every 'kind X in apiVersion Y is not supported'."""
    out = set()
    for l in lines:
        m = re.search(r"^error: (\S+?:\d+): .*kind (\S+) in apiVersion (\S+) is not supported", l)
        if m:
            out.add(m.groups())
    return out


def check_case(kgw, case):
    problems = []
    name = os.path.basename(case)
    out = []
    rc, err = run([kgw, "validate", "--manifests", case], out)
    # What it compiled to (Services, ports, endpoints), less the clock and
    # where the NIC profiles are.
    summary = [re.sub(r"compiled in [0-9.]+ ms", "compiled in T ms",
                      re.sub(r"^ok: .*?; ", "ok: ", l)).replace(case, "CASE") for l in out]
    lines = [l.replace(case, "CASE") for l in err]
    for l in lines:
        if not re.match(r"^(error|warning|info): ", l) and l is not lines[-1]:
            problems.append(f"{name}: validate line without a level: {l}")
    if not lines or not re.match(r"^CASE: \d+ errors?, \d+ warnings?; objects: ", lines[-1]):
        problems.append(f"{name}: validate's last line is not the count line")
    n_err = sum(1 for l in lines if l.startswith("error: "))
    if (rc == 0) != (n_err == 0):
        problems.append(f"{name}: validate exit {rc} with {n_err} error lines")
    rrc, rerr = run([kgw, "route-check", "--manifests", case, "--path", "/"])
    for l in rerr:
        if re.match(r"^\S+:\d+: ", l):
            problems.append(f"{name}: route-check issue without a level: {l}")
    if kind_errors(err) != kind_errors(rerr):
        problems.append(f"{name}: validate and route-check disagree on kinds: {sorted(kind_errors(err))} vs "
                        f"{sorted(kind_errors(rerr))}")
    # validate reads the Ingress side as route-check does: every Ingress
    # issue route-check prints, validate prints too (the YAML front end's own
    # findings and kind errors it words once, from the Services side).
    said_once = (": YAML: ", "duplicate key \"", "a merge key (<<)", "is not supported (kgw reads")
    for l in rerr:
        if re.match(r"^(error|warning): ", l) and not any(s in l for s in said_once) and l not in err:
            problems.append(f"{name}: route-check says what validate does not: {l}")
    if kind_errors(rerr) and rrc != 1:
        problems.append(f"{name}: route-check exit {rrc} with a kind error")
    text = f"exit {rc}\n" + "".join(l + "\n" for l in lines + summary)
    return text, problems


def main():
    kgw, corpus = sys.argv[1], sys.argv[2]
    update = "--update" in sys.argv[3:]
    failed = 0
    cases = sorted(d for d in os.listdir(corpus) if os.path.isdir(os.path.join(corpus, d)))
    if not cases:
        print(f"no cases in {corpus}")
        return 1
    for c in cases:
        case = os.path.join(corpus, c)
        text, problems = check_case(kgw, case)
        for p in problems:
            print(f"FAIL {p}")
        failed += bool(problems)
        want_path = os.path.join(case, "expected.out")
        if update and not problems:
            with open(want_path, "w") as f:
                f.write(text)
            continue
        try:
            with open(want_path) as f:
                want = f.read()
        except FileNotFoundError:
            want = None
        if want != text:
            failed += 1
            print(f"FAIL {c}: validate output differs from {want_path}:\n--- want\n{want}--- got\n{text}")
        elif not problems:
            print(f"ok   {c}")
    print(f"{len(cases) - failed} of {len(cases)} cases ok" if failed else f"all {len(cases)} cases ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
