//! The rule loader on arbitrary input, in two shapes.
//!
//! First byte 0: the rest is a whole pack file, as `--rules` would read it.
//! Otherwise the rest is `PATTERN \x00 DOCUMENT`, and the first byte picks
//! the rule kind: the pattern goes into a well-formed pack as a literal
//! string, so that the regex validation, the matcher and the cleaner see
//! arbitrary patterns instead of the fuzzer having to find valid TOML first.
//! Whatever loads must compile or fail with an error, and clean without
//! panicking and with every byte accounted for.
#![no_main]

mod common;

use dechaff_run::decode::{decode, EncodingChoice};
use dechaff_engine::{CleanerBuilder, RuleSetBuilder};
use libfuzzer_sys::fuzz_target;

const SAMPLE: &str = "Title\n\nShare This\nBody text with [email protected] inside.\n\nLeave a Reply\nName\n";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (pack, document) = if mode == 0 {
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        (text.to_string(), SAMPLE.as_bytes())
    } else {
        let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        let Ok(pattern) = std::str::from_utf8(&rest[..split]) else {
            return;
        };
        if pattern.contains("'''") {
            return;
        }
        let document = rest.get(split + 1..).unwrap_or(b"");
        let trigger = match mode % 4 {
            0 => format!("kind = \"block\"\nstart = '''{pattern}'''\nend = '''{pattern}'''\nmax-lines = 3"),
            1 => format!("pattern = '''{pattern}'''"),
            2 => format!("kind = \"inline\"\npattern = '''{pattern}'''"),
            _ => format!("kind = \"tail\"\npattern = '''{pattern}'''\nmin-position = 0.0"),
        };
        let pack = format!(
            "[pack]\nname = \"f\"\nversion = \"1\"\ndescription = \"fuzz\"\n\n\
             [[rule]]\nid = \"f.r\"\ndescription = \"fuzz\"\n{trigger}\n"
        );
        (pack, document)
    };
    let Ok(rules) = RuleSetBuilder::new()
        .no_default_rules(true)
        .add_text("fuzz.toml", pack)
        .build()
    else {
        return;
    };
    let _ = rules.test_examples();
    let Ok(mut cleaner) = CleanerBuilder::new().build(rules) else {
        return;
    };
    let document = if document.is_empty() {
        SAMPLE.as_bytes()
    } else {
        document
    };
    if let Ok(decoded) = decode(document, EncodingChoice::Detect) {
        common::clean_and_check(&mut cleaner, document, &decoded);
    }
});
