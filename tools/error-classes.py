#!/usr/bin/env python3
"""Where the tokens go: gold removed per rule and shape, chaff kept per shape.

Usage
  tools/error-classes.py DATA_DIR [--dechaff target/release/dechaff] [--out /tmp/ec] [-- CLEAN_ARGS...]

Cleans DATA_DIR/input with `dechaff clean --corpus` (plus CLEAN_ARGS), reads
the provenance, labels every input line content or not by aligning it with
the gold (difflib, as tools/fit-heuristics.py does), and prints, per dataset
(the id's prefix before the first '-') and for all:

- gold tokens removed, by rule, and for the classifier and the comment cuts
  by the removed line's shape (a long sentence, a short line, ...) and place
  (below the last kept line, a hole between kept lines, above the first);
- non-gold tokens kept, by the kept line's place (above the page's first gold line,
  between, below its last) and by its shape.

Python 3 standard library only; CI never runs it.
"""
import argparse
import collections
import difflib
import json
import os
import re
import subprocess
import sys


def read(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        return f.read()


def labels(lines, gold_text):
    gold = [l.strip() for l in gold_text.split('\n') if l.strip()]
    content = [0] * len(lines)
    matcher = difflib.SequenceMatcher(None, [l.strip() for l in lines], gold, autojunk=False)
    for a, _, n in matcher.get_matching_blocks():
        for k in range(n):
            content[a + k] = 1
    return content


def shape(line):
    words = line.split()
    n = len(words)
    if re.match(r'^\(?\d+\)?$', line):
        return 'bare-count'
    if re.match(r'^\d{1,2}[.)]?\s+\S', line) and n <= 25:
        return 'numbered-item'
    if re.search(r'[{};=]\s*$|^\s*(def|function|var|let|int|public|#include|import)\b', line):
        return 'code-like'
    if n >= 20 and re.search(r'[.!?…]["\')\]”’]*$', line):
        return 'sentence-20+'
    if n >= 20:
        return 'long-no-stop'
    if n >= 8 and re.search(r'[.!?…]["\')\]”’]*$', line):
        return 'sentence-8-19'
    if n >= 8:
        return 'headline-8-19'
    if n >= 4:
        return 'short-4-7'
    return 'very-short-1-3'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('data')
    ap.add_argument('--dechaff', default='target/release/dechaff')
    ap.add_argument('--out', default='/tmp/error-classes')
    ap.add_argument('--no-run', action='store_true', help='read an existing --out')
    ap.add_argument('--examples', type=int, default=0, help='print N examples per top class')
    ap.add_argument('rest', nargs='*')
    args = ap.parse_args()
    if not args.no_run:
        subprocess.run(['rm', '-rf', args.out], check=True)
        subprocess.run([args.dechaff, 'clean', os.path.join(args.data, 'input'), '--out', args.out,
                        '--corpus', '-q', '--provenance-text', 'full'] + args.rest, check=True)
    removed_by = {}
    for rec in map(json.loads, open(os.path.join(args.out, 'provenance.jsonl'), encoding='utf-8')):
        if 'source' not in rec:  # the manifest line
            continue
        pid = os.path.basename(rec['source'])[:-4]
        removed_by[pid] = [(r['rule'], r['lines'][0], r['lines'][1]) for r in rec.get('removed', [])]
    lost = collections.defaultdict(collections.Counter)   # dataset -> (rule, class) -> tokens
    kept = collections.defaultdict(collections.Counter)   # dataset -> shape -> tokens
    kept_place = collections.defaultdict(collections.Counter)   # dataset -> place -> tokens
    examples = collections.defaultdict(list)
    for pid in sorted(removed_by):
        ds = pid.split('-')[0]
        lines = read(os.path.join(args.data, 'input', pid + '.txt')).split('\n')
        content = labels(lines, read(os.path.join(args.data, 'gold', pid + '.txt')))
        rule_of = [None] * len(lines)
        for rule, a, b in removed_by[pid]:
            for i in range(a - 1, min(b, len(lines))):
                rule_of[i] = rule
        kept_idx = [i for i, l in enumerate(lines) if l.strip() and rule_of[i] is None]
        first_kept, last_kept = (kept_idx[0], kept_idx[-1]) if kept_idx else (len(lines), -1)
        gold_idx = [i for i, l in enumerate(lines) if l.strip() and content[i]]
        first_gold, last_gold = (gold_idx[0], gold_idx[-1]) if gold_idx else (len(lines), -1)
        for i, line in enumerate(lines):
            t = line.strip()
            if not t:
                continue
            n = len(t.split())
            if content[i] and rule_of[i] is not None:
                place = 'below' if i > last_kept else ('above' if i < first_kept else 'hole')
                key = (rule_of[i], shape(t), place)
                for d in (ds, 'all'):
                    lost[d][key] += n
                examples[('lost',) + key].append((pid, t[:120]))
            elif not content[i] and rule_of[i] is None:
                place = 'below' if i > last_gold else ('above' if i < first_gold else 'between')
                for d in (ds, 'all'):
                    kept[d][shape(t)] += n
                    kept_place[d][place] += n
                examples[('kept', shape(t))].append((pid, t[:120]))
    for ds in sorted(lost.keys() | kept.keys()):
        print(f'== {ds}')
        by_rule = collections.Counter()
        for (rule, _, _), n in lost[ds].items():
            by_rule[rule] += n
        print('  gold tokens removed, by rule:', sum(by_rule.values()))
        for rule, n in by_rule.most_common(12):
            print(f'    {n:8d}  {rule}')
        print('  gold tokens removed, by rule, shape, place (top 15):')
        for key, n in lost[ds].most_common(15):
            print(f'    {n:8d}  {key[0]:40s} {key[1]:16s} {key[2]}')
            for pid, t in examples[('lost',) + key][:args.examples]:
                print(f'              {pid}: {t}')
        print('  non-gold tokens kept, by place (above the first gold line, between, below the last):',
              ', '.join(f'{p} {kept_place[ds][p]}' for p in ('above', 'between', 'below')))
        print('  non-gold tokens kept, by shape:', sum(kept[ds].values()))
        for sh, n in kept[ds].most_common():
            print(f'    {n:8d}  {sh}')
            for pid, t in examples[('kept', sh)][:args.examples]:
                print(f'              {pid}: {t}')


if __name__ == '__main__':
    main()
