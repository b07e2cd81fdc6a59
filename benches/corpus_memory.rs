//! Memory of corpus mode's count table, per distinct line.
//!
//! Counts generated documents (50 lines each: 45 lines of their own, 5
//! shared by every document of their group, spread over 100 groups) with
//! the library's `CorpusCounter`, under a global allocator that tracks live
//! and peak heap bytes, and prints bytes per distinct (group, line) pair for
//! growing corpora. Run with
//!
//! ```sh
//! cargo bench --bench corpus_memory
//! ```
//!
//! The figures are the whole heap of the counting (the table, its shards,
//! the per-document key buffer), not an estimate from capacities; the
//! table's own estimate (`CorpusCounts::table_bytes`) is printed beside them.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use dechaff_engine::corpus::{CorpusCounter, GroupKey};

struct Tracking;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

/// `n` written in letters, so that digit folding keeps every line distinct.
fn letters(mut n: usize, out: &mut String) {
    loop {
        out.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            break;
        }
    }
}

/// Document `doc` of `groups` groups: its own lines and its group's shared ones.
fn document(doc: usize, groups: usize, text: &mut String) -> GroupKey {
    text.clear();
    let group = doc % groups;
    for shared in 0..5 {
        text.push_str("Site menu item ");
        letters(group * 5 + shared, text);
        text.push('\n');
    }
    for line in 0..45 {
        text.push_str("An article sentence, number ");
        letters(doc * 45 + line, text);
        text.push_str(", that no other page has.\n");
    }
    GroupKey::of(&format!("site-{group}"))
}

fn main() {
    println!("documents  distinct lines  heap after counting  bytes/line  peak bytes/line  table_bytes/line  seconds");
    for documents in [2_000, 20_000, 200_000] {
        let mut text = String::new();
        let mut keys = Vec::new();
        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let started = Instant::now();
        let counter = CorpusCounter::new(1);
        for doc in 0..documents {
            let group = document(doc, 100, &mut text);
            counter.add_document(group, &text, &mut keys);
        }
        let counts = counter.finish();
        let seconds = started.elapsed().as_secs_f64();
        let scratch = text.capacity() + keys.capacity() * 8;
        let live = LIVE.load(Ordering::Relaxed) - before - scratch;
        let peak = PEAK.load(Ordering::Relaxed) - before;
        let distinct = counts.distinct_lines();
        assert_eq!(distinct, documents * 45 + 100 * 5);
        println!(
            "{documents:>9}  {distinct:>14}  {live:>19}  {:>10.1}  {:>15.1}  {:>16.1}  {seconds:>7.2}",
            live as f64 / distinct as f64,
            peak as f64 / distinct as f64,
            counts.table_bytes() as f64 / distinct as f64
        );
        drop(counts);
    }
}
