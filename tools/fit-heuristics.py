#!/usr/bin/env python3
"""Fit the line classifier's weights (rules/heuristics.toml) on half of a devset.

Usage
  tools/fit-heuristics.py DEVSET [--pack rules/heuristics.toml] [--loss 0.04] [--corpus]
  tools/fit-heuristics.py DEVSET --report OUT_DIR     score a `dechaff clean` output per half

DEVSET holds input/<id>.txt (scraped text) and gold/<id>.txt (human main
text), like ../shared/devset. Needs Python 3.10+ and numpy; CI never runs it.

The split. The devset has no site labels, and pages of one site share their
menus and footers, so a random split would leak a site's boilerplate from
the fitting half into the held-out half. Pages are grouped into pseudo-sites
instead: two pages are linked when they share at least 5 distinct lines of
15+ characters that occur in at most 60 pages (menus, footers, bylines of one
site, not phrases every site prints), and the groups are the connected
components. A group goes to half A when the first byte of SHA-256 of its
smallest page id is even, else to half B. Weights are fitted on A only;
B is held out.

The labels. A line is content when difflib aligns it with a line of the gold
text (the gold is the page's own lines, so the alignment is exact for most).

The fit. The classifier is two logistic regressions, each weighted by the
line's word count (the devset's score counts tokens): first over the line
features (`weights`), then, after the pack is rewritten with those and the
features dumped again, over the context features (`context-weights`).
Features are standardised with their mean and scale on half A, which the
pack records, so the weights stay readable. The threshold is the one with
the best approximate token F1 on half A among those that remove at most
--loss of the content words on the lines the classifier judges (what the
phrase rules and the comment cut removed is not its to lose).

The `recurring` feature (corpus counts) is 0 outside corpus mode, so a fit
without --corpus leaves its row as the pack has it; the shipped row was
set by hand (docs/tuning-notes.md). A full fit with
--corpus standardises it by its spread after corpus mode's own removals,
which is tiny, and was worse on both halves when tried.
"""
import argparse
import collections
import difflib
import hashlib
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        return f.read()


def page_ids(devset):
    return sorted(f[:-4] for f in os.listdir(os.path.join(devset, 'gold')) if f.endswith('.txt'))


def halves(devset, ids):
    """Page id -> 'A' or 'B', by pseudo-site (see the module doc)."""
    pages_of = collections.defaultdict(set)
    for pid in ids:
        for line in set(l.strip() for l in read(os.path.join(devset, 'input', pid + '.txt')).split('\n')):
            if len(line) >= 15:
                pages_of[line].add(pid)
    shared = collections.Counter()
    for pages in pages_of.values():
        if 2 <= len(pages) <= 60:
            pages = sorted(pages)
            for a in range(len(pages)):
                for b in range(a + 1, len(pages)):
                    shared[(pages[a], pages[b])] += 1
    parent = {pid: pid for pid in ids}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for (a, b), count in sorted(shared.items()):
        if count >= 5:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups = collections.defaultdict(list)
    for pid in ids:
        groups[find(pid)].append(pid)
    half = {}
    for members in groups.values():
        side = 'A' if hashlib.sha256(min(members).encode()).digest()[0] % 2 == 0 else 'B'
        for pid in members:
            half[pid] = side
    return half


def labels(devset, pid):
    lines = [l.strip() for l in read(os.path.join(devset, 'input', pid + '.txt')).split('\n')]
    gold = [l.strip() for l in read(os.path.join(devset, 'gold', pid + '.txt')).split('\n') if l.strip()]
    content = [0] * len(lines)
    matcher = difflib.SequenceMatcher(None, lines, gold, autojunk=False)
    for a, _, n in matcher.get_matching_blocks():
        for k in range(n):
            content[a + k] = 1
    return lines, content


def dump(devset, pack, corpus):
    """Runs the feature dump; returns (line feature names, context names, rows)."""
    cmd = ['cargo', 'run', '-q', '--release', '--example', 'heuristic_features', '--',
           os.path.join(devset, 'input'), '--rules', pack] + (['--corpus'] if corpus else [])
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    lines = out.split('\n')
    header = lines[0].split('\t')
    rows = [l.split('\t') for l in lines[1:] if l]
    return header, rows


def fit(np, X, y, w, l2=1e-3, steps=600):
    """Weighted logistic regression on standardised X (Adam); returns mean, scale, weights, bias."""
    mean = (X * w[:, None]).sum(0) / w.sum()
    scale = np.sqrt(((X - mean) ** 2 * w[:, None]).sum(0) / w.sum())
    scale[scale < 1e-6] = 1.0
    Z = (X - mean) / scale
    Z = np.hstack([Z, np.ones((len(Z), 1))])
    W = w / w.sum()
    b = np.zeros(Z.shape[1])
    m = np.zeros_like(b)
    v = np.zeros_like(b)
    for t in range(1, steps + 1):
        p = 1 / (1 + np.exp(-np.clip(Z @ b, -30, 30)))
        g = Z.T @ ((p - y) * W) + l2 * np.r_[b[:-1], 0]
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        b -= 0.05 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return mean, scale, b[:-1], b[-1]


def write_model(text, field, names, mean, scale, weights, bias, keep=()):
    """Rewrites the `field` block; the rows of the features in `keep` stay as the pack has them."""
    rows = [f'    ["bias", 0.0, 1.0, {bias:.6g}],']
    rows += [f'    ["{n}", {m:.6g}, {s:.6g}, {wt:.6g}],' for n, m, s, wt in zip(names, mean, scale, weights)]
    for name in keep:
        row = re.search(r'^    \["' + re.escape(name) + r'", .*\],$', text, re.M)
        if not row:
            sys.exit(f'no "{name}" row to keep in the pack')
        rows.append(row.group(0))
    block = f'{field} = [\n' + '\n'.join(rows) + '\n]'
    pattern = re.compile(r'^' + re.escape(field) + r' = \[\n(?:    \[.*\],\n)*\]', re.M)
    if not pattern.search(text):
        sys.exit(f'no "{field} = [" block to replace in the pack')
    return pattern.sub(lambda _: block, text, count=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('devset')
    ap.add_argument('--pack', default=os.path.join(ROOT, 'rules', 'heuristics.toml'))
    ap.add_argument('--loss', type=float, default=0.04,
                    help='share of the judged lines\' content words the classifier may remove on half A')
    ap.add_argument('--corpus', action='store_true',
                    help='dump the features in corpus mode (recurring lines removed first, the recurring '
                         'feature filled); the shipped weights are fitted without it, see docs/tuning-notes.md')
    ap.add_argument('--report', metavar='OUT_DIR')
    a = ap.parse_args()
    ids = page_ids(a.devset)
    half = halves(a.devset, ids)
    if a.report:
        sys.path.insert(0, a.devset)
        import score
        for side in 'AB':
            rows = []
            for pid in ids:
                if half[pid] != side:
                    continue
                inp = read(os.path.join(a.devset, 'input', pid + '.txt')).split()
                gold = read(os.path.join(a.devset, 'gold', pid + '.txt')).split()
                path = os.path.join(a.report, pid + '.txt')
                pred = read(path).split() if os.path.exists(path) else []
                rows.append(score.score_doc(inp, gold, pred))
            print(score.fmt(os.path.basename(os.path.normpath(a.report)), f'half {side}', score.aggregate(rows)))
        return
    import numpy as np
    print(f'split: {sum(1 for p in ids if half[p] == "A")} pages in A (fit), '
          f'{sum(1 for p in ids if half[p] == "B")} in B (held out)', file=sys.stderr)
    truth = {pid: labels(a.devset, pid) for pid in ids}
    gold_words = {pid: len(read(os.path.join(a.devset, 'gold', pid + '.txt')).split()) for pid in ids}

    def table(rows, header):
        pids = [r[0] for r in rows]
        lines = [int(r[1]) for r in rows]
        X = np.array([[float(x) for x in r[2:]] for r in rows])
        y = np.array([truth[p][1][k] for p, k in zip(pids, lines)], float)
        w = np.array([len(truth[p][0][k].split()) for p, k in zip(pids, lines)], float)
        fit_rows = np.array([half[p] == 'A' for p in pids])
        return pids, lines, X, y, w, fit_rows

    header, rows = dump(a.devset, a.pack, a.corpus)
    n_line = header.index('score') - 2
    line_names = header[2:2 + n_line]
    context_names = header[2 + n_line:-1]
    pids, lines, X, y, w, on_a = table(rows, header)
    # Without corpus mode the recurring feature is 0 on every line: nothing to
    # fit, and its hand-set row (see docs/tuning-notes.md) stays as it is.
    fitted = [k for k, n in enumerate(line_names) if a.corpus or n != 'recurring']
    keep = [] if a.corpus else ['recurring']
    mean, scale, weights, bias = fit(np, X[on_a][:, fitted], y[on_a], w[on_a])
    text = write_model(read(a.pack), 'weights', [line_names[k] for k in fitted], mean, scale, weights, bias, keep)
    with open(a.pack, 'w', encoding='utf-8') as f:
        f.write(text)

    header, rows = dump(a.devset, a.pack, a.corpus)
    pids, lines, X, y, w, on_a = table(rows, header)
    C = X[:, n_line:n_line + len(context_names)]
    mean, scale, weights, bias = fit(np, C[on_a], y[on_a], w[on_a])
    text = write_model(read(a.pack), 'context-weights', context_names, mean, scale, weights, bias)
    z = ((C - mean) / scale) @ weights + bias

    # The threshold: best approximate F1 on A within the allowed loss.
    gold_a = sum(gold_words[p] for p in ids if half[p] == 'A')
    judged_true = (y[on_a] * w[on_a]).sum()
    order = np.argsort(z[on_a])
    za, ya, wa = z[on_a][order], y[on_a][order], w[on_a][order]
    kept_true = (ya * wa).sum() - np.cumsum(ya * wa)
    kept_all = wa.sum() - np.cumsum(wa)
    best = None
    for i in range(0, len(za) - 1, max(1, len(za) // 2000)):
        recall = kept_true[i] / gold_a
        precision = kept_true[i] / max(kept_all[i], 1)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0
        if kept_true[i] >= (1 - a.loss) * judged_true and (best is None or f1 > best[0]):
            best = (f1, float(za[i]), precision, recall)
    if best is None:
        sys.exit(f'no threshold loses at most {a.loss} on half A')
    print(f'threshold {best[1]:.4f}: approx. P {best[2]:.3f} R {best[3]:.3f} F1 {best[0]:.3f} on half A',
          file=sys.stderr)
    text = re.sub(r'^threshold = .*$', f'threshold = {best[1]:.4f}', text, count=1, flags=re.M)
    with open(a.pack, 'w', encoding='utf-8') as f:
        f.write(text)


if __name__ == '__main__':
    main()
