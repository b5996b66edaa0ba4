#!/usr/bin/env python3
"""Lists import cycles between the modules (files) of one crate's src/ folder.

An edge A -> B means file A names an item of module B (a `use` or an inline `crate::`/`super::`/
`self::` path). Re-exports are followed to the module that defines the item. `mod x;` alone
is not an edge. Usage: modcycles.py CRATE/src
"""
import os, re, sys

root = sys.argv[1]
files = {}
for d, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs'):
            continue
        p = os.path.join(d, f)
        rel = os.path.relpath(p, root)[:-3].split(os.sep)
        if rel[-1] == 'mod' or (len(rel) == 1 and rel[0] in ('lib', 'main')):
            rel = rel[:-1]
        if rel and rel[0] == 'bin':
            continue
        files[tuple(rel)] = p

def strip(src):
    src = re.sub(r'//[^\n]*', '', src)
    src = re.sub(r'/\*.*?\*/', '', src, flags=re.S)
    src = re.sub(r'"(\\.|[^"\\])*"', '""', src)
    # drop #[cfg(test)] mod tests { ... } blocks
    out, i = [], 0
    for m in re.finditer(r'#\[cfg\(test\)\]\s*mod\s+\w+\s*\{', src):
        if m.start() < i: continue
        out.append(src[i:m.start()])
        depth, j = 1, m.end()
        while j < len(src) and depth:
            depth += {'{': 1, '}': -1}.get(src[j], 0); j += 1
        i = j
    out.append(src[i:])
    return ''.join(out)

texts = {m: strip(open(p).read()) for m, p in files.items()}

def expand_use(body):
    """Expands `a::{b, c::{d}}` into paths."""
    body = body.strip()
    m = re.match(r'^(.*?)\{(.*)\}$', body, re.S)
    if not m:
        return [body.split(' as ')[0].strip()]
    prefix, inner = m.group(1), m.group(2)
    parts, depth, cur = [], 0, ''
    for ch in inner:
        if ch == ',' and depth == 0:
            parts.append(cur); cur = ''
        else:
            depth += ch == '{'; depth -= ch == '}'; cur += ch
    parts.append(cur)
    res = []
    for p in parts:
        if p.strip():
            res += [prefix + q for q in expand_use(p)]
    return res

def absolute(mod, path):
    segs = [s for s in path.split('::') if s]
    if not segs: return None
    if segs[0] == 'crate': return segs[1:]
    base = list(mod)
    if segs[0] == 'self': return base + segs[1:]
    if segs[0] == 'super':
        while segs and segs[0] == 'super':
            base = base[:-1]; segs = segs[1:]
        return base + segs
    # a child module of the current one, used without self::
    if tuple(base + segs[:1]) in files: return base + segs
    return None

reexports = {}
for m, t in texts.items():
    for u in re.findall(r'pub(?:\([^)]*\))?\s+use\s+([^;]+);', t):
        for p in expand_use(u):
            a = absolute(m, p)
            if a: reexports[(m, p.split('::')[-1].split(' as ')[-1].strip())] = a

def resolve(segs, seen=0):
    """The module file that defines the item named by absolute path `segs`."""
    best = None
    for i in range(len(segs), -1, -1):
        if tuple(segs[:i]) in files:
            best = i; break
    if best is None: return None
    mod = tuple(segs[:best])
    rest = segs[best:]
    if rest and (mod, rest[0]) in reexports and seen < 10:
        return resolve(reexports[(mod, rest[0])] + rest[1:], seen + 1)
    return mod

edges = {m: set() for m in files}
for m, t in texts.items():
    paths = []
    for u in re.findall(r'(?<![\w:])use\s+([^;]+);', t):
        paths += expand_use(u)
    paths += re.findall(r'(?<![\w:])((?:crate|super|self)(?:::\w+)+)', t)
    for p in paths:
        a = absolute(m, p)
        if a is None: continue
        target = resolve(a)
        if target is not None and target != m:
            edges[m].add(target)

# Tarjan SCC
index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]
def strong(v):
    index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(comp)
sys.setrecursionlimit(10000)
for v in files:
    if v not in index: strong(v)
name = lambda m: '::'.join(m) or 'crate'
if not sccs:
    print(f'no import cycle among {len(files)} modules of {root}')
for c in sccs:
    cs = set(c)
    print('cycle:', ', '.join(sorted(name(m) for m in c)))
    for m in sorted(c):
        for w in sorted(edges[m] & cs):
            print(f'   {name(m)} -> {name(w)}')
sys.exit(1 if sccs else 0)
