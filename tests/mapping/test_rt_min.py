#!/usr/bin/env python3
"""Router tables compressed to the minimum (s2_rt_minimise, `--router-target min`) against
independent references, on random tables and tables known to be hard:

  1. exactness: every key of every entry of the uncompressed table routes identically through
     the compressed table (first match wins; a key that matches nothing takes the default
     route, out of the link opposite the one it came in on, which is right only where the
     original entry said exactly that);
  2. ordered covering: this file's own implementation of ordered covering (Mundy, Heathcote
     and Garside 2016, from the paper's description: merges by route, largest first, kept
     sorted by generality, the down-check and up-check, then default routes dropped). The
     library's plain algorithm (S2_RT_MIN_OC_ONLY) must give exactly as many entries, and the
     library's min mode never more;
  3. the true minimum, for tables of at most 12 keys on 3-4 key bits (random ones and hard
     ones: scattered exceptions, interleaved routes): a search over every ordered table of
     ternary entries (dynamic programming over the set of keys not yet matched). The library
     can never beat it (that would be a wrong table), must stay within 2 entries of it on
     each table and within 8 % of it in total, and the test reports how often it reaches it.

Usage: test_rt_min.py TOOL (tests/mapping/rt_min_tool.c). Pure Python, no packages.
"""
import random
import subprocess
import sys
from functools import lru_cache

OPP = [3, 4, 5, 0, 1, 2]  # link opposite link l (E-W, NE-SW, N-S)
FULL = 0xFFFFFFFF


class Entry:
    def __init__(self, key, mask, route, srcs, aliases=None):
        self.key, self.mask, self.route = key, mask, route
        self.srcs = frozenset(srcs)  # links (0-5) or 6 (a local PE) packets arrive on
        self.aliases = aliases if aliases is not None else [(key, mask)]


def xs(mask):
    return 32 - bin(mask & FULL).count("1")


def meets(k1, m1, k2, m2):
    return ((k1 ^ k2) & m1 & m2) == 0


def cube_of(entries):
    """Smallest ternary cube covering the entries: bits all specify with one value stay."""
    ones, zeros, spec = 0, 0, FULL
    for e in entries:
        ones |= e.key
        zeros |= ~e.key & e.mask & FULL
        spec &= e.mask
    mask = spec & ~(ones & zeros) & FULL
    # a bit that is 1 in some and 0 in others (or X in any) becomes X
    key = ones & mask
    return key, mask


def insertion(table, g):
    for i, e in enumerate(table):
        if xs(e.mask) >= g:
            return i
    return len(table)


def downcheck(table, sel, floor):
    """Shrink sel until the merged entry hides no original key of an entry below it."""
    while len(sel) - 1 > floor:
        k, m = cube_of([table[i] for i in sel])
        pos = insertion(table, xs(m))
        hidden = [(ak, am) for e in table[pos:] for (ak, am) in e.aliases
                  if meets(k, m, ak, am)]
        if not hidden:
            return sel
        # bits the merge has as X where the hidden key is specified: setting one of them to
        # the other value avoids it; only the most constrained hidden keys count
        freedom = {h: (h[1] & ~m) & FULL for h in hidden}
        least = min(bin(f).count("1") for f in freedom.values())
        if least == 0:
            return []
        options = set()
        for (ak, _), f in freedom.items():
            if bin(f).count("1") == least:
                for b in range(32):
                    if f >> b & 1:
                        options.add((b, 0 if ak >> b & 1 else 1))
        drop = None
        for b, v in sorted(options, reverse=True):
            out = {i for i in sel
                   if not table[i].mask >> b & 1 or (table[i].key >> b & 1) != v}
            if drop is None or len(out) < len(drop):
                drop = out
        sel = [i for i in sel if i not in drop]
    return []


def upcheck(table, sel, floor):
    changed = False
    for i in sorted(sel, reverse=True):
        k, m = cube_of([table[j] for j in sel])
        pos = insertion(table, xs(m))
        e = table[i]
        if any(meets(e.key, e.mask, o.key, o.mask) for o in table[i + 1:pos]):
            sel = [j for j in sel if j != i]
            changed = True
            if len(sel) - 1 <= floor:
                return [], True
    return sel, changed


def refine(table, sel, floor):
    sel = downcheck(table, sel, floor)
    if len(sel) - 1 > floor:
        sel, changed = upcheck(table, sel, floor)
        if changed and len(sel) - 1 > floor:
            sel = downcheck(table, sel, floor)
    return sel if len(sel) - 1 > floor else []


def ordered_covering(entries):
    table = sorted(entries, key=lambda e: (xs(e.mask), e.key))
    while True:
        best, floor, seen = [], 0, set()
        for i, e in enumerate(table):
            if e.route in seen:
                continue
            seen.add(e.route)
            sel = [j for j in range(i, len(table)) if table[j].route == e.route]
            if len(sel) - 1 <= floor:
                continue
            sel = refine(table, sel, floor)
            if len(sel) - 1 > floor:
                best, floor = sel, len(sel) - 1
        if not best:
            return table
        k, m = cube_of([table[i] for i in best])
        pos = insertion(table, xs(m))
        merged = Entry(k, m, table[best[0]].route,
                       frozenset().union(*(table[i].srcs for i in best)),
                       [a for i in best for a in table[i].aliases])
        out = []
        for i in range(len(table) + 1):
            if i == pos:
                out.append(merged)
            if i < len(table) and i not in best:
                out.append(table[i])
        table = out


def drop_defaults(table):
    out = []
    for i, e in enumerate(table):
        (src,) = e.srcs if len(e.srcs) == 1 else (None,)
        dflt = (src is not None and src < 6 and e.route == 1 << OPP[src] and
                not any(meets(e.key, e.mask, o.key, o.mask) for o in table[i + 1:]))
        if not dflt:
            out.append(e)
    return out


def reference_oc(entries):
    return drop_defaults(ordered_covering(entries))


# ---- checks --------------------------------------------------------------------------------

def keys_of(e, bits):
    return [k for k in range(1 << bits) if (k & e.mask) == e.key]


def default_of(e):
    (src,) = e.srcs
    return 1 << OPP[src] if src < 6 else None  # a local packet that matches nothing drops


def check_exact(orig, comp, bits, what):
    for e in orig:
        for k in keys_of(e, bits):
            got = next((c[2] for c in comp if (k & c[1]) == c[0]), None)
            if got is None:
                got = default_of(e)
            if got != e.route:
                raise SystemExit(f"FAIL {what}: key {k:#x} routes {got} after compression, "
                                 f"{e.route} before")


def true_minimum(orig, bits):
    """Fewest entries of any ordered ternary table routing every key as orig does."""
    keys = []
    for e in orig:
        for k in keys_of(e, bits):
            keys.append((k, e.route, default_of(e) == e.route))
    n = len(keys)
    cubes = []
    for spec in range(1 << bits):
        for val in range(1 << bits):
            if val & ~spec:
                continue
            cubes.append(sum(1 << i for i, (k, _, _) in enumerate(keys)
                             if (k & spec) == val))
    cubes = sorted(set(c for c in cubes if c))
    same = {}  # route -> the keys (bit set) that want it
    for i, (_, r, _) in enumerate(keys):
        same[r] = same.get(r, 0) | 1 << i
    want = [same[r] for _, r, _ in keys]
    need = sum(1 << i for i, (_, _, d) in enumerate(keys) if not d)

    @lru_cache(maxsize=None)
    def f(rest):
        if not rest & need:
            return 0
        best = n
        for c in cubes:
            hit = c & rest
            # usable first entry: it matches keys still unmatched, all wanting one route
            if hit and not hit & ~want[(hit & -hit).bit_length() - 1]:
                best = min(best, 1 + f(rest & ~c))
        return best

    return f((1 << n) - 1)


# ---- tables ---------------------------------------------------------------------------------

def random_table(rng, bits, n_routes, p_hole, p_default):
    """Disjoint cubes from random splits of the key space (not only prefix blocks)."""
    hi = FULL & ~((1 << bits) - 1)
    palette = [rng.randrange(1, 1 << 12) << 6 | rng.randrange(0, 64)
               for _ in range(n_routes)]
    out = []

    def split(key, mask, depth):
        free = [b for b in range(bits) if not mask >> b & 1]
        if not free or rng.random() < 0.25 + 0.1 * depth:
            if rng.random() < p_hole:
                return  # keys never sent to this chip
            src = rng.randrange(0, 7)
            if src < 6 and rng.random() < p_default:
                route = 1 << OPP[src]
            else:
                route = rng.choice(palette)
            out.append(Entry(key, mask, route, {src}))
            return
        b = rng.choice(free)
        split(key, mask | 1 << b, depth + 1)
        split(key | 1 << b, mask | 1 << b, depth + 1)

    split(0, hi, 0)
    return out


def parity_table(bits, routes=(1 << 6, 1 << 7)):
    hi = FULL & ~((1 << bits) - 1)
    return [Entry(k, hi | ((1 << bits) - 1), routes[bin(k).count("1") & 1], {6})
            for k in range(1 << bits)]


def exceptions_table(rng, bits, n_exc):
    """One route nearly everywhere, scattered exceptions with other routes and sources:
    ordered covering's best case (a general entry below specific ones) and the block
    merger's worst."""
    hi = FULL & ~((1 << bits) - 1)
    exc = set(rng.sample(range(1 << bits), n_exc))
    out = []
    for k in range(1 << bits):
        if k in exc:
            out.append(Entry(k, hi | ((1 << bits) - 1), rng.choice([1 << 8, 1 << 9, 1 << 0]),
                             {rng.randrange(0, 7)}))
        else:
            out.append(Entry(k, hi | ((1 << bits) - 1), 1 << 10, {6}))
    return out


def interleaved_table(rng, bits, stride):
    """Routes that alternate along the low key bits while blocks share high bits: merged
    cubes overlap other routes everywhere (many overlapping keys and masks)."""
    hi = FULL & ~((1 << bits) - 1)
    out = []
    for k in range(0, 1 << bits):
        r = 1 << (6 + ((k // stride) % 3))
        if rng.random() < 0.15:
            continue
        out.append(Entry(k, hi | ((1 << bits) - 1), r, {rng.choice([0, 6])}))
    return out


def paper_tables():
    """Small examples of the kind the paper and its documentation work through."""
    hi4 = FULL & ~0xF
    def e(s, route, src=6):
        key = sum(1 << (3 - i) for i, c in enumerate(s) if c == "1")
        mask = hi4 | sum(1 << (3 - i) for i, c in enumerate(s) if c != "X")
        return Entry(key, mask, route, {src})
    return [
        [e("0000", 1), e("0001", 1), e("0010", 1), e("0011", 2)],
        [e("0011", 1), e("0100", 1), e("1000", 1), e("1010", 2)],
        [e("0001", 1), e("0010", 1), e("0000", 2), e("0011", 4)],
        [e("0000", 1), e("0101", 1), e("1010", 1), e("1111", 1), e("0110", 2), e("1001", 2)],
    ]


def run_tool(tool, tables):
    inp = []
    for t in tables:
        inp.append(f"T {len(t)}")
        for x in t:
            (src,) = x.srcs
            inp.append(f"{x.key:x} {x.mask:x} {src} {x.route:x}")
    out = subprocess.run([tool], input="\n".join(inp) + "\n", capture_output=True, text=True,
                         check=True).stdout.split("\n")
    res, i = [], 0
    for _ in tables:
        got = {}
        for tag in ("OC", "MIN"):
            name, n = out[i].split()
            assert name == tag, out[i]
            n = int(n)
            got[tag] = [tuple(int(v, 16) for v in line.split()) for line in out[i + 1:i + 1 + n]]
            i += 1 + n
        _, us_oc, us_min = out[i].split()
        got["us"] = (float(us_oc), float(us_min))
        i += 1
        res.append(got)
    return res


def main():
    tool = sys.argv[1]
    rng = random.Random(20261206)
    cases = []  # (name, bits, table, small)
    for i, t in enumerate(paper_tables()):
        cases.append((f"paper{i}", 4, t))
    for i in range(60):
        bits = rng.choice([3, 4])
        cases.append((f"small{i}", bits,
                      random_table(rng, bits, rng.randrange(1, 4), 0.2, 0.3)))
    for i in range(30):
        cases.append((f"random{i}", 8, random_table(rng, 8, rng.randrange(2, 8), 0.3, 0.2)))
    for bits in (3, 4, 6):
        cases.append((f"parity{bits}", bits, parity_table(bits)))
    for i in range(8):
        cases.append((f"exceptions{i}", 7, exceptions_table(rng, 7, rng.randrange(2, 20))))
    for i in range(6):
        cases.append((f"interleaved{i}", 7, interleaved_table(rng, 7, rng.choice([1, 2, 3]))))
    # hard tables small enough for the true minimum (3 key bits, or 4 with holes: at most
    # 12 keys): cubes of other routes overlap whatever is merged
    for i in range(12):
        bits = 3 if i < 6 else 4
        t = (exceptions_table(rng, bits, rng.randrange(1, 1 << (bits - 1))) if i % 2 else
             interleaved_table(rng, bits, rng.choice([1, 2, 3])))
        while len(t) > 12:
            t.pop(rng.randrange(len(t)))
        cases.append((f"hard{i}", bits, t))
    cases = [c for c in cases if c[2]]
    results = run_tool(tool, [c[2] for c in cases])
    n_min_opt = n_small = sum_lo = sum_got = 0
    tot = {"orig": 0, "ref": 0, "oc": 0, "min": 0}
    us = [0.0, 0.0]
    for (name, bits, table), got in zip(cases, results):
        ref = reference_oc(table)
        check_exact(table, [(e.key, e.mask, e.route) for e in ref], bits, name + " (reference)")
        check_exact(table, got["OC"], bits, name + " (OC_ONLY)")
        check_exact(table, got["MIN"], bits, name + " (min)")
        if len(got["OC"]) != len(ref):
            raise SystemExit(f"FAIL {name}: ordered covering gives {len(got['OC'])} entries, "
                             f"the reference {len(ref)}")
        if len(got["MIN"]) > len(ref):
            raise SystemExit(f"FAIL {name}: min gives {len(got['MIN'])} entries, more than "
                             f"ordered covering's {len(ref)}")
        tot["orig"] += len(table)
        tot["ref"] += len(ref)
        tot["oc"] += len(got["OC"])
        tot["min"] += len(got["MIN"])
        us[0] += got["us"][0]
        us[1] += got["us"][1]
        if bits <= 4 and sum(len(keys_of(e, bits)) for e in table) <= 12:
            lo = true_minimum(table, bits)
            if len(got["MIN"]) < lo:
                raise SystemExit(f"FAIL {name}: {len(got['MIN'])} entries, below the true "
                                 f"minimum {lo}: the table cannot be right")
            n_small += 1
            n_min_opt += len(got["MIN"]) == lo
            sum_lo += lo
            sum_got += len(got["MIN"])
            # a heuristic, not an exact minimiser, but never far from it on small tables
            if len(got["MIN"]) > lo + 2:
                raise SystemExit(f"FAIL {name}: {len(got['MIN'])} entries, the true "
                                 f"minimum is {lo}")
            if len(got["MIN"]) > lo:
                print(f"  {name}: min {len(got['MIN'])}, true minimum {lo}")
    print(f"{len(cases)} tables, {tot['orig']} entries: reference ordered covering "
          f"{tot['ref']}, library ordered covering {tot['oc']}, library min {tot['min']} "
          f"(ratio min/reference {tot['min'] / tot['ref']:.3f}); "
          f"{us[0] / 1e3:.1f} ms and {us[1] / 1e3:.1f} ms in the library")
    print(f"true minimum reached on {n_min_opt} of {n_small} small tables; "
          f"{sum_got} entries against {sum_lo} ({sum_got / sum_lo:.3f})")
    if sum_got > 1.08 * sum_lo:  # measured: 140 against 134 (4.5 % above)
        raise SystemExit("FAIL: more than 8 % above the true minimum on the small tables")
    print("PASS")


if __name__ == "__main__":
    main()
