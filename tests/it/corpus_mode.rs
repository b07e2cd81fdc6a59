//! Corpus mode (`clean --corpus`) and `induce`.
//!
//! The trees here are small sites written by the tests: each directory holds
//! pages that share a menu and a footer (with a year or a count that changes
//! from page to page) around an article of their own. What corpus mode must
//! do with them: remove every copy of a line held by at least `--min-docs`
//! pages of the same directory and nothing else, give the same bytes for any
//! thread count and input order, and say in provenance which line went with
//! which count. `induce` must mine the same lines into a pack that loads,
//! passes its own examples, and removes those lines when used with `--rules`.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{dechaff, files_under, manifest, provenance, record_for, temp_dir, write};

/// Words for the articles; every page's sentences also carry its own
/// numbers spelt out, so no article sentence recurs.
const WORDS: &[&str] = &[
    "council", "river", "budget", "village", "schools", "minister", "rain", "harvest", "bridge", "museum", "festival",
    "court", "station", "market", "library", "harbour",
];

const SPELLED: &[&str] = &[
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// A sentence no other page has: the page's own number, spelt out, in it.
fn sentence(site: usize, page: usize, n: usize) -> String {
    let word = |i: usize| WORDS[(site * 7 + page * 3 + n * 5 + i) % WORDS.len()];
    format!(
        "The {} near the {} was {} {} {} for the {} again.",
        word(0),
        word(1),
        SPELLED[site % 10],
        SPELLED[page % 10],
        SPELLED[(page / 10 + n) % 10],
        word(2)
    )
}

/// One page of `site`: menu, article, footer.
fn page(site: usize, page: usize) -> String {
    let mut text = format!(
        "Home\nNews\nSport\nSite {site} Daily\n\nArticle {page} of site {site}: {}\n\n",
        SPELLED[page % 10]
    );
    for n in 0..4 {
        text.push_str(&sentence(site, page, n));
        text.push_str("\n\n");
    }
    // The footer's year and count change from page to page; normalisation
    // folds them.
    text.push_str(&format!(
        "© {} Site {site} Media. All rights reserved.\n{} people read this\n",
        2000 + page,
        page * 17 + 3
    ));
    text
}

/// Writes `sites` directories of `pages` pages each under `root`, with file
/// names unique across the tree (so that file arguments in any order map to
/// distinct outputs). Returns the files in walk order.
fn write_sites(root: &Path, sites: usize, pages: usize) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for site in 0..sites {
        for p in 0..pages {
            let path = root.join(format!("site-{site}")).join(format!("s{site}-p{p:02}.txt"));
            write(&path, page(site, p));
            files.push(path);
        }
    }
    files
}

fn run_clean(inputs: &[PathBuf], out: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args: Vec<String> = vec!["clean".into(), "--quiet".into(), "--corpus".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    args.extend(["--out".into(), out.display().to_string()]);
    dechaff(&args).assert_code(0);
    provenance(out)
}

fn removed_rules(record: &Value) -> Vec<(String, String, Option<f64>)> {
    record["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rule"].as_str().unwrap().to_string(),
                r["text"].as_str().unwrap().to_string(),
                r["score"].as_f64(),
            )
        })
        .collect()
}

#[test]
fn one_worker_eight_workers_and_a_shuffled_input_order_write_the_same_bytes() {
    let dir = temp_dir();
    let files = write_sites(&dir.path().join("in"), 3, 12);
    let (out1, out8, shuffled) = (
        dir.path().join("j1"),
        dir.path().join("j8"),
        dir.path().join("shuffled"),
    );
    run_clean(&[dir.path().join("in")], &out1, &["-j1"]);
    run_clean(&[dir.path().join("in")], &out8, &["-j8"]);
    // The same files as file arguments, in an order unlike the walk's.
    let mut order: Vec<PathBuf> = files.clone();
    order.sort_by_key(|p| {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        (name.bytes().map(u32::from).sum::<u32>() * 7919) % 101
    });
    order.reverse();
    assert_ne!(order, files);
    run_clean(&order, &shuffled, &["-j3"]);

    // Outputs: the directory runs mirror the tree, the file run is flat.
    let tree = files_under(&out1);
    assert_eq!(tree, files_under(&out8));
    let mut removed_anything = false;
    for file in &files {
        let relative = file.strip_prefix(dir.path().join("in")).unwrap();
        let one = fs::read(out1.join(relative)).unwrap();
        assert_eq!(one, fs::read(out8.join(relative)).unwrap(), "{}", relative.display());
        assert_eq!(
            one,
            fs::read(shuffled.join(file.file_name().unwrap())).unwrap(),
            "{}",
            relative.display()
        );
        removed_anything |= one.len() < fs::read(file).unwrap().len();
    }
    assert!(removed_anything);

    // Provenance: the same records, once the output paths are taken out and
    // the file run's records are put back in walk order.
    let strip = |records: Vec<Value>| -> Vec<Value> {
        let mut records: Vec<Value> = records
            .into_iter()
            .map(|mut r| {
                r["output"] = Value::Null;
                r
            })
            .collect();
        records.sort_by(|a, b| a["source"].as_str().cmp(&b["source"].as_str()));
        records
    };
    let (p1, p8, ps) = (
        strip(provenance(&out1)),
        strip(provenance(&out8)),
        strip(provenance(&shuffled)),
    );
    assert_eq!(p1, p8);
    assert_eq!(p1, ps);
}

#[test]
fn a_line_in_n_documents_goes_everywhere_and_in_n_minus_one_stays() {
    let dir = temp_dir();
    let root = dir.path().join("in");
    // "Subscribe to the Gazette" in three pages (twice in one), "Weather
    // desk" in two; everything else unique.
    write(
        &root.join("a.txt"),
        "Subscribe to the Gazette\nAlpha story one.\nSubscribe to the Gazette\n",
    );
    write(
        &root.join("b.txt"),
        "SUBSCRIBE to the gazette!\nBeta story two.\nWeather desk\n",
    );
    write(
        &root.join("c.txt"),
        "Gamma story three.\nSubscribe  to the Gazette\nWeather desk\n",
    );
    write(&root.join("d.txt"), "Delta story four.\n");
    let out = dir.path().join("out");
    // The shipped rules know a subscribe line; corpus mode alone is under test.
    let records = run_clean(
        std::slice::from_ref(&root),
        &out,
        &["--no-default-rules", "--min-docs", "3"],
    );
    let read = |name: &str| fs::read_to_string(out.join(name)).unwrap();
    assert_eq!(read("a.txt"), "Alpha story one.\n");
    assert_eq!(read("b.txt"), "Beta story two.\nWeather desk\n");
    assert_eq!(read("c.txt"), "Gamma story three.\nWeather desk\n");
    assert_eq!(read("d.txt"), "Delta story four.\n");

    let a = record_for(&records, &root.join("a.txt").display().to_string());
    let removed = &a["removed"].as_array().unwrap()[0];
    assert_eq!(removed["rule"], "corpus.recurring");
    assert_eq!(removed["action"], "drop-recurring");
    assert_eq!(removed["score"], 3.0);
    assert_eq!(removed["lines"][0], 1);
    assert_eq!(
        removed_rules(a),
        [
            ("corpus.recurring".into(), "Subscribe to the Gazette".into(), Some(3.0)),
            ("corpus.recurring".into(), "Subscribe to the Gazette".into(), Some(3.0)),
        ]
    );
    let manifest = manifest(&out);
    assert_eq!(a["rules"], manifest["rules"]["fingerprint"]);
    let settings = &manifest["rules"]["settings"]["corpus"];
    assert_eq!(settings["min_docs"], 3);
    assert_eq!(settings["group_by"], "dir");

    // With --min-docs 2 the weather desk goes too, and the fingerprint changes.
    let out2 = dir.path().join("out2");
    let records2 = run_clean(
        std::slice::from_ref(&root),
        &out2,
        &["--no-default-rules", "--min-docs", "2"],
    );
    assert_eq!(fs::read_to_string(out2.join("b.txt")).unwrap(), "Beta story two.\n");
    assert_ne!(records2[0]["rules"], records[0]["rules"]);
}

#[test]
fn lines_shorter_than_min_chars_are_never_removed() {
    let dir = temp_dir();
    let root = dir.path().join("in");
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        write(
            &root.join(format!("{name}.txt")),
            format!("Menu\nStory number {name} {i} here.\nRead more stories\n"),
        );
    }
    let out = dir.path().join("out");
    run_clean(
        std::slice::from_ref(&root),
        &out,
        &["--no-default-rules", "--min-chars", "5"],
    );
    // "menu" has four characters; "read more stories" seventeen.
    assert_eq!(
        fs::read_to_string(out.join("a.txt")).unwrap(),
        "Menu\nStory number a 0 here.\n"
    );
}

#[test]
fn each_directory_is_counted_apart() {
    let dir = temp_dir();
    let root = dir.path().join("in");
    // Two pages per site hold the line: four in all, but never three in one group.
    for site in ["x", "y"] {
        for (page, spelled) in SPELLED.iter().enumerate().take(3) {
            let shared = if page < 2 { "Breaking news from the wire\n" } else { "" };
            write(
                &root.join(site).join(format!("{site}{page}.txt")),
                format!("{shared}Site {site} page {spelled} story.\nSite {site} footer\n"),
            );
        }
    }
    let out = dir.path().join("out");
    let records = run_clean(std::slice::from_ref(&root), &out, &[]);
    assert_eq!(
        fs::read_to_string(out.join("x/x0.txt")).unwrap(),
        "Breaking news from the wire\nSite x page zero story.\n"
    );
    let y2 = record_for(&records, &root.join("y/y2.txt").display().to_string());
    assert_eq!(
        removed_rules(y2),
        [("corpus.recurring".into(), "Site y footer".into(), Some(3.0))]
    );
}

/// JSONL records grouped by their URL's host (`www.` and case folded) or by
/// a field: a line held by three records of one group goes, the same line
/// spread over two groups stays. A field that holds a list groups by the list
/// as written.
#[test]
fn jsonl_records_are_grouped_by_host_or_by_field() {
    let dir = temp_dir();
    let input = dir.path().join("in.jsonl");
    let pages = [
        (
            "https://a.example/1",
            "[\"x\"]",
            "Wire story from the agency\nFooter of site A\n",
        ),
        (
            "https://A.example/2",
            "[\"x\"]",
            "Wire story from the agency\nFooter of site A\n",
        ),
        ("http://a.example:8080/3", "[\"y\"]", "Footer of site A\n"),
        ("https://www.b.example/1", "[\"x\"]", "Wire story from the agency\n"),
        ("https://b.example/2", "[\"y\"]", "Nothing shared here\n"),
        ("https://b.example/3", "[\"y\"]", "Nothing shared either\n"),
    ];
    let mut jsonl = String::new();
    for (n, (url, tags, shared)) in pages.iter().enumerate() {
        let text = format!("Page {} has a story of its own.\n{shared}", SPELLED[n]);
        let record = serde_json::json!({"id": n, "url": url, "lang": "en", "text": text});
        let mut line = record.to_string();
        line.insert_str(line.len() - 1, &format!(",\"tags\":{tags}"));
        jsonl.push_str(&line);
        jsonl.push('\n');
    }
    write(&input, &jsonl);
    let removed = |group_by: &str| -> Vec<Vec<String>> {
        let out = dir.path().join(format!("out-{}", group_by.replace(':', "-")));
        run_clean(
            std::slice::from_ref(&input),
            &out,
            &["--group-by", group_by, "--no-heuristics", "--metadata", "full"],
        );
        fs::read_to_string(out.join("in.jsonl"))
            .unwrap()
            .lines()
            .map(|line| {
                let record: Value = serde_json::from_str(line).unwrap();
                record["metadata"]["dechaff"]["removed"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|r| r["rule"] == "corpus.recurring")
                    .map(|r| r["text"].as_str().unwrap().trim_end().to_string())
                    .collect()
            })
            .collect()
    };
    let footer = || vec!["Footer of site A".to_string()];
    let wire = || vec!["Wire story from the agency".to_string()];
    let none = Vec::<String>::new;
    assert_eq!(removed("host"), [footer(), footer(), footer(), none(), none(), none()]);
    // Neighbouring removed lines make one span.
    let both = || vec!["Wire story from the agency\nFooter of site A".to_string()];
    assert_eq!(
        removed("field:lang"),
        [both(), both(), footer(), wire(), none(), none()]
    );
    assert_eq!(removed("field:tags"), [wire(), wire(), none(), wire(), none(), none()]);
}

/// `explain --corpus` counts the file's directory as `clean --corpus` groups
/// it: the same lines go, each shown with its rule and document count.
#[test]
fn explain_in_corpus_mode_shows_what_clean_removes_with_the_counts() {
    let dir = temp_dir();
    let root = dir.path().join("in");
    let files = write_sites(&root, 2, 4);
    let out = dir.path().join("out");
    run_clean(std::slice::from_ref(&root), &out, &["--no-heuristics"]);
    let file = &files[5];
    let explained = dechaff([
        "explain",
        &file.display().to_string(),
        "--corpus",
        "--no-heuristics",
        "--color",
        "never",
    ])
    .assert_code(0)
    .stdout
    .clone();
    let kept: Vec<&str> = explained
        .lines()
        .filter(|l| !l.starts_with("- ") && !l.is_empty())
        .collect();
    let cleaned = fs::read_to_string(out.join("site-1/s1-p01.txt")).unwrap();
    let cleaned: Vec<&str> = cleaned.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(kept, cleaned, "{explained}");
    // The masthead and the read count are the site's own; the copyright
    // line is a phrase rule's before corpus mode counts.
    for line in [
        "- Site 1 Daily  [corpus.recurring 4]",
        "- 20 people read this  [corpus.recurring 4]",
    ] {
        assert!(explained.lines().any(|l| l == line), "no {line:?} in\n{explained}");
    }

    dechaff(["explain", &file.display().to_string(), "--corpus", "--group-by", "host"])
        .assert_code(2)
        .assert_stderr_line(
            "dechaff: explain takes one text file, whose group is its directory: --group-by host needs JSONL or \
             WARC records (use clean --corpus --group-by host and read the provenance)",
        );
}

#[test]
fn a_duplicated_article_keeps_its_text_while_the_footer_goes() {
    let dir = temp_dir();
    let root = dir.path().join("in");
    let article = "A long article paragraph that a syndication feed copied onto several pages of the site.\n\
                   Its second paragraph, just as long, went along with it to every copy of the page.\n";
    for (page, spelled) in SPELLED.iter().enumerate().take(6) {
        let body = if page < 3 {
            article.to_string()
        } else {
            format!("Page {spelled} has a story of its own, told in one line.\n")
        };
        write(
            &root.join(format!("p{page}.txt")),
            format!("{body}Contact the newsroom\n"),
        );
    }
    let out = dir.path().join("out");
    run_clean(std::slice::from_ref(&root), &out, &[]);
    // The footer (six pages) fits within the share; the article (three
    // pages) would take the rest of the page and stays.
    assert_eq!(fs::read_to_string(out.join("p0.txt")).unwrap(), article);
    let out_strict = dir.path().join("out-all");
    run_clean(std::slice::from_ref(&root), &out_strict, &["--max-doc-share", "1"]);
    assert_eq!(fs::read_to_string(out_strict.join("p0.txt")).unwrap(), "");
}

#[test]
fn corpus_options_are_validated() {
    let run = dechaff(["clean", "in", "--out", "out", "--corpus", "--group-by", "host"]);
    run.assert_code(2);
    assert_eq!(
        run.first_stderr_line(),
        "dechaff: --group-by host needs documents that carry a URL or fields (JSONL or WARC input); \
         plain-text files have only their path: use --group-by dir"
    );
    let run = dechaff(["clean", "in", "--out", "out", "--corpus", "--group-by", "site"]);
    run.assert_code(2);
    assert_eq!(
        run.first_stderr_line(),
        "dechaff: --group-by \"site\" is not dir, host or field:NAME"
    );
    let run = dechaff(["clean", "in", "--out", "out", "--corpus", "--min-docs", "1"]);
    run.assert_code(2);
    assert_eq!(
        run.first_stderr_line(),
        "dechaff: --min-docs 1 is below 2: every line occurs in at least one document"
    );
    let run = dechaff(["clean", "in", "--out", "out", "--corpus", "--max-doc-share", "1.5"]);
    run.assert_code(2);
    assert_eq!(
        run.first_stderr_line(),
        "dechaff: --max-doc-share 1.5 must be above 0 and at most 1"
    );
    // A threshold without --corpus is a mistake, not a no-op.
    dechaff(["clean", "in", "--out", "out", "--min-docs", "4"]).assert_code(2);
}

#[test]
fn induced_packs_pass_rules_check_and_rules_test_and_remove_what_they_found() {
    let dir = temp_dir();
    let root = dir.path().join("in");
    write_sites(&root, 2, 5);
    let pack = dir.path().join("induced.toml");
    let run = dechaff([
        "induce",
        root.to_str().unwrap(),
        "-o",
        pack.to_str().unwrap(),
        "--limit",
        "50",
        "-j2",
    ]);
    run.assert_code(0);
    let text = fs::read_to_string(&pack).unwrap();
    // Menu and footer lines of both sites: 6 each (the article sentences are unique).
    assert!(text.contains("id = \"induced.site-0-home\""), "{text}");
    assert!(
        text.contains("id = \"induced.site-1-0-site-0-media-all-rights-reserved\""),
        "{text}"
    );
    assert!(!text.contains("again"), "an article sentence was mined:\n{text}");
    assert_eq!(text.matches("[[rule]]").count(), 12, "{text}");
    assert!(run
        .stderr
        .starts_with("dechaff: 12 rules from 12 recurring lines; 10 documents in 2 groups"));

    let checked = dechaff(["rules", "check", pack.to_str().unwrap()]);
    checked.assert_code(0);
    assert_eq!(checked.stdout, "ok: 1 packs, 12 rules\n");
    let tested = dechaff(["rules", "test", pack.to_str().unwrap()]);
    tested.assert_code(0);
    assert!(tested.stdout.starts_with("ok: 12 rules"), "{}", tested.stdout);

    // Used as a pack, it removes the menu and footer of a new page of site 0.
    let fresh = dir.path().join("fresh/page.txt");
    write(&fresh, page(0, 42));
    let out = dir.path().join("out");
    dechaff([
        "clean",
        "-q",
        fresh.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-default-rules",
        "--rules",
        pack.to_str().unwrap(),
    ])
    .assert_code(0);
    let cleaned = fs::read_to_string(out.join("page.txt")).unwrap();
    assert!(cleaned.starts_with("Article 42 of site 0: two\n"), "{cleaned}");
    assert!(cleaned.ends_with("again.\n"), "{cleaned}");

    // The same inputs in one worker write the same pack.
    let again = dechaff(["induce", root.to_str().unwrap(), "-j1", "--limit", "50"]);
    again.assert_code(0);
    assert_eq!(again.stdout, text);
}
