#!/usr/bin/env python3
"""Fit the line classifier on several gold sets together, with leave-one-source-out figures.

Usage
  tools/fit-line-model.py SET... [--pack rules/heuristics.toml] [--write] [--loso] [--trees]
                          [--features target/release/examples/heuristic_features]

Each SET holds input/<id>.txt and gold/<id>.txt (../shared/devset,
../shared/devset2). A page's *source* is its id's prefix before the first
'-' (dragnet, cleanevaldev, readability, cleanportal). Needs Python 3.10+,
numpy and scikit-learn (a venv: `python3 -m venv /tmp/v && /tmp/v/bin/pip
install numpy scikit-learn`); CI never runs it.

What it does
1. Dumps what the classifier sees of every line it judges, in corpus mode as
   `dechaff eval` runs (the set's input/ folder one group), with the
   `heuristic_features` example: the rules, corpus mode and the comment cuts
   have removed their lines by then, so only the classifier's part is fitted.
2. Labels a line content when difflib aligns it with a gold line.
3. Fits the two logistic models the engine runs: the line model over the
   line features, then (the context features recomputed here from the new
   first scores exactly as the engine computes them) the context model. Each
   line weighs its word count, and each source weighs the same in all, so
   that the 1,370 Dragnet pages do not drown the three smaller sources.
4. Applies the engine's prose guard (a line of 20 words or more ending as
   a sentence is never removed) and picks the threshold with the best mean macro F1 over the fitting sources,
   simulating each page's output: its lines the classifier does not remove,
   the never-empty guard included, scored as the sets' score.py scores.
5. --loso: fits without one source, scores on it, for each of the four, and
   prints the figures beside those of the fit on all four.
6. --write: writes the all-sources fit's weights and threshold into the pack.
7. --trees: also fits gradient-boosted trees (scikit-learn's
   HistGradientBoostingClassifier) over the line and context features in
   place of the context model, and prints their figures (with --loso, held
   out too), for comparison only: the engine runs the linear models.
"""
import argparse
import collections
import difflib
import math
import os
import re
import subprocess
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROSE_WORDS = 12
EDGE_SCORE = -3.0
# The prose guard: a line of at least this many words, ending as a sentence
# does, with at least this stop-word density, is never removed (None: off).
GUARD = None
LINE_NAMES = []


def read(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        return f.read()


class Page:
    def __init__(self, pid, source, lines, gold_tokens):
        self.pid, self.source, self.lines = pid, source, lines
        self.gold = collections.Counter(gold_tokens)
        self.gold_total = len(gold_tokens)
        self.rows = []          # indices into the global table, in line order


def labels(lines, gold_text):
    gold = [l.strip() for l in gold_text.split('\n') if l.strip()]
    content = [0] * len(lines)
    m = difflib.SequenceMatcher(None, [l.strip() for l in lines], gold, autojunk=False)
    for a, _, n in m.get_matching_blocks():
        for k in range(n):
            content[a + k] = 1
    return content


def load(sets, features_bin, rules):
    pages, table, names = {}, [], None
    for s in sets:
        cmd = [features_bin, os.path.join(s, 'input'), '--corpus'] + (['--rules', rules] if rules else [])
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split('\n')
        header = out[0].split('\t')
        names = header
        rows = [r.split('\t') for r in out[1:] if r]
        judged = collections.defaultdict(dict)
        for r in rows:
            judged[r[0]][int(r[1])] = r
        for f in sorted(os.listdir(os.path.join(s, 'gold'))):
            if not f.endswith('.txt'):
                continue
            pid = f[:-4]
            lines = read(os.path.join(s, 'input', f)).split('\n')
            gold_text = read(os.path.join(s, 'gold', f))
            page = Page(pid, pid.split('-')[0], lines, gold_text.split())
            content = labels(lines, gold_text)
            # The dump's line index counts the decoded text's lines; the
            # inputs are UTF-8 with \n ends, so they are these lines.
            page.judged = judged.get(pid, {})
            page.content = content
            pages[pid] = page
    return pages, names


def build(pages, names):
    n_line = names.index('score') - 2
    line_names = names[2:2 + n_line]
    context_names = names[2 + n_line:-1]
    X, y, w, meta = [], [], [], []
    for page in pages.values():
        for k in sorted(page.judged):
            r = page.judged[k]
            page.rows.append(len(X))
            X.append([float(v) for v in r[2:2 + n_line]])
            y.append(page.content[k])
            w.append(len(page.lines[k].split()))
            meta.append((page.pid, k))
    return np.array(X), np.array(y, float), np.array(w, float), meta, line_names, context_names


def context(first, words, meta_feature):
    """The engine's context features (crates/engine/src/heuristic/mod.rs, context_features) of one page."""
    n = len(first)
    c = np.zeros((n, 12))
    if n == 0:
        return c
    weight = np.sqrt(words + 1)
    value = (1 / (1 + np.exp(-first)) - 0.5) * weight
    best, region, total, start = -math.inf, (0, 0), 0.0, 0
    for k in range(n):
        if total <= 0:
            total, start = value[k], k
        else:
            total += value[k]
        if total > best:
            best, region = total, (start, k)
    pad = np.r_[[EDGE_SCORE] * 2, first, [EDGE_SCORE] * 2]
    c[:, 0] = first
    c[:, 1] = pad[1:n + 1]
    c[:, 2] = pad[3:n + 3]
    c[:, 3] = pad[0:n]
    c[:, 4] = pad[4:n + 4]
    sw = np.r_[0, np.cumsum(first * weight)]
    ww = np.r_[0, np.cumsum(weight)]
    mm = np.r_[0, np.cumsum(meta_feature)]
    idx = np.arange(n)
    for col, half in ((5, 3), (6, 8)):
        lo, hi = np.maximum(idx - half, 0), np.minimum(idx + half + 1, n)
        c[:, col] = (sw[hi] - sw[lo]) / (ww[hi] - ww[lo])
    lo, hi = np.maximum(idx - 6, 0), np.minimum(idx + 7, n)
    c[:, 7] = (mm[hi] - mm[lo]) / (hi - lo)
    inside = (idx >= region[0]) & (idx <= region[1])
    c[:, 8] = inside
    dist = np.where(inside, 0, np.where(idx < region[0], region[0] - idx, idx - region[1]))
    c[:, 9] = np.log1p(dist)
    c[:, 10] = idx + 1 == region[0]
    c[:, 11] = np.where(inside, (idx - region[0]) / max(region[1] - region[0], 1), 0)
    return c


def standardise(X, w):
    mean = (X * w[:, None]).sum(0) / w.sum()
    scale = np.sqrt(((X - mean) ** 2 * w[:, None]).sum(0) / w.sum())
    scale[scale < 1e-6] = 1.0
    return mean, scale


def fit_logistic(X, y, w, C=1.0):
    mean, scale = standardise(X, w)
    model = LogisticRegression(C=C, max_iter=2000)
    model.fit((X - mean) / scale, y, sample_weight=w / w.mean())
    return mean, scale, model.coef_[0], model.intercept_[0]


def score_lin(X, m):
    mean, scale, coef, bias = m
    return ((X - mean) / scale) @ coef + bias


def page_weights(pages, meta, w, sources):
    """Line weights: word counts, each source summing to the same total."""
    total = collections.Counter()
    src = np.array([pages[p].source for p, _ in meta])
    for s in sources:
        total[s] = w[src == s].sum()
    out = np.array([w[i] / total[src[i]] if src[i] in sources else 0.0 for i in range(len(w))])
    return out * len(w) / max(out.sum(), 1e-9), src


def all_context(pages, first, X, line_names):
    words = np.expm1(X[:, line_names.index('words')])
    meta_col = X[:, line_names.index('comment-meta')]
    C = np.zeros((len(X), 12))
    for page in pages.values():
        r = page.rows
        if r:
            C[r] = context(first[r], words[r], meta_col[r])
    return C


class Model:
    def __init__(self, line, ctx, threshold):
        self.line, self.ctx, self.threshold = line, ctx, threshold


def final_scores(model, pages, X, line_names):
    first = score_lin(X, model.line)
    C = all_context(pages, first, X, line_names)
    return score_lin(C, model.ctx), C


def simulate(pages, ids, z, C, X, line_names, threshold):
    """Per page (tp, output tokens, gold tokens), as score.py counts them."""
    words = np.expm1(X[:, line_names.index('words')])
    out = {}
    for pid in ids:
        page = pages[pid]
        judged = sorted(page.judged)
        r = page.rows
        removed = set()
        if r:
            zz = z[r]
            keep = zz > threshold
            if GUARD:
                gw, gs = GUARD
                x = X[r]
                keep = keep | ((words[r] >= gw - 0.5) & (x[:, LINE_NAMES.index('terminal')] > 0)
                               & (x[:, LINE_NAMES.index('stop-density')] >= gs))
            if not any(keep[i] and words[r[i]] >= PROSE_WORDS - 0.5 for i in range(len(r))):
                keep = keep | (C[r, 8] > 0)
            removed = {judged[i] for i in range(len(r)) if not keep[i]}
        tokens = collections.Counter()
        judged_set = page.judged
        for k, line in enumerate(page.lines):
            if not line.strip():
                continue
            if k in judged_set and k not in removed:
                tokens.update(line.split())
        tp = sum((tokens & page.gold).values())
        out[pid] = (tp, sum(tokens.values()), page.gold_total)
    return out


def figures(counts):
    tp = sum(c[0] for c in counts.values())
    o = sum(c[1] for c in counts.values())
    g = sum(c[2] for c in counts.values())
    P, R = tp / max(o, 1), tp / max(g, 1)
    f1s = []
    for t, oo, gg in counts.values():
        p, r = t / oo if oo else 0, t / gg if gg else 0
        f1s.append(2 * p * r / (p + r) if p + r else 0)
    return P, R, 2 * P * R / (P + R) if P + R else 0, sum(f1s) / len(f1s), sum(1 for c in counts.values() if c[1] == 0)


def best_threshold(pages, sources, z, C, X, line_names):
    """The threshold on final scores `z`, from -3 to 1 in steps of 0.1, with the best macro F1
    averaged over `sources` (each source's pages simulated as the cleaner would)."""
    ids = [p for p in pages if pages[p].source in sources]
    best = None
    for t in np.arange(-3.0, 1.01, 0.1):
        per = simulate(pages, ids, z, C, X, line_names, t)
        macro = np.mean([figures({p: per[p] for p in ids if pages[p].source == s})[3] for s in sources])
        if best is None or macro > best[0]:
            best = (macro, t)
    return best[1]


def fit(pages, X, y, w, meta, line_names, sources, C_reg=1.0, loss_cap=None):
    lw, src = page_weights(pages, meta, w, sources)
    on = lw > 0
    line = fit_logistic(X[on], y[on], lw[on], C_reg)
    first = score_lin(X, line)
    C = all_context(pages, first, X, line_names)
    ctx = fit_logistic(C[on], y[on], lw[on], C_reg)
    z = score_lin(C, ctx)
    return Model(line, ctx, best_threshold(pages, sources, z, C, X, line_names))


def fit_trees(pages, X, y, w, meta, line_names, sources):
    """Trees over the line features and the context features of the linear line model's first
    scores; returns (final scores, context features, threshold), the threshold picked as fit() does."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    lw, _ = page_weights(pages, meta, w, sources)
    on = lw > 0
    first = score_lin(X, fit_logistic(X[on], y[on], lw[on]))
    C = all_context(pages, first, X, line_names)
    F = np.c_[X, C]
    trees = HistGradientBoostingClassifier(max_iter=100, max_depth=4, learning_rate=0.1, l2_regularization=1.0)
    trees.fit(F[on], y[on], sample_weight=lw[on])
    p = np.clip(trees.predict_proba(F)[:, 1], 1e-6, 1 - 1e-6)
    z = np.log(p / (1 - p))
    return z, C, best_threshold(pages, sources, z, C, X, line_names)


def report_trees(name, pages, ids, fitted, X, line_names):
    z, C, threshold = fitted
    P, R, F, M, E = figures(simulate(pages, ids, z, C, X, line_names, threshold))
    print(f'{name:40s} {len(ids):5d} | P {P:.3f} R {R:.3f} F1 {F:.3f} | macro F1 {M:.3f} | empty {E}')


def report(name, pages, ids, model, X, line_names):
    z, C = final_scores(model, pages, X, line_names)
    per = simulate(pages, ids, z, C, X, line_names, model.threshold)
    P, R, F, M, E = figures(per)
    print(f'{name:40s} {len(ids):5d} | P {P:.3f} R {R:.3f} F1 {F:.3f} | macro F1 {M:.3f} | empty {E}')
    return M


def write_pack(path, model, line_names, context_names):
    text = read(path)
    for field, names, m in (('weights', line_names, model.line), ('context-weights', context_names, model.ctx)):
        mean, scale, coef, bias = m
        rows = [f'    ["bias", 0.0, 1.0, {bias:.6g}],']
        rows += [f'    ["{n}", {mu:.6g}, {s:.6g}, {c:.6g}],' for n, mu, s, c in zip(names, mean, scale, coef)]
        block = f'{field} = [\n' + '\n'.join(rows) + '\n]'
        pattern = re.compile(r'^' + re.escape(field) + r' = \[\n(?:    \[.*\],\n)*\]', re.M)
        text = pattern.sub(lambda _: block, text, count=1)
    text = re.sub(r'^threshold = .*$', f'threshold = {model.threshold:.4f}', text, count=1, flags=re.M)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('sets', nargs='+')
    ap.add_argument('--pack', default=os.path.join(ROOT, 'rules', 'heuristics.toml'))
    ap.add_argument('--features', default=os.path.join(ROOT, 'target', 'release', 'examples', 'heuristic_features'))
    ap.add_argument('--rules', help='a pack to dump with (default: the shipped rules)')
    ap.add_argument('--C', type=float, default=1.0, help='inverse L2 strength')
    ap.add_argument('--write', action='store_true')
    ap.add_argument('--loso', action='store_true')
    ap.add_argument('--guard', default='20,0',
                    help='WORDS,STOP_DENSITY of the prose guard the engine applies (SENTENCE_WORDS in '
                         'crates/engine/src/heuristic/mod.rs: 20 words ending as a sentence), or "off"')
    ap.add_argument('--no-fit', action='store_true', help='only simulate the pack as dumped')
    ap.add_argument('--trees', action='store_true', help='also fit gradient-boosted trees, for comparison')
    a = ap.parse_args()
    pages, names = load(a.sets, a.features, a.rules)
    X, y, w, meta, line_names, context_names = build(pages, names)
    global GUARD
    LINE_NAMES.extend(line_names)
    if a.guard != 'off':
        GUARD = tuple(float(v) for v in a.guard.split(','))
    sources = sorted({p.source for p in pages.values()})
    print(f'{len(pages)} pages, {len(X)} judged lines, sources {sources}', file=sys.stderr)
    # Today's pack, simulated, for comparison with what dechaff eval prints.
    final = np.array([float(pages[p].judged[k][-1]) for p, k in meta])
    thr = float(re.search(r'^threshold = (.*)$', read(a.pack), re.M).group(1))
    for s in sources:
        ids = [p for p in pages if pages[p].source == s]
        per = simulate(pages, ids, final, all_context(pages, np.array([float(pages[p].judged[k][2 + len(line_names)]) for p, k in meta]), X, line_names), X, line_names, thr)
        P, R, F, M, E = figures(per)
        print(f'{"pack as dumped: " + s:40s} {len(ids):5d} | P {P:.3f} R {R:.3f} F1 {F:.3f} | macro F1 {M:.3f} | empty {E}')
    if a.no_fit:
        return
    model = fit(pages, X, y, w, meta, line_names, sources, a.C)
    print(f'threshold {model.threshold:.2f}')
    full = {}
    for s in sources:
        ids = [p for p in pages if pages[p].source == s]
        full[s] = report('all sources fit: ' + s, pages, ids, model, X, line_names)
    if a.loso:
        for s in sources:
            held = fit(pages, X, y, w, meta, line_names, [t for t in sources if t != s], a.C)
            ids = [p for p in pages if pages[p].source == s]
            m = report(f'without {s} (thr {held.threshold:.1f}): ' + s, pages, ids, held, X, line_names)
            print(f'   leave-one-source-out gap on {s}: {full[s] - m:+.3f}')
    if a.trees:
        fitted = fit_trees(pages, X, y, w, meta, line_names, sources)
        for s in sources:
            ids = [p for p in pages if pages[p].source == s]
            report_trees('trees, all sources: ' + s, pages, ids, fitted, X, line_names)
        for s in sources if a.loso else []:
            held = fit_trees(pages, X, y, w, meta, line_names, [t for t in sources if t != s])
            ids = [p for p in pages if pages[p].source == s]
            report_trees(f'trees without {s}: ' + s, pages, ids, held, X, line_names)
    if a.write:
        write_pack(a.pack, model, line_names, context_names)
        print(f'wrote {a.pack}', file=sys.stderr)


if __name__ == '__main__':
    main()
