//! A generated corpus: about two hundred scraped-looking pages in nested
//! directories, the same bytes on every run.
//!
//! The seeds are real but few; this tree adds the shapes that break byte
//! accounting and ordering: CRLF and mixed line ends, NBSP and zero-width
//! characters inside words and inside boilerplate, runs of blank lines made
//! of spaces and tabs, documents without a final newline, empty and blank
//! documents, a BOM, a windows-1252 page, a binary file, and file names whose
//! byte order differs from their case-insensitive order. The texts come from
//! a fixed-seed generator, so a failure names a file that the next run
//! recreates identically.

use std::path::{Path, PathBuf};

use crate::util::write;

/// A pack that removes the boilerplate the generator writes, with one rule
/// of each kind. Runs add it to the shipped packs, so the tests do not
/// depend on what the shipped packs happen to cover today.
pub const TEST_PACK: &str = r#"[pack]
name = "it"
version = "1"
description = "Boilerplate written by the integration tests' corpus generator"

[[rule]]
id = "it.share"
description = "Share widget labels on a line of their own"
literals = ["Share This", "Share on Facebook", "Tweet this"]
must-match = ["Share This", "Tweet this"]
must-not-match = ["Please share this with your family."]

[[rule]]
id = "it.email"
description = "Cloudflare's e-mail obfuscation residue inside a sentence"
kind = "inline"
pattern = '\[email protected\]'
must-match = ["Write to [email protected] today", "[email protected]"]
must-not-match = ["email protected by law"]

[[rule]]
id = "it.newsletter"
description = "A newsletter sign-up box, from its heading to its fine print"
kind = "block"
start = 'sign up for our newsletter'
end = 'unsubscribe at any time\.?'
max-lines = 6
must-match = ["Sign up for our newsletter\nEmail address\nUnsubscribe at any time.", "SIGN UP FOR OUR NEWSLETTER\nUnsubscribe at any time"]
must-not-match = ["Sign up for our newsletter\nit was a long day"]

[[rule]]
id = "it.reply"
description = "A comment form, from its heading to the end of the page"
kind = "tail"
literals = ["Leave a Reply", "Leave a Comment"]
must-match = ["Leave a Reply\nName", "Leave a Comment"]
must-not-match = ["Leave a reply below if you agree."]
"#;

/// A small deterministic generator (xorshift64*), so the corpus needs no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "the",
    "general",
    "met",
    "minister",
    "on",
    "Tuesday",
    "council",
    "voted",
    "against",
    "budget",
    "river",
    "flooded",
    "village",
    "schools",
    "reopened",
    "after",
    "weeks",
    "residents",
    "said",
    "water",
    "rose",
    "quickly",
    "officials",
    "expect",
    "more",
    "rain",
    "caf\u{e9}",
    "na\u{ef}ve",
    "\u{201c}quoted\u{201d}",
    "it\u{2019}s",
    "share",
    "reply",
    "newsletter",
    "subscribe",
    "leave",
    "this",
    "comment",
    "\u{5317}\u{4eac}",
    "\u{1f600}",
];

const BOILERPLATE: &[&str] = &[
    "Share This",
    "Share\u{a0}This",
    "  Share This  ",
    "Share on Facebook",
    "Tweet this",
    "SHARE THIS",
    "Share\u{200b} This",
];

/// One prose line: words, with now and then an NBSP, a double space, a
/// zero-width space or an obfuscated e-mail address inside it.
fn prose_line(rng: &mut Rng) -> String {
    let mut line = String::new();
    let words = 3 + rng.below(18);
    for i in 0..words {
        if i > 0 {
            line.push_str(match rng.below(20) {
                0 => "\u{a0}",
                1 => "  ",
                2 => " \u{200b}",
                _ => " ",
            });
        }
        line.push_str(rng.pick(WORDS));
    }
    if rng.chance(12) {
        let email = rng.pick(&["[email protected]", "[email\u{a0}protected]", "[EMAIL PROTECTED]"]);
        match rng.below(3) {
            0 => line = format!("{email} {line}"),
            1 => line = format!("{line} {email}"),
            _ => line = format!("{line} write to {email} today"),
        }
    }
    line.push('.');
    if rng.chance(10) {
        line = format!("  {line}\t");
    }
    line
}

/// One document's lines (without line ends).
fn document(rng: &mut Rng) -> Vec<String> {
    let mut lines = Vec::new();
    lines.push(format!("Headline about {} {}", rng.pick(WORDS), rng.pick(WORDS)));
    let paragraphs = 1 + rng.below(8);
    for p in 0..paragraphs {
        // A run of blank lines, some of them holding spaces, tabs or an NBSP.
        for _ in 0..1 + rng.below(3) {
            lines.push(rng.pick(&["", "", " ", "\t", "\u{a0}", "  \t "]).to_string());
        }
        for _ in 0..1 + rng.below(4) {
            lines.push(prose_line(rng));
        }
        if p == paragraphs / 2 && rng.chance(25) {
            lines.push("Sign up for our newsletter".to_string());
            lines.push("Email address".to_string());
            if rng.chance(80) {
                lines.push("Unsubscribe at any time.".to_string());
            }
        }
        if rng.chance(15) {
            lines.push(rng.pick(BOILERPLATE).to_string());
        }
    }
    // Boilerplate near the end, where scraped pages keep it.
    if rng.chance(60) {
        lines.push(String::new());
        lines.push(rng.pick(BOILERPLATE).to_string());
    }
    if rng.chance(50) {
        lines.push(String::new());
        lines.push(
            rng.pick(&["Leave a Reply", "Leave a Comment", "Leave\u{a0}a Reply"])
                .to_string(),
        );
        lines.push("Name".to_string());
        lines.push("Email".to_string());
        lines.push("Website".to_string());
    }
    for _ in 0..rng.below(3) {
        lines.push(rng.pick(&["", " ", "\t"]).to_string());
    }
    lines
}

/// Joins lines with LF, CRLF or a mix, with or without a final line end.
fn join(rng: &mut Rng, lines: &[String]) -> String {
    let style = rng.below(4);
    let mut text = String::new();
    for (i, line) in lines.iter().enumerate() {
        text.push_str(line);
        let last = i + 1 == lines.len();
        if last && rng.chance(25) {
            break;
        }
        text.push_str(match style {
            0 | 1 => "\n",
            2 => "\r\n",
            _ => {
                if rng.chance(50) {
                    "\r\n"
                } else {
                    "\n"
                }
            }
        });
    }
    text
}

/// Directories of the tree; file names are chosen so that byte order
/// (capitals first) differs from case-insensitive order.
const DIRS: &[&str] = &[
    "",
    "Alpha",
    "alpha",
    "alpha/deep",
    "alpha/deep/er",
    "beta-2",
    "beta-10",
    "news/2019/05",
    "news/2019/11",
    "news/2020",
    "z",
];

/// Writes the corpus under `root` and returns the number of files written.
pub fn generate(root: &Path) -> usize {
    let mut rng = Rng(0x0DEC_AFF0_2024_0001);
    let mut count = 0;
    for (d, dir) in DIRS.iter().enumerate() {
        for i in 0..18 {
            let name = match i % 4 {
                0 => format!("Page-{i:02}.txt"),
                1 => format!("page-{i:02}.txt"),
                2 => format!("page_{i}.TXT"),
                _ => format!("{d}{i}-doc.txt"),
            };
            let lines = document(&mut rng);
            let text = join(&mut rng, &lines);
            write(&root.join(dir).join(name), text.as_bytes());
            count += 1;
        }
    }
    let special: &[(&str, &[u8])] = &[
        ("edge/empty.txt", b""),
        ("edge/blank.txt", b" \n\t\r\n\n\xc2\xa0\n"),
        ("edge/only-boilerplate.txt", b"Share This\nShare on Facebook\n"),
        ("edge/no-final-newline.txt", b"Just one line, no end"),
        (
            "edge/bom.txt",
            b"\xef\xbb\xbfA page with a byte-order mark.\n\nShare This\n",
        ),
        (
            "edge/latin1.txt",
            b"Le caf\xe9 de la r\xe9publique est ferm\xe9 \xe0 cause de la gr\xe8ve g\xe9n\xe9rale.\r\n\r\nShare This\r\n",
        ),
        ("edge/binary.bin", b"GIF89a\x00\x01\x02 not text"),
        ("edge/crlf-only.txt", b"\r\n\r\n\r\n"),
    ];
    for (path, bytes) in special {
        write(&root.join(path), bytes);
        count += 1;
    }
    count
}

/// A generated corpus and the test pack, written under one directory: what
/// most tests clean, next to the seeds.
pub struct Fixture {
    /// The generated tree.
    pub generated: PathBuf,
    /// The test pack's file, for `--rules`.
    pub pack: PathBuf,
    /// How many files `generate` wrote.
    pub files: usize,
}

impl Fixture {
    /// Writes the corpus to `DIR/gen` and the pack to `DIR/it.toml`.
    pub fn new(dir: &Path) -> Fixture {
        let generated = dir.join("gen");
        let files = generate(&generated);
        let pack = dir.join("it.toml");
        write(&pack, TEST_PACK);
        Fixture { generated, pack, files }
    }

    /// The inputs most tests clean: the seeds, then the generated tree.
    pub fn inputs(&self) -> [PathBuf; 2] {
        [crate::util::seeds_dir(), self.generated.clone()]
    }
}

/// The files under each input in the order dechaff promises: inputs in
/// command-line order, each directory walked depth-first with its entries
/// sorted by file name as bytes.
pub fn walk_order(inputs: &[PathBuf]) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("read_dir")
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        for entry in entries {
            if entry.is_dir() {
                walk(&entry, out);
            } else {
                out.push(entry);
            }
        }
    }
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            walk(input, &mut files);
        } else {
            files.push(input.clone());
        }
    }
    files
}
