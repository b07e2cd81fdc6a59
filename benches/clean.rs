//! Micro-benchmarks of the cleaner on one document, with the shipped rules:
//! `cargo bench --bench clean`.
//!
//! The documents are generated here, so the figures do not depend on files
//! outside the repository: a short page, a long article, a page that is
//! mostly boilerplate, and a single 10 MB line (a minified dump or a page
//! with no line breaks, which must not cost more per byte than prose).
//! Throughput is reported in bytes of input per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dechaff_engine::Cleaner;

/// A small deterministic generator, so every run cleans the same bytes.
struct Words(u64);

impl Words {
    const WORDS: [&'static str; 24] = [
        "the",
        "minister",
        "said",
        "on",
        "Tuesday",
        "that",
        "talks",
        "with",
        "the",
        "council",
        "would",
        "resume",
        "after",
        "a",
        "long",
        "delay",
        "in",
        "Tripoli",
        "and",
        "officials",
        "expected",
        "a",
        "new",
        "agreement",
    ];

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A sentence of 6 to 29 words.
    fn sentence(&mut self) -> String {
        let count = 6 + (self.next() % 24) as usize;
        let mut sentence = String::new();
        for i in 0..count {
            if i > 0 {
                sentence.push(' ');
            }
            sentence.push_str(Self::WORDS[(self.next() % Self::WORDS.len() as u64) as usize]);
        }
        sentence.push('.');
        sentence
    }

    /// A paragraph line of 1 to 6 sentences.
    fn paragraph(&mut self) -> String {
        let count = 1 + (self.next() % 6) as usize;
        (0..count).map(|_| self.sentence()).collect::<Vec<_>>().join(" ")
    }
}

const BOILERPLATE: [&str; 12] = [
    "Share This",
    "Share on Facebook",
    "Advertisement",
    "Home",
    "News",
    "Related Articles",
    "Subscribe to our newsletter",
    "All Rights Reserved",
    "Privacy Policy",
    "Show More",
    "By Jane Okoro",
    "Read more",
];

/// A page with a menu, a headline, `paragraphs` paragraphs with a share bar
/// and ad labels among them, and a footer.
fn article(words: &mut Words, paragraphs: usize) -> String {
    let mut page = String::from("Home\nNews\nWorld\nPolitics\n\nTalks resume in Tripoli\n\nBy Jane Okoro\n\n");
    for i in 0..paragraphs {
        page.push_str(&words.paragraph());
        page.push_str("\n\n");
        if i % 7 == 3 {
            page.push_str("Advertisement\n\n");
        }
    }
    page.push_str("Share This\nShare on Facebook\n\nRelated Articles\nTalks stall again\n\n\u{a9} 2016 The Ledger. All Rights Reserved\nPrivacy Policy\n");
    page
}

/// A page that is three parts boilerplate lines to one part prose.
fn boilerplate_heavy(words: &mut Words, lines: usize) -> String {
    let mut page = String::new();
    for i in 0..lines {
        if i % 4 == 0 {
            page.push_str(&words.sentence());
        } else {
            page.push_str(BOILERPLATE[(words.next() % BOILERPLATE.len() as u64) as usize]);
        }
        page.push('\n');
    }
    page
}

/// One line of about `bytes` bytes: sentences with no line break between them.
fn one_line(words: &mut Words, bytes: usize) -> String {
    let mut line = String::with_capacity(bytes + 200);
    while line.len() < bytes {
        line.push_str(&words.sentence());
        line.push(' ');
    }
    line.push('\n');
    line
}

fn bench_clean(c: &mut Criterion) {
    let mut words = Words(0x2545_F491_4F6C_DD1D);
    let documents = [
        ("short", article(&mut words, 4)),
        ("long", article(&mut words, 400)),
        ("boilerplate-heavy", boilerplate_heavy(&mut words, 2000)),
        ("one-10MB-line", one_line(&mut words, 10_000_000)),
    ];
    let mut cleaner = Cleaner::with_shipped_rules().expect("the shipped rules compile");
    let mut group = c.benchmark_group("clean");
    for (name, document) in &documents {
        // Warm the lazy DFA's cache on this document before measuring.
        cleaner.clean(document);
        group.throughput(Throughput::Bytes(document.len() as u64));
        if document.len() > 1_000_000 {
            group.sample_size(10);
        }
        group.bench_function(*name, |b| b.iter(|| cleaner.clean(document).text.len()));
    }
    group.finish();
}

criterion_group!(benches, bench_clean);
criterion_main!(benches);
