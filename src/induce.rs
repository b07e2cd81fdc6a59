//! `dechaff induce`: the lines that recur across a group's documents, written
//! as a candidate rule pack for a person to review.
//!
//! Corpus mode removes recurring lines on the fly but forgets them; induce
//! keeps them. It counts exactly as corpus mode does (same normalisation,
//! same groups, same `min-docs`), then reads the inputs a second time to
//! collect, for the most widely shared lines only, how they were spelt and
//! where they were seen. Each becomes one `line` rule: a pattern as tolerant
//! as the normalisation (any case, any digits, any punctuation or spacing
//! between the words), the spellings seen as `must-match` examples, and the
//! line inside a longer sentence as `must-not-match`. Every rule is loaded
//! and its examples run through the real engine before it is written; a
//! pattern that fails falls back to the literal lines seen. So the pack
//! always passes `dechaff rules check` and `dechaff rules test`.
//!
//! Everything written is chosen deterministically: candidates in order of
//! document count (then group name, then normalised text), the
//! lexicographically smallest spellings and sources, so two runs over the
//! same inputs write the same bytes whatever the thread count or input order.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write;
use std::sync::Mutex;

use rayon::prelude::*;

use dechaff_engine::corpus::{line_key, normalize, tolerant_pattern, CorpusSettings, GroupKey};
use dechaff_engine::fold;
use dechaff_engine::rules::{RuleSetBuilder, DEFAULT_MAX_LINE_LENGTH, MAX_LINE_LENGTH_LIMIT};
use dechaff_engine::CleanerBuilder;
use dechaff_run::corpus_pass::{count_recurring_lines, for_each_document};
use dechaff_run::plan::{Plan, RunConfig};
use dechaff_run::{Error, ErrorKind, Result};

/// Spellings of one line kept as `must-match` examples.
const MAX_VARIANTS: usize = 3;
/// Example sources named in a rule's description.
const MAX_SOURCES: usize = 3;

/// What `dechaff induce` mines and writes.
#[derive(Debug, Clone)]
pub struct InduceSettings {
    /// Counting and grouping, as in corpus mode (`max_doc_share` is not used).
    pub corpus: CorpusSettings,
    /// The most rules to write.
    pub limit: usize,
    /// The name of the pack written; rule ids are `NAME.<group>-<line>`.
    pub pack_name: String,
}

/// One recurring line of one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The group's name (a directory, a host).
    pub group: String,
    /// Documents of the group holding the line.
    pub documents: u32,
    /// Documents in the group.
    pub group_documents: u32,
    /// The line's normalised form.
    pub normalized: String,
    /// The smallest spellings seen (trimmed lines), in byte order.
    pub variants: Vec<String>,
    /// The smallest sources holding it, in byte order.
    pub sources: Vec<String>,
}

/// The result of mining: the pack's text and what went into it.
#[derive(Debug, Clone)]
pub struct Induced {
    /// The candidate pack, TOML.
    pub pack: String,
    /// Rules written.
    pub rules: usize,
    /// Rules written with literals because the tolerant pattern failed its examples.
    pub literal_rules: usize,
    /// Recurring lines found (before `limit`).
    pub recurring: usize,
    /// Documents counted.
    pub documents: u32,
    /// Groups counted.
    pub groups: usize,
}

/// What the second pass gathers for one recurring line.
#[derive(Debug)]
struct Gathered {
    group: GroupKey,
    documents: u32,
    variants: BTreeSet<String>,
    sources: BTreeSet<String>,
}

/// Keeps the `max` smallest values: the same result whatever the order of insertion.
fn keep_smallest(set: &mut BTreeSet<String>, value: &str, max: usize) {
    if set.len() >= max && set.last().is_some_and(|last| last.as_str() <= value) {
        return;
    }
    set.insert(value.to_string());
    if set.len() > max {
        set.pop_last();
    }
}

/// Mines the inputs of `plan` on `config.jobs` workers and writes the candidate pack.
pub fn induce(plan: &Plan, config: &RunConfig, settings: &InduceSettings) -> Result<Induced> {
    settings
        .corpus
        .validate()
        .map_err(|m| Error::usage(format!("induce: {m}")))?;
    if settings.limit == 0 {
        return Err(Error::usage("induce: --limit must be at least 1"));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.jobs.max(1))
        .build()
        .map_err(|e| Error::new(ErrorKind::Threads(format!("cannot start worker threads: {e}"))))?;
    let first = pool.install(|| count_recurring_lines(plan, config, &settings.corpus))?;
    let counts = &first.counts;
    let min_docs = settings.corpus.min_docs;

    // Only the lines that can make the cut are gathered in the second pass:
    // those at or above the count of the `limit`-th most shared line.
    let mut recurring: Vec<u32> = counts.counts().map(|(_, n)| n).filter(|&n| n >= min_docs).collect();
    let recurring_total = recurring.len();
    recurring.sort_unstable_by(|a, b| b.cmp(a));
    let cutoff = recurring.get(settings.limit - 1).copied().unwrap_or(min_docs);

    let gathered: Mutex<HashMap<u64, Gathered>> = Mutex::new(HashMap::new());
    pool.install(|| {
        plan.jobs
            .par_iter()
            .for_each_init(Vec::new, |local: &mut Vec<(u64, u32, (usize, usize))>, job| {
                for_each_document(job, config, |document| {
                    let Some(group) = first.group_of(document) else {
                        return;
                    };
                    let text = document.text.as_str();
                    local.clear();
                    let mut offset = 0;
                    for line in text.split('\n') {
                        let start = offset;
                        offset += line.len() + 1;
                        let key = line_key(line);
                        if key.chars < settings.corpus.min_chars || key.chars == 0 {
                            continue;
                        }
                        let documents = counts.count_of(group, key.hash);
                        if documents >= cutoff {
                            let trimmed = trim(line);
                            let at = start + (trimmed.as_ptr() as usize - line.as_ptr() as usize);
                            local.push((group.line(key.hash), documents, (at, at + trimmed.len())));
                        }
                    }
                    let source = dechaff_run::input::display_source(&document.source);
                    let mut gathered = gathered.lock().unwrap_or_else(|e| e.into_inner());
                    for &(key, documents, (start, end)) in local.iter() {
                        let entry = gathered.entry(key).or_insert_with(|| Gathered {
                            group,
                            documents,
                            variants: BTreeSet::new(),
                            sources: BTreeSet::new(),
                        });
                        keep_smallest(&mut entry.variants, &text[start..end], MAX_VARIANTS);
                        keep_smallest(&mut entry.sources, &source, MAX_SOURCES);
                    }
                });
            });
    });

    let names: HashMap<GroupKey, &str> = first.group_names.iter().map(|(k, n)| (*k, n.as_str())).collect();
    let mut candidates: Vec<Candidate> = gathered
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_values()
        .map(|g| Candidate {
            group: names.get(&g.group).copied().unwrap_or_default().to_string(),
            documents: g.documents,
            group_documents: counts.documents(g.group),
            normalized: normalize(g.variants.first().map_or("", String::as_str)),
            variants: g.variants.into_iter().collect(),
            sources: g.sources.into_iter().collect(),
        })
        .collect();
    candidates.sort_by(|a, b| {
        b.documents
            .cmp(&a.documents)
            .then_with(|| a.group.cmp(&b.group))
            .then_with(|| a.normalized.cmp(&b.normalized))
    });
    candidates.truncate(settings.limit);

    let documents = first.group_names.iter().map(|(key, _)| counts.documents(*key)).sum();
    let mut induced = render_pack(&candidates, settings, documents, first.group_names.len())?;
    induced.recurring = recurring_total;
    Ok(induced)
}

/// The line without blank characters at either end.
fn trim(line: &str) -> &str {
    line.trim_matches(fold::is_blank)
}

/// Writes the candidates as a pack, checking every rule as it goes.
pub fn render_pack(
    candidates: &[Candidate],
    settings: &InduceSettings,
    documents: u32,
    groups: usize,
) -> Result<Induced> {
    let name = &settings.pack_name;
    let mut pack = String::new();
    let _ = writeln!(
        pack,
        "# Candidate rules mined by `dechaff induce`: lines held by at least {} documents of their group.\n\
         # Review every rule before adding the pack with --rules: a recurring line can be article text\n\
         # (a recipe's \"Ingredients\", a series' standing paragraph). Rules apply to every document, not\n\
         # only to the group they were mined from.",
        settings.corpus.min_docs
    );
    let _ = writeln!(pack, "[pack]\nname = {}\nversion = \"1\"", toml_string(name));
    let _ = writeln!(
        pack,
        "description = {}\n",
        toml_string(&format!(
            "Lines recurring in at least {} documents of a group (group by {}, lines of at least {} normalised \
             characters), mined by dechaff induce from {documents} documents in {groups} groups",
            settings.corpus.min_docs, settings.corpus.group_by, settings.corpus.min_chars
        ))
    );
    let header = pack.clone();
    let mut used_ids: HashSet<String> = HashSet::new();
    let (mut rules, mut literal_rules) = (0, 0);
    for candidate in candidates {
        let id = unique_id(name, candidate, &mut used_ids);
        let mut written = None;
        for literal in [false, true] {
            let rule = rule_text(&id, candidate, literal);
            let single = format!("{header}{rule}");
            let passes = RuleSetBuilder::new()
                .no_default_rules(true)
                .add_text("<induced>", single)
                .build()
                .and_then(|set| set.test_examples())
                .is_ok_and(|failures| failures.is_empty());
            if passes {
                written = Some((rule, literal));
                break;
            }
        }
        // A line that neither form can match as the engine sees it (none
        // seen so far) is left out rather than written broken.
        if let Some((rule, literal)) = written {
            pack.push_str(&rule);
            rules += 1;
            literal_rules += usize::from(literal);
        }
    }
    // Each rule passed alone; the pack must also compile as a whole.
    let set = RuleSetBuilder::new()
        .no_default_rules(true)
        .add_text("<induced>", pack.clone())
        .build()?;
    CleanerBuilder::new().build(set)?;
    Ok(Induced {
        pack,
        rules,
        literal_rules,
        recurring: candidates.len(),
        documents,
        groups,
    })
}

/// One `[[rule]]` table.
fn rule_text(id: &str, candidate: &Candidate, literal: bool) -> String {
    let mut out = String::new();
    let sources = candidate.sources.join(", ");
    let _ = writeln!(out, "[[rule]]\nid = {}", toml_string(id));
    let _ = writeln!(
        out,
        "description = {}",
        toml_string(&format!(
            "Recurs in {} of {} documents of group {:?}, e.g. {sources}",
            candidate.documents, candidate.group_documents, candidate.group
        ))
    );
    if literal {
        let _ = writeln!(out, "literals = {}", toml_array(&candidate.variants));
    } else {
        let _ = writeln!(out, "pattern = '{}'", tolerant_pattern(&candidate.variants[0]));
    }
    let longest = candidate
        .variants
        .iter()
        .map(|v| {
            let mut key = String::new();
            fold::fold_into(v, &mut key, usize::MAX);
            key.len()
        })
        .max()
        .unwrap_or(0);
    if longest > DEFAULT_MAX_LINE_LENGTH {
        let _ = writeln!(out, "max-length = {}", (longest + 64).min(MAX_LINE_LENGTH_LIMIT));
    }
    let _ = writeln!(out, "must-match = {}", toml_array(&candidate.variants));
    let embedded = format!(
        "Readers quoted {} in a longer sentence about it.",
        candidate.variants[0]
    );
    let _ = writeln!(out, "must-not-match = {}\n", toml_array(&[embedded]));
    out
}

/// `PACK.<group>-<line>`, made unique with a counter.
fn unique_id(pack: &str, candidate: &Candidate, used: &mut HashSet<String>) -> String {
    let group_part = candidate
        .group
        .rsplit(['/', '\\'])
        .find(|part| !part.is_empty())
        .map(|part| slug(part, 24))
        .unwrap_or_default();
    let line_part = slug(&candidate.normalized, 40);
    let line_part = if line_part.is_empty() {
        format!(
            "line-{:08x}",
            dechaff_engine::corpus::line_hash(&candidate.normalized) >> 32
        )
    } else {
        line_part
    };
    let base = if group_part.is_empty() {
        format!("{pack}.{line_part}")
    } else {
        format!("{pack}.{group_part}-{line_part}")
    };
    let mut id = base.clone();
    let mut n = 2;
    while !used.insert(id.clone()) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

/// Lowercase ASCII letters and digits of `text`, other runs as one `-`, at
/// most `max` bytes, cut at a `-`.
fn slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    if out.len() > max {
        let cut = out[..max].rfind('-').unwrap_or(max);
        out.truncate(cut);
    }
    out.trim_matches('-').to_string()
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML array of basic strings.
fn toml_array(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| toml_string(s)).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(variants: &[&str]) -> Candidate {
        Candidate {
            group: "in/site-a".into(),
            documents: 5,
            group_documents: 9,
            normalized: normalize(variants[0]),
            variants: variants.iter().map(|v| v.to_string()).collect(),
            sources: vec!["in/site-a/1.txt".into(), "in/site-a/2.txt".into()],
        }
    }

    fn settings() -> InduceSettings {
        InduceSettings {
            corpus: CorpusSettings::default(),
            limit: 10,
            pack_name: "induced".into(),
        }
    }

    #[test]
    fn a_pack_of_candidates_loads_and_passes_its_examples() {
        let candidates = [
            candidate(&["Copyright © 2012 Site Inc.", "Copyright © 2013 Site Inc."]),
            candidate(&["Home | News | Sport"]),
            candidate(&["Home | News | Sport"]),
            candidate(&["Москва — новости"]),
            candidate(&["\"Quoted\" \\ back\tslash"]),
        ];
        let induced = render_pack(&candidates, &settings(), 20, 2).unwrap();
        assert_eq!(induced.rules, 5, "{}", induced.pack);
        let set = RuleSetBuilder::new()
            .no_default_rules(true)
            .add_text("induced.toml", induced.pack.clone())
            .build()
            .unwrap();
        assert!(set.test_examples().unwrap().is_empty());
        let ids: Vec<&str> = set.rules().iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids[0], "induced.site-a-copyright-0-site-inc");
        assert_eq!(ids[1], "induced.site-a-home-news-sport");
        assert_eq!(ids[2], "induced.site-a-home-news-sport-2");
        // Nothing ASCII to name a Cyrillic line by: its hash does.
        assert!(ids[3].starts_with("induced.site-a-line-"), "{}", ids[3]);
        assert_eq!(ids[4], "induced.site-a-quoted-back-slash");
        assert!(induced
            .pack
            .contains("Recurs in 5 of 9 documents of group \\\"in/site-a\\\""));
    }

    #[test]
    fn smallest_values_are_kept_whatever_the_order() {
        let values = ["d", "b", "e", "a", "c"];
        let mut forward = BTreeSet::new();
        let mut backward = BTreeSet::new();
        for v in values {
            keep_smallest(&mut forward, v, 3);
        }
        for v in values.iter().rev() {
            keep_smallest(&mut backward, v, 3);
        }
        assert_eq!(forward, backward);
        assert_eq!(forward.into_iter().collect::<Vec<_>>(), ["a", "b", "c"]);
    }

    #[test]
    fn slugs_are_valid_id_segments() {
        assert_eq!(slug("All Rights Reserved!", 40), "all-rights-reserved");
        assert_eq!(slug("www.example.com", 24), "www-example-com");
        assert_eq!(slug("a very long line of many words indeed", 12), "a-very-long");
        assert_eq!(slug("Москва", 40), "");
    }
}
