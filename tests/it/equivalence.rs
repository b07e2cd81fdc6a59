//! One set of documents through every path, against the library.
//!
//! After ripgrep's `searcher/src/testutil.rs`: a rich set of documents (the
//! seeds, a page for every shipped rule built from its own `must-match`
//! examples in generated prose, non-ASCII scripts, CRLF and lone CR line
//! ends, no final newline, empty, blank-only and boilerplate-only documents,
//! a megabyte line, twenty thousand short lines) is cleaned by the library,
//! which is the reference, and then by every way the binary can take it in
//! and give it back: text files with one worker and two, gzip and zstd text
//! files, JSONL shards plain, gzip and zstd, WARC files plain, gzip per
//! record and zstd, standard input to standard output, and attribute files.
//! Each path must keep the same text and account for the same removed
//! spans (byte offsets into the decoded text, rule id, action) and
//! whitespace spans as the library, document for document.
//!
//! The paths are a table of [`CodePath`]s, each a function from the
//! documents to what it made of them, so that a new way through dechaff is
//! one more row. A second table runs corpus mode, against the library with
//! the corpus counted in process; a third feeds a shard long enough that
//! the record streams cut it into batches by bytes and by record count,
//! so that documents on both sides of each cut are checked.
//!
//! No document starts with a byte-order mark: a text file's is stripped by
//! decoding while a JSONL string keeps it, so the paths rightly differ there.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use serde_json::{json, Value};

use crate::io_formats::{compress_like, dechaff_with_stdin, read_decompressed};
use crate::util::{dechaff_in, files_under, provenance, seeds_dir, temp_dir, write};

/// One document of the set.
#[derive(Debug, Clone)]
pub struct Doc {
    /// What the document is, for messages.
    pub name: String,
    /// Its text, as every path is given it (UTF-8, so every decoder leaves it as it is).
    pub text: String,
}

/// What a path made of one document.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The kept text.
    pub kept: String,
    /// The spans removed by rules, in input order.
    pub removed: Vec<Span>,
    /// The byte ranges dropped by whitespace normalisation, in input order.
    pub whitespace: Vec<(usize, usize)>,
}

/// One removed span.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// Start, in bytes of the decoded text.
    pub start: usize,
    /// End (exclusive), in bytes of the decoded text.
    pub end: usize,
    /// The rule's id.
    pub rule: String,
    /// The action recorded; `None` where the path does not say it (attribute files).
    pub action: Option<String>,
}

/// One way through dechaff: a name for messages and a function from the
/// documents to what it made of each, in the documents' order.
pub struct CodePath {
    /// What the path is, e.g. `JSONL shard, gzip, -j2`.
    pub name: &'static str,
    /// Runs the path over the documents.
    pub run: fn(&[Doc]) -> Vec<Outcome>,
}

// ---------------------------------------------------------------------------
// The documents

/// A small deterministic generator (a 64-bit LCG's high bits): the same set on every run.
struct Dice(u64);

impl Dice {
    fn new(seed: u64) -> Dice {
        Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const SUBJECTS: &[&str] = &[
    "The council",
    "The harbour master",
    "Residents of the old quarter",
    "The minister for transport",
    "A spokeswoman for the company",
    "Farmers in the valley",
    "The school board",
    "Engineers from the water board",
    "The mayor",
    "Two of the three judges",
];
const VERBS: &[&str] = &[
    "said on Tuesday that",
    "told reporters after the meeting that",
    "argued in a long letter that",
    "warned last week that",
    "agreed in principle that",
    "wrote in the annual report that",
];
const CLAUSES: &[&str] = &[
    "the new budget would pay for repairs to the sea wall",
    "the bridge would stay closed until the end of the summer",
    "prices for bread and milk had risen faster than wages",
    "the trains to the coast would run every hour from May",
    "the plan had been changed twice since the spring",
    "the river had reached its highest level in forty years",
    "more families were moving to the villages along the valley",
    "the museum would open its new wing to the public in June",
];
const TAILS: &[&str] = &[
    "",
    " after a debate that lasted most of the afternoon",
    " despite the doubts of some of its members",
    " although the final figures are not yet known",
    " and that more details would follow in the coming weeks",
    " because the old system could no longer cope",
];
const TITLES: &[&str] = &[
    "Council backs the plan for a new sea wall",
    "Bridge to stay closed all summer",
    "Prices rise faster than wages, report says",
    "Coastal trains to run every hour",
    "River reaches its highest level in forty years",
    "Museum opens its new wing in June",
];

/// One sentence of article prose.
fn sentence(dice: &mut Dice) -> String {
    format!(
        "{} {} {}{}.",
        dice.pick(SUBJECTS),
        dice.pick(VERBS),
        dice.pick(CLAUSES),
        dice.pick(TAILS)
    )
}

/// A paragraph of one or two sentences, on one line.
fn paragraph(dice: &mut Dice) -> String {
    let mut line = sentence(dice);
    if dice.below(2) == 0 {
        line.push(' ');
        line.push_str(&sentence(dice));
    }
    line
}

/// `n` paragraphs, each followed by a blank line.
fn prose(dice: &mut Dice, n: usize) -> String {
    (0..n).map(|_| paragraph(dice) + "\n\n").collect()
}

/// A line on every third rule page and every mixed page, for corpus mode to find.
const RECURRING: &str = "Read the Harbour Gazette every morning for the news from the coast";

/// One page per shipped rule with examples, built from the rule's own
/// `must-match` examples set in generated prose, each where the rule's
/// position window lets it act: first for a rule that acts only near the
/// top, last for a tail rule or one that acts only near the bottom, between
/// paragraphs otherwise.
fn rule_pages() -> Vec<Doc> {
    use dechaff_engine::rules::RuleKind;
    let rules = dechaff_engine::RuleSet::shipped().expect("the shipped rules load");
    let mut pages = Vec::new();
    for (i, rule) in rules.rules().iter().enumerate() {
        let examples: Vec<&str> = rule.must_match.iter().map(|e| e.text.as_str()).collect();
        if examples.is_empty() || rule.kind == RuleKind::Corpus {
            continue;
        }
        let mut dice = Dice::new(i as u64);
        let title = format!("{}\n\n", dice.pick(TITLES));
        let at_top = rule.max_position.is_some_and(|p| p < 0.5);
        let at_bottom =
            rule.kind == RuleKind::Tail || rule.min_position.is_some() || rule.id.contains("comment-thread");
        let mut page = String::new();
        if at_top {
            page.push_str(examples[0]);
            page.push('\n');
            page.push_str(&title);
            page.push_str(&prose(&mut dice, 5));
        } else if at_bottom {
            page.push_str(&title);
            page.push_str(&prose(&mut dice, 6));
            page.push_str(examples[0]);
            page.push('\n');
            if rule.kind == RuleKind::Tail {
                page.push_str("Posted in News\n");
            }
        } else {
            page.push_str(&title);
            for example in examples.iter().take(4) {
                page.push_str(&prose(&mut dice, 2));
                page.push_str(example);
                page.push('\n');
            }
            page.push_str(&prose(&mut dice, 2));
        }
        if i % 3 == 0 {
            page.push_str(RECURRING);
            page.push('\n');
        }
        pages.push(Doc {
            name: format!("rule page {}", rule.id),
            text: page,
        });
    }
    pages
}

/// Every one-line example of every line rule that acts anywhere on a page:
/// the lines the packs exist to remove.
fn boilerplate_lines() -> Vec<String> {
    let rules = dechaff_engine::RuleSet::shipped().expect("the shipped rules load");
    rules
        .rules()
        .iter()
        .filter(|r| {
            r.kind == dechaff_engine::rules::RuleKind::Line && r.min_position.is_none() && r.max_position.is_none()
        })
        .flat_map(|r| r.must_match.iter().map(|e| e.text.clone()))
        .filter(|text| !text.contains('\n'))
        .collect()
}

/// Pages that mix several packs, as a scraped page does: a masthead, a
/// navigation list, prose with boilerplate lines between paragraphs, and a
/// footer.
fn mixed_pages(lines: &[String]) -> Vec<Doc> {
    (0..12)
        .map(|i| {
            let mut dice = Dice::new(1000 + i as u64);
            let mut page = String::new();
            for _ in 0..3 {
                page.push_str(&lines[dice.below(lines.len())]);
                page.push('\n');
            }
            page.push_str(dice.pick(TITLES));
            page.push_str("\n\n");
            for _ in 0..6 {
                page.push_str(&paragraph(&mut dice));
                page.push('\n');
                if dice.below(2) == 0 {
                    page.push_str(&lines[dice.below(lines.len())]);
                    page.push('\n');
                }
            }
            page.push_str(RECURRING);
            page.push('\n');
            Doc {
                name: format!("mixed page {i}"),
                text: page,
            }
        })
        .collect()
}

/// Documents in other scripts, with boilerplate lines among them so that
/// removals stand after multi-byte characters.
fn non_ascii_docs() -> Vec<Doc> {
    let docs = [
        (
            "accents",
            "Le conseil municipal a voté mardi le nouveau budget du port, après un débat de trois heures.\n\
             Partager cet article\n\
             Les habitants du vieux quartier craignent que les loyers augmentent encore cet été.\n\
             Élodie Müller, déléguée syndicale, a déclaré que « la décision était attendue depuis longtemps ».\n\
             Share This\n\
             Über die Brücke fahren täglich mehr als zwölftausend Autos, sagte der Bürgermeister.\n",
        ),
        (
            "combining marks and invisible characters",
            "Cafe\u{301} society met at the harbour\u{a0}on Tuesday, the organisers said.\n\
             Share\u{200b} This\n\
             A\u{2028}line separator and a byte order mark \u{feff} stand inside this sentence.\n\
             Zero\u{200d}width joiners and soft\u{ad}hyphens do not end a line.\n\
             Share This\n",
        ),
        (
            "CJK",
            "市议会周二通过了港口的新预算，经过三个小时的辩论。\n\
             分享到微博\n\
             市議会は火曜日、港の新しい予算を三時間の議論の末に承認した。\n\
             Share This\n\
             시의회는 화요일 항구의 새 예산을 승인했다고 밝혔다.\n\
             住民たちは夏に家賃がさらに上がることを心配している。\n\
             Tweet\n",
        ),
        (
            "emoji",
            "The festival drew 🎉 thousands of visitors 🌊 to the harbour on Saturday 👍, the organisers said.\n\
             👍 ❤️ 😂 🔥\n\
             Share This\n\
             Families 👨‍👩‍👧‍👦 came from the valley 🏔️ and the coast 🏖️ for the fireworks over the water.\n\
             Follow us on Twitter\n",
        ),
        (
            "right to left",
            "وافق المجلس البلدي يوم الثلاثاء على الميزانية الجديدة للميناء بعد نقاش طويل.\n\
             شارك الخبر\n\
             מועצת העיר אישרה ביום שלישי את התקציב החדש של הנמל לאחר דיון ארוך.\n\
             Share This\n\
             وقال رئيس البلدية إن الجسر سيبقى مغلقا حتى نهاية الصيف، مضيفا أن الأعمال ستبدأ قريبا.\n\
             \u{200f}مشاركة\n",
        ),
        (
            "Cyrillic",
            "Городской совет во вторник утвердил новый бюджет порта после долгих споров.\n\
             Поделиться\n\
             Жители старого квартала опасаются, что летом арендная плата снова вырастет.\n\
             Читайте также\n",
        ),
    ];
    docs.into_iter()
        .map(|(name, text)| Doc {
            name: name.to_string(),
            text: text.to_string(),
        })
        .collect()
}

/// Line ends, edges and sizes that a reader, a decoder or a splitter could get wrong.
fn shape_docs(lines: &[String]) -> Vec<Doc> {
    let mut dice = Dice::new(77);
    let page = format!(
        "{}\n\n{}Share This\n{}Follow us on Twitter\n\n",
        TITLES[0],
        prose(&mut dice, 3),
        prose(&mut dice, 2)
    );
    let mut docs = vec![
        ("CRLF line ends", page.replace('\n', "\r\n")),
        (
            "CRLF and LF mixed",
            page.lines()
                .enumerate()
                .map(|(i, l)| format!("{l}{}", if i % 2 == 0 { "\r\n" } else { "\n" }))
                .collect(),
        ),
        ("lone CR line ends", page.replace('\n', "\r")),
        (
            "lone CR inside lines",
            format!(
                "{}\nShare\rThis\nShare This\r\n\r\r\n{}",
                paragraph(&mut dice),
                paragraph(&mut dice)
            ),
        ),
        ("no final newline, boilerplate last", page.trim_end().to_string()),
        (
            "no final newline, prose last",
            format!("{}Share This\n{}", prose(&mut dice, 2), paragraph(&mut dice)),
        ),
        ("empty", String::new()),
        ("one newline", "\n".to_string()),
        ("blank lines only", " \n\n\t\n  \r\n\n".to_string()),
        (
            "boilerplate only",
            lines.iter().take(30).map(|l| format!("{l}\n")).collect(),
        ),
        ("one boilerplate line, no newline", "Share This".to_string()),
        (
            "blank runs and trailing spaces",
            format!(
                "\n\n\n  {}  \n\n\n\n\t{}\t\nShare This   \n\n\n\n{}\n\n\n",
                paragraph(&mut dice),
                paragraph(&mut dice),
                paragraph(&mut dice)
            ),
        ),
    ];
    // A megabyte on one line, with share labels inside it and after it.
    let mut long = String::from("A very long line\n\n");
    while long.len() < 1 << 20 {
        long.push_str(&sentence(&mut dice));
        long.push(' ');
        if dice.below(40) == 0 {
            long.push_str("Share this article. ");
        }
    }
    long.push_str("\nShare This\n");
    docs.push(("a megabyte line", long));
    // Twenty thousand short lines: words, menu items, numbers, blanks.
    let shorts = [
        "Home", "a", "", "12", "News", "ok.", "Share", "More »", "—", "Yes", " ", "Sport",
    ];
    let many: String = (0..20_000)
        .map(|i| format!("{}\n", shorts[(i * 7 + i / 13) % shorts.len()]))
        .collect();
    docs.push(("twenty thousand short lines", many));
    docs.into_iter()
        .map(|(name, text)| Doc {
            name: name.to_string(),
            text,
        })
        .collect()
}

/// The seeds: real scraped pages shipped with the repository.
fn seed_docs() -> Vec<Doc> {
    let mut paths: Vec<_> = fs::read_dir(seeds_dir())
        .expect("seeds/ is readable")
        .map(|e| e.expect("a seeds/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "seeds/ holds pages");
    paths
        .into_iter()
        .map(|p| Doc {
            name: format!("seed {}", p.file_name().unwrap().to_string_lossy()),
            text: fs::read_to_string(&p).expect("a seed is UTF-8"),
        })
        .collect()
}

/// The whole set.
fn documents() -> Vec<Doc> {
    let lines = boilerplate_lines();
    let mut docs = seed_docs();
    docs.extend(rule_pages());
    docs.extend(mixed_pages(&lines));
    docs.extend(non_ascii_docs());
    docs.extend(shape_docs(&lines));
    docs
}

// ---------------------------------------------------------------------------
// The reference

/// What the library made of one document, in the terms the paths are read in.
fn outcome_of(cleaned: &dechaff_engine::Cleaned, rules: &dechaff_engine::RuleSet) -> Outcome {
    Outcome {
        kept: cleaned.text.clone(),
        removed: cleaned
            .removals()
            .iter()
            .map(|r| Span {
                start: r.bytes.start,
                end: r.bytes.end,
                rule: rules.rules()[r.rule].id.clone(),
                action: Some(rules.rules()[r.rule].action().to_string()),
            })
            .collect(),
        whitespace: cleaned.whitespace().iter().map(|w| (w.start, w.end)).collect(),
    }
}

/// The library: one cleaner over the shipped rules, reused for every document.
fn library(docs: &[Doc]) -> Vec<Outcome> {
    let rules = dechaff_engine::RuleSet::shipped().expect("the shipped rules load");
    let mut cleaner = dechaff_engine::CleanerBuilder::new()
        .build(rules)
        .expect("the cleaner builds");
    let rules = cleaner.shared_rules();
    // A long set repeats its documents: each distinct text is cleaned once.
    let mut seen: HashMap<&str, Outcome> = HashMap::new();
    docs.iter()
        .map(|doc| {
            seen.entry(doc.text.as_str())
                .or_insert_with(|| outcome_of(&cleaner.clean(&doc.text), &rules))
                .clone()
        })
        .collect()
}

/// The library in corpus mode with the default settings, every document in
/// one group: the counts taken over the whole set first, as the first pass does.
fn library_corpus(docs: &[Doc]) -> Vec<Outcome> {
    use dechaff_engine::corpus::{CorpusCounter, CorpusSettings, GroupKey};
    let settings = CorpusSettings::default();
    let rules = dechaff_engine::RuleSetBuilder::new()
        .corpus(settings.clone())
        .build()
        .expect("the rules load");
    let mut cleaner = dechaff_engine::CleanerBuilder::new()
        .build(rules)
        .expect("the cleaner builds");
    let rules = cleaner.shared_rules();
    let group = GroupKey::of("the one group");
    let counter = CorpusCounter::new(settings.min_chars);
    let mut keys = Vec::new();
    for doc in docs {
        counter.add_document(group, &doc.text, &mut keys);
    }
    let counts = counter.finish();
    let evidence = counts.evidence(Some(group));
    docs.iter()
        .map(|doc| outcome_of(&cleaner.clean_with(&doc.text, &evidence), &rules))
        .collect()
}

// ---------------------------------------------------------------------------
// Reading what the binary wrote

/// The removed and whitespace spans of a provenance record (or of the
/// record embedded in an output line, which has the same fields).
fn spans_of(record: &Value) -> (Vec<Span>, Vec<(usize, usize)>) {
    let number = |v: &Value| v.as_u64().expect("an offset is a number") as usize;
    let removed = record["removed"]
        .as_array()
        .unwrap_or_else(|| panic!("no removed spans in {record}"))
        .iter()
        .map(|r| Span {
            start: number(&r["bytes"][0]),
            end: number(&r["bytes"][1]),
            rule: r["rule"].as_str().expect("a rule id").to_string(),
            action: Some(r["action"].as_str().expect("an action").to_string()),
        })
        .collect();
    let whitespace = record["whitespace"]
        .as_array()
        .unwrap_or_else(|| panic!("no whitespace spans in {record}"))
        .iter()
        .map(|w| (number(&w[0]), number(&w[1])))
        .collect();
    (removed, whitespace)
}

/// Runs `dechaff ARGS` in `dir`; the run must succeed.
fn run_ok(dir: &Path, args: &[&str]) {
    let run = dechaff_in(dir, args);
    assert_eq!(
        run.code,
        Some(0),
        "dechaff {}\n--- stderr ---\n{}",
        args.join(" "),
        run.stderr
    );
}

/// The one output file under `out` beside provenance.jsonl.
fn only_output(out: &Path) -> std::path::PathBuf {
    let files: Vec<_> = files_under(out)
        .into_iter()
        .filter(|p| p != Path::new("provenance.jsonl"))
        .collect();
    assert_eq!(files.len(), 1, "one output under {}: {files:?}", out.display());
    out.join(&files[0])
}

/// The id each record path gives document `i`.
fn doc_id(i: usize) -> String {
    format!("doc-{i:05}")
}

/// Writes one text file per document under `DIR/in`, compressed as
/// `extension` says; returns the directory and the file names, in document order.
fn write_text_tree(docs: &[Doc], extension: &str) -> (tempfile::TempDir, Vec<String>) {
    let dir = temp_dir();
    let names: Vec<String> = (0..docs.len())
        .map(|i| format!("{}.txt{extension}", doc_id(i)))
        .collect();
    for (doc, name) in docs.iter().zip(&names) {
        write(
            &dir.path().join("in").join(name),
            compress_like(extension, doc.text.as_bytes()),
        );
    }
    (dir, names)
}

/// Text files, one per document, each compressed as `extension` says, in one
/// directory; cleaned with `args` added.
fn text_tree(docs: &[Doc], extension: &str, args: &[&str]) -> Vec<Outcome> {
    let (dir, names) = write_text_tree(docs, extension);
    let mut all = vec!["clean", "in", "--out", "out", "-q"];
    all.extend_from_slice(args);
    run_ok(dir.path(), &all);
    let records = provenance(&dir.path().join("out"));
    let by_source: HashMap<&str, &Value> = records
        .iter()
        .map(|r| (r["source"].as_str().expect("a source"), r))
        .collect();
    names
        .iter()
        .map(|name| {
            let source = format!("in/{name}");
            let record = by_source
                .get(source.as_str())
                .unwrap_or_else(|| panic!("no provenance record for {source}"));
            assert_eq!(record["status"], "ok", "{record}");
            let output = dir.path().join("out").join(name);
            let kept = String::from_utf8(read_decompressed(&output)).expect("an output is UTF-8");
            let (removed, whitespace) = spans_of(record);
            Outcome {
                kept,
                removed,
                whitespace,
            }
        })
        .collect()
}

/// The documents as JSONL records: an id, the text, and a field that names
/// one group for every record.
fn jsonl_lines(docs: &[Doc]) -> String {
    docs.iter()
        .enumerate()
        .map(|(i, doc)| json!({"id": doc_id(i), "site": "harbour", "text": doc.text}).to_string() + "\n")
        .collect()
}

/// The documents as a WARC file: a `warcinfo` record, then `conversion` and
/// `response` records by turns (a response's payload behind an HTTP header).
/// With `members`, each record is its own gzip member, as Common Crawl writes.
fn warc_bytes(docs: &[Doc], members: bool) -> Vec<u8> {
    let record = |kind: &str, id: &str, body: &[u8]| -> Vec<u8> {
        let mut bytes = format!(
            "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: https://harbour.example/{id}\r\n\
             WARC-Date: 2024-05-01T12:00:00Z\r\nWARC-Record-ID: {id}\r\n\
             Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        bytes.extend_from_slice(body);
        bytes.extend_from_slice(b"\r\n\r\n");
        if members {
            compress_like(".gz", &bytes)
        } else {
            bytes
        }
    };
    let mut out = record("warcinfo", "info", b"software: dechaff-tests\r\n");
    for (i, doc) in docs.iter().enumerate() {
        if i % 2 == 0 {
            out.extend(record("conversion", &doc_id(i), doc.text.as_bytes()));
        } else {
            let mut body = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n".to_vec();
            body.extend_from_slice(doc.text.as_bytes());
            out.extend(record("response", &doc_id(i), &body));
        }
    }
    out
}

/// Output records (a JSONL output file's lines, or standard output's) and
/// the provenance records of their documents, when there are any apart
/// from the embedded ones: each document's outcome, checked to be in input order.
fn record_outcomes(docs: &[Doc], output: &str, records: Option<&[Value]>) -> Vec<Outcome> {
    let lines: Vec<Value> = output
        .lines()
        .map(|l| serde_json::from_str(l).expect("an output line is JSON"))
        .collect();
    let ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().expect("an id")).collect();
    let expected: Vec<String> = (0..docs.len()).map(doc_id).collect();
    assert_eq!(ids, expected, "the output holds every document once, in input order");
    let by_id: HashMap<&str, &Value> = records
        .unwrap_or(&[])
        .iter()
        .filter_map(|r| Some((r.get("document")?.get("id")?.as_str()?, r)))
        .collect();
    lines
        .iter()
        .map(|line| {
            let record = match records {
                Some(_) => *by_id
                    .get(line["id"].as_str().unwrap())
                    .unwrap_or_else(|| panic!("no provenance record for {}", line["id"])),
                None => &line["metadata"]["dechaff"],
            };
            let (removed, whitespace) = spans_of(record);
            Outcome {
                kept: line["text"].as_str().expect("a text").to_string(),
                removed,
                whitespace,
            }
        })
        .collect()
}

/// One JSONL shard named `name` (its extension says its compression).
fn jsonl_shard(docs: &[Doc], name: &str, args: &[&str]) -> Vec<Outcome> {
    let dir = temp_dir();
    write(
        &dir.path().join("in").join(name),
        compress_like(name, jsonl_lines(docs).as_bytes()),
    );
    let mut all = vec!["clean", "in", "--out", "out", "-q"];
    all.extend_from_slice(args);
    run_ok(dir.path(), &all);
    let out = dir.path().join("out");
    let output = String::from_utf8(read_decompressed(&only_output(&out))).expect("UTF-8 output");
    record_outcomes(docs, &output, Some(&provenance(&out)[..]))
}

/// One WARC file named `name`: `.gz` compresses each record as a gzip
/// member, `.zst` the whole file as one zstd frame.
fn warc_file(docs: &[Doc], name: &str, args: &[&str]) -> Vec<Outcome> {
    let dir = temp_dir();
    let bytes = warc_bytes(docs, name.ends_with(".gz"));
    let bytes = if name.ends_with(".zst") {
        compress_like(name, &bytes)
    } else {
        bytes
    };
    write(&dir.path().join("in").join(name), bytes);
    let mut all = vec!["clean", "in", "--out", "out", "-q"];
    all.extend_from_slice(args);
    run_ok(dir.path(), &all);
    let out = dir.path().join("out");
    let output = String::from_utf8(read_decompressed(&only_output(&out))).expect("UTF-8 output");
    record_outcomes(docs, &output, Some(&provenance(&out)[..]))
}

/// JSONL on standard input, JSONL on standard output; the spans from the
/// record each output line carries.
fn stdin_stdout(docs: &[Doc]) -> Vec<Outcome> {
    let dir = temp_dir();
    let args = ["clean", "-", "--out", "-", "-q", "-j2", "--metadata", "full"];
    let (code, stdout, stderr) = dechaff_with_stdin(dir.path(), &args, jsonl_lines(docs).as_bytes());
    assert_eq!(code, Some(0), "{stderr}");
    record_outcomes(docs, &String::from_utf8(stdout).expect("UTF-8 output"), None)
}

/// Attribute files for one JSONL shard: the spans by id, in characters,
/// under their rule family's key (the span's `rule` here). They hold no
/// text, so the kept text is the document with every span taken out, which
/// is what the cleaner promises the output is.
fn attributes(docs: &[Doc]) -> Vec<Outcome> {
    let dir = temp_dir();
    write(&dir.path().join("in/docs.jsonl"), jsonl_lines(docs));
    run_ok(dir.path(), &["clean", "in", "--attributes", "attrs", "-q", "-j2"]);
    let text = String::from_utf8(read_decompressed(&dir.path().join("attrs/docs.jsonl"))).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().expect("an id")).collect();
    let expected: Vec<String> = (0..docs.len()).map(doc_id).collect();
    assert_eq!(ids, expected, "an attribute line per document, in input order");
    lines
        .iter()
        .zip(docs)
        .map(|(line, doc)| {
            // Spans count characters: the byte offset of each character, and of the end.
            let bytes: Vec<usize> = doc
                .text
                .char_indices()
                .map(|(at, _)| at)
                .chain([doc.text.len()])
                .collect();
            let span = |v: &Value| {
                let offset = |v: &Value| bytes[v.as_u64().expect("an offset") as usize];
                assert!(v[2].is_number(), "a numeric score: {v}");
                (offset(&v[0]), offset(&v[1]))
            };
            let attributes = line["attributes"].as_object().expect("attributes");
            let mut removed: Vec<Span> = attributes
                .iter()
                .filter(|(key, _)| *key != "dechaff__whitespace")
                .flat_map(|(key, spans)| {
                    spans.as_array().expect("spans").iter().map(move |v| {
                        let (start, end) = span(v);
                        Span {
                            start,
                            end,
                            rule: key.clone(),
                            action: None,
                        }
                    })
                })
                .collect();
            removed.sort_by_key(|s| s.start);
            let whitespace: Vec<(usize, usize)> = attributes
                .get("dechaff__whitespace")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .map(span)
                .collect();
            let mut cuts: Vec<(usize, usize)> = removed
                .iter()
                .map(|s| (s.start, s.end))
                .chain(whitespace.clone())
                .collect();
            cuts.sort();
            let mut kept = String::new();
            let mut at = 0;
            for (start, end) in cuts {
                kept.push_str(
                    doc.text
                        .get(at..start)
                        .unwrap_or("<spans overlap or split a character>"),
                );
                at = at.max(end);
            }
            kept.push_str(doc.text.get(at..).unwrap_or(""));
            Outcome {
                kept,
                removed,
                whitespace,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The tables

/// The run layer called in process, as the Python package and `eval` call
/// it: text files planned and cleaned by `pipeline::run_into` into the
/// in-memory sink, the spans taken from the provenance it writes (a
/// worker logs them as it cleans, and the collector copies them in).
fn in_process(docs: &[Doc], jobs: usize) -> Vec<Outcome> {
    use dechaff_run::pipeline::{run_into, FileReport};
    use dechaff_run::plan::{plan, RunConfig};
    use dechaff_run::sink::InMemory;

    let (dir, _) = write_text_tree(docs, "");
    let out = dir.path().join("out");
    let mut config = RunConfig::new(vec![dir.path().join("in")], out.clone());
    config.jobs = jobs;
    let cleaner = dechaff_engine::Cleaner::with_shipped_rules().expect("the cleaner builds");
    let sink = InMemory::new();
    let plan = plan(&config).expect("the inputs plan");
    let summary = run_into(&plan, &config, &cleaner, &sink, &mut |_: &FileReport| {}).expect("the run ends");
    assert!(!summary.has_failures(), "{summary:?}");
    let texts = sink.into_texts();
    assert_eq!(texts.len(), docs.len(), "one text per document");
    let records: Vec<Value> = fs::read_to_string(out.join("provenance.jsonl"))
        .expect("the run writes provenance")
        .lines()
        .skip(1)
        .map(|line| serde_json::from_str(line).expect("a record parses"))
        .collect();
    texts
        .into_iter()
        .zip(&records)
        .map(|(kept, record)| {
            let (removed, whitespace) = spans_of(record);
            Outcome {
                kept,
                removed,
                whitespace,
            }
        })
        .collect()
}

/// Every way the binary cleans documents, without corpus mode.
fn paths() -> Vec<CodePath> {
    vec![
        CodePath {
            name: "in process (run layer, in-memory sink), -j2",
            run: |docs| in_process(docs, 2),
        },
        CodePath {
            name: "text files, -j1",
            run: |docs| text_tree(docs, "", &["-j1"]),
        },
        CodePath {
            name: "text files, -j2",
            run: |docs| text_tree(docs, "", &["-j2"]),
        },
        CodePath {
            name: "text files, gzip, -j2",
            run: |docs| text_tree(docs, ".gz", &["-j2"]),
        },
        CodePath {
            name: "text files, zstd, -j1",
            run: |docs| text_tree(docs, ".zst", &["-j1"]),
        },
        CodePath {
            name: "JSONL shard, -j1",
            run: |docs| jsonl_shard(docs, "docs.jsonl", &["-j1"]),
        },
        CodePath {
            name: "JSONL shard, gzip, -j2",
            run: |docs| jsonl_shard(docs, "docs.jsonl.gz", &["-j2"]),
        },
        CodePath {
            name: "JSONL shard, zstd, -j2",
            run: |docs| jsonl_shard(docs, "docs.jsonl.zst", &["-j2"]),
        },
        CodePath {
            name: "WARC, -j2",
            run: |docs| warc_file(docs, "crawl.warc", &["-j2"]),
        },
        CodePath {
            name: "WARC, gzip per record, -j1",
            run: |docs| warc_file(docs, "crawl.warc.gz", &["-j1"]),
        },
        CodePath {
            name: "standard input to standard output, JSONL, -j2",
            run: stdin_stdout,
        },
        CodePath {
            name: "attribute files from a JSONL shard, -j2",
            run: attributes,
        },
    ]
}

/// Corpus mode's ways, each with every document in one group: the one
/// directory of the text files or of the shard, or a field they all share.
fn corpus_paths() -> Vec<CodePath> {
    vec![
        CodePath {
            name: "corpus mode, text files, -j2",
            run: |docs| text_tree(docs, "", &["-j2", "--corpus"]),
        },
        CodePath {
            name: "corpus mode, JSONL shard, --group-by dir, -j1",
            run: |docs| jsonl_shard(docs, "docs.jsonl", &["-j1", "--corpus"]),
        },
        CodePath {
            name: "corpus mode, JSONL shard, --group-by field:site, -j2",
            run: |docs| jsonl_shard(docs, "docs.jsonl.zst", &["-j2", "--corpus", "--group-by", "field:site"]),
        },
        CodePath {
            name: "corpus mode, WARC, zstd, --group-by host, -j2",
            run: |docs| warc_file(docs, "crawl.warc.zst", &["-j2", "--corpus", "--group-by", "host"]),
        },
    ]
}

// ---------------------------------------------------------------------------
// The comparison

/// Where two texts first differ, with a little context on each side.
fn first_difference(expected: &str, got: &str) -> String {
    let at = expected
        .bytes()
        .zip(got.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(got.len()));
    let window = |text: &str| {
        let start = text.floor_char_boundary(at.saturating_sub(40));
        let end = text.ceil_char_boundary((at + 40).min(text.len()));
        format!("{:?}", &text[start..end])
    };
    format!(
        "kept text differs at byte {at} (library {} bytes, path {} bytes): library {} path {}",
        expected.len(),
        got.len(),
        window(expected),
        window(got)
    )
}

/// The first way `got` differs from `expected` for one document.
fn describe(expected: &Outcome, got: &Outcome) -> Option<String> {
    if expected.kept != got.kept {
        return Some(first_difference(&expected.kept, &got.kept));
    }
    let same_span = |e: &Span, g: &Span| {
        e.start == g.start
            && e.end == g.end
            && (e.rule == g.rule || (g.action.is_none() && dechaff_run::attributes::key_of(&e.rule) == g.rule))
            && (g.action.is_none() || e.action == g.action)
    };
    if expected.removed.len() != got.removed.len()
        || !expected.removed.iter().zip(&got.removed).all(|(e, g)| same_span(e, g))
    {
        let k = expected
            .removed
            .iter()
            .zip(&got.removed)
            .position(|(e, g)| !same_span(e, g))
            .unwrap_or(expected.removed.len().min(got.removed.len()));
        return Some(format!(
            "removed span {k} differs ({} spans in the library, {} in the path): library {:?}, path {:?}",
            expected.removed.len(),
            got.removed.len(),
            expected.removed.get(k),
            got.removed.get(k)
        ));
    }
    if expected.whitespace != got.whitespace {
        let k = expected
            .whitespace
            .iter()
            .zip(&got.whitespace)
            .position(|(e, g)| e != g)
            .unwrap_or(expected.whitespace.len().min(got.whitespace.len()));
        return Some(format!(
            "whitespace span {k} differs: library {:?}, path {:?}",
            expected.whitespace.get(k),
            got.whitespace.get(k)
        ));
    }
    None
}

/// What differs between the reference and one path's outcomes: `None` when
/// nothing does, else a message naming the path, how many documents differ,
/// and the first of them with its first difference.
fn compare(path: &str, docs: &[Doc], reference: &[Outcome], got: &[Outcome]) -> Option<String> {
    if got.len() != docs.len() {
        return Some(format!("{path}: {} outcomes for {} documents", got.len(), docs.len()));
    }
    let differing: Vec<(usize, String)> = reference
        .iter()
        .zip(got)
        .enumerate()
        .filter_map(|(i, (e, g))| describe(e, g).map(|d| (i, d)))
        .collect();
    let (i, first) = differing.first()?;
    Some(format!(
        "{path}: {} of {} documents differ from the library; first: document {i} ({}, {}): {first}",
        differing.len(),
        docs.len(),
        doc_id(*i),
        docs[*i].name
    ))
}

/// Runs every path over `docs` and compares each with `reference`.
fn check_paths(paths: &[CodePath], docs: &[Doc], reference: &[Outcome]) {
    let mut report = String::new();
    for path in paths {
        let got = (path.run)(docs);
        if let Some(message) = compare(path.name, docs, reference, &got) {
            writeln!(report, "{message}").unwrap();
        }
    }
    assert!(report.is_empty(), "paths disagree with the library:\n{report}");
}

/// The reference removes spans of every kind of rule, so that the paths
/// are compared on each: otherwise an equal result could be an empty one.
fn assert_every_action(reference: &[Outcome], actions: &[&str]) {
    for action in actions {
        let count = reference
            .iter()
            .flat_map(|o| &o.removed)
            .filter(|s| s.action.as_deref() == Some(*action))
            .count();
        assert!(
            count > 0,
            "no document has a {action} removal: the set misses a rule kind"
        );
    }
}

#[test]
fn every_path_keeps_and_removes_what_the_library_does() {
    let docs = documents();
    let reference = library(&docs);
    assert_every_action(
        &reference,
        &["drop-line", "cut-span", "drop-block", "drop-tail", "classify"],
    );
    assert!(
        reference.iter().any(|o| o.kept.is_empty()) && reference.iter().any(|o| o.kept.len() > 1 << 19),
        "the set has documents cleaned to nothing and a very long one"
    );
    check_paths(&paths(), &docs, &reference);
}

#[test]
fn corpus_mode_is_the_same_through_every_container() {
    let docs = documents();
    let reference = library_corpus(&docs);
    assert_every_action(&reference, &["drop-recurring", "drop-line"]);
    check_paths(&corpus_paths(), &docs, &reference);
}

/// Writes the set, one `doc-NNNNN.txt` per document, into the directory
/// `$DECHAFF_EQUIVALENCE_DOCS`, for the Python package's tests to check the
/// package against the CLI on the same documents (crates/python/ci.sh runs
/// it). Ignored by `cargo test`: it checks nothing of its own.
#[test]
#[ignore = "writes the document set for crates/python/ci.sh"]
fn write_the_document_set() {
    let dir = std::env::var_os("DECHAFF_EQUIVALENCE_DOCS").expect("DECHAFF_EQUIVALENCE_DOCS names the directory");
    let dir = Path::new(&dir);
    fs::create_dir_all(dir).expect("the directory can be made");
    for (i, doc) in documents().iter().enumerate() {
        write(&dir.join(format!("{}.txt", doc_id(i))), doc.text.as_bytes());
    }
}

// ---------------------------------------------------------------------------
// Batch boundaries

/// The pipeline's chunk limits for records: a chunk ends once it holds this
/// many records, or once the stored bytes plus the text bytes of its records
/// reach [`BATCH_BYTES`].
const BATCH_RECORDS: usize = dechaff_run::pipeline::CHUNK_RECORDS;
/// See [`BATCH_RECORDS`].
const BATCH_BYTES: usize = dechaff_run::pipeline::CHUNK_BYTES as usize;

/// Where a JSONL shard of `docs` is cut into batches: the index of each
/// batch's first record after the first batch, and why it was cut.
fn jsonl_batch_cuts(docs: &[Doc]) -> Vec<(usize, &'static str)> {
    let mut cuts = Vec::new();
    let (mut records, mut bytes) = (0, 0);
    for (i, line) in jsonl_lines(docs).lines().enumerate() {
        if records == BATCH_RECORDS || bytes >= BATCH_BYTES {
            cuts.push((i, if records == BATCH_RECORDS { "records" } else { "bytes" }));
            (records, bytes) = (0, 0);
        }
        records += 1;
        bytes += line.len() + docs[i].text.len();
    }
    cuts
}

/// A shard the record streams cut by bytes and then by record count: two
/// large pages (the first batch holds both and ends after the second), then
/// the small documents of the set over and over, past 4096 records of the
/// second batch.
fn long_shard() -> Vec<Doc> {
    let mut dice = Dice::new(4242);
    let mut large = String::from("A long page\n\n");
    while large.len() < 5 << 19 {
        large.push_str(&paragraph(&mut dice));
        large.push('\n');
        if dice.below(8) == 0 {
            large.push_str("Share This\n");
        }
    }
    let small: Vec<Doc> = documents().into_iter().filter(|d| d.text.len() < 1500).collect();
    let mut docs = vec![
        Doc {
            name: "large page 1".into(),
            text: large.clone(),
        },
        Doc {
            name: "large page 2".into(),
            text: large,
        },
    ];
    docs.extend(small.iter().cycle().take(BATCH_RECORDS + 200).cloned());
    docs
}

#[test]
fn documents_on_both_sides_of_every_batch_cut_are_cleaned_alike() {
    let docs = long_shard();
    let cuts = jsonl_batch_cuts(&docs);
    assert_eq!(
        cuts,
        [(2, "bytes"), (2 + BATCH_RECORDS, "records")],
        "the shard is cut once by bytes, once by records"
    );
    let reference = library(&docs);
    let long_paths = [
        // Text files are one document each today; a scheduler that takes
        // them in chunks meets its chunk boundaries here.
        CodePath {
            name: "long text tree, -j2",
            run: |docs| text_tree(docs, "", &["-j2"]),
        },
        CodePath {
            name: "long JSONL shard, -j1",
            run: |docs| jsonl_shard(docs, "docs.jsonl", &["-j1"]),
        },
        CodePath {
            name: "long JSONL shard, zstd, -j2",
            run: |docs| jsonl_shard(docs, "docs.jsonl.zst", &["-j2"]),
        },
        CodePath {
            name: "long WARC, -j2",
            run: |docs| warc_file(docs, "crawl.warc", &["-j2"]),
        },
        CodePath {
            name: "long shard on standard input, -j2",
            run: stdin_stdout,
        },
    ];
    check_paths(&long_paths, &docs, &reference);
}

#[test]
fn a_path_that_leaves_out_a_rule_is_caught() {
    // The comparison must see a difference when there is one: a run without
    // one rule keeps a line the library removes.
    let docs = non_ascii_docs();
    let reference = library(&docs);
    let broken = text_tree(&docs, "", &["--disable", "social.share-label"]);
    let message = compare("text files without social.share-label", &docs, &reference, &broken)
        .expect("the comparison sees the rule left out");
    assert!(
        message.starts_with("text files without social.share-label: ")
            && message.contains("first: document 0 (doc-00000, accents): kept text differs at byte"),
        "{message}"
    );
    // And a span with the right text but another rule's name.
    let mut renamed = reference.clone();
    renamed[2].removed[0].rule = "social.share-label-de".to_string();
    let message = compare("renamed", &docs, &reference, &renamed).expect("the comparison sees the rule's name");
    assert!(
        message.contains("document 2 (doc-00002, CJK): removed span 0 differs"),
        "{message}"
    );
}
