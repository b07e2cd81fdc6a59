//! Checks shared by the fuzz targets: what must hold for any cleaning.

use dechaff_engine::Cleaner;
use dechaff_run::provenance::{rebuild_input, InputStats, ProvenanceText, Record, RulesStamp, SpanDestination};

/// Cleans `text` with `cleaner` and asserts the engine's promises about the
/// result: the full-text record rebuilds the input byte for byte, the output
/// is normalised (no blank line at the start, never two blank lines in a
/// row), spans logged as a run logs them (spilling past a few hundred bytes)
/// are written as the held ones are, and `explain` renders it without panicking.
pub fn clean_and_check(cleaner: &mut Cleaner, raw: &[u8], decoded: &dechaff_run::decode::Decoded<'_>) {
    let rules = cleaner.shared_rules();
    let stamp = RulesStamp::of(&rules, cleaner.config());
    let text = decoded.text.as_ref();
    let cleaned = cleaner.clean(text);
    let describe = |spans: SpanDestination<'_>| {
        let mut record = Record::new("fuzz".to_string(), &stamp);
        record
            .describe_cleaning(
                InputStats::undecoded(raw),
                text,
                (decoded.encoding, decoded.lossy),
                &cleaned,
                &rules,
                ProvenanceText::Full,
                spans,
            )
            .expect("the temporary directory takes a span log");
        record
    };
    let mut record = describe(SpanDestination::Record);
    let temporary = std::env::temp_dir();
    let mut logged = describe(SpanDestination::Log {
        directory: &temporary,
        spill_bytes: 256,
    });
    let (mut held_line, mut logged_line) = (Vec::new(), Vec::new());
    record.write_json_line(&mut held_line).unwrap();
    logged.write_json_line(&mut logged_line).unwrap();
    assert_eq!(held_line, logged_line, "logged spans are not written as held ones");
    let rebuilt = rebuild_input(&cleaned.text, &record).expect("a full-text record rebuilds");
    assert_eq!(rebuilt, text, "output + removed + whitespace spans != input");
    let output = cleaned.text.as_str();
    assert!(!output.starts_with('\n'), "output starts with a blank line: {output:?}");
    assert!(!output.contains("\n\n\n"), "two blank lines in a row: {output:?}");
    assert!(cleaned.removed_bytes <= text.len());
    let _ = dechaff_engine::explain::render(text, &cleaned, &rules, true);
}
