//! Where cleaned documents go: the [`Sink`] trait and its implementations.
//!
//! The pipeline cleans documents on its workers and hands each result to the
//! sink in two steps, after ripgrep's searcher/sink split. On the worker,
//! [`Sink::render`] turns a cleaned document into what will be written (a
//! JSONL line, an attribute line) or writes it whole when it is a file of its
//! own (a text input cleaned into the output tree), so that formatting and
//! compression run in parallel. On the collecting thread, in input order,
//! [`Sink::begin`], [`Sink::accept`] and [`Sink::end`] put the rendered
//! results in place, so the bytes written never depend on which worker
//! finished first. A sink is shared by the workers and the collector, so its
//! ordered state sits behind a lock that only the collector takes.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::attributes;
use crate::error::{Error, Result};
use crate::input::{BadRecordKind, Compression, Document, Envelope, InputFormat, ParquetLayout};
use crate::output::{self, AtomicFile, Placement};
use crate::output_dir::OutputDir;
use crate::parquet_output::{CleanedRow, ParquetOutput, RowSummary};
use crate::plan::Job;
use crate::provenance::{Metadata, OutputStats, Record};

/// What a cleaned document became on the worker.
#[derive(Debug)]
pub enum Rendered {
    /// Written whole to its own output, under this name.
    Written(String),
    /// One line (no newline) to append, in input order, to the job's output.
    Line(String),
    /// The cleaned text, kept for the caller (an in-memory run).
    Text(String),
    /// A Parquet row with its cleaned text, to append to the job's Parquet output.
    Row(CleanedRow),
    /// Not for the sink: a document a filter dropped, as its line in the
    /// `--dropped` file, which the pipeline writes.
    Dropped(String),
}

/// How a document is cleaned into output, decided per input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A text file: one document, which is the file.
    WholeFile,
    /// A record of a JSONL or WARC input.
    Record,
}

/// The destination of a run's cleaned documents.
pub trait Sink: Sync {
    /// On a worker: what the cleaned `text` of `document` (input `job`,
    /// provenance so far in `record`) becomes. An `Err` refuses the document,
    /// with the reason.
    fn render(
        &self,
        job: &Job,
        shape: Shape,
        document: &Document,
        text: &str,
        record: &Record,
    ) -> Result<Rendered, String>;

    /// On a worker: what a record of `job` that was refused (not cleaned)
    /// becomes, if anything. Only an attribute file writes one: its lines
    /// must stay in step with the documents file's.
    fn render_refused(&self, job: &Job, refused: RefusedRecord<'_>) -> Option<Rendered> {
        let _ = (job, refused);
        None
    }

    /// In input order: a JSONL or WARC input starts, stored with `stored`.
    /// An `Err` fails that input, with the reason.
    fn begin(&self, job: &Job, stored: Compression) -> Result<(), String>;

    /// In input order: a Parquet input laid out as `layout` starts. A sink
    /// that does not write Parquet takes its rows as records of a JSONL input.
    fn begin_table(&self, job: &Job, layout: &Arc<ParquetLayout>) -> Result<(), String> {
        let _ = layout;
        self.begin(job, Compression::None)
    }

    /// The output name provenance gives the documents of `job`, if any.
    fn output_name(&self, job: &Job) -> Option<String>;

    /// Whether [`Sink::render`] reads the spans (`removed`, `whitespace`)
    /// of a record of `shape`: an attribute line and `--metadata full`
    /// carry them. Otherwise a run keeps none, only their tally
    /// ([`Record::tally`]).
    fn reads_spans(&self, shape: Shape) -> bool {
        let _ = shape;
        false
    }

    /// In input order: one rendered document of the input begun last (or a
    /// text input's document). An `Err` stops the run.
    fn accept(&self, rendered: Rendered) -> Result<()>;

    /// In input order: the input begun last has ended; `complete` is false when
    /// it cannot be written at all. Returns what was written, if a file was.
    fn end(&self, job: &Job, complete: bool) -> Result<Option<OutputStats>, String>;

    /// A failed or skipped input: nothing of an older run may look current.
    fn remove_stale(&self, job: &Job);

    /// The run has ended: flush what is buffered.
    fn finish(&self) -> Result<()>;
}

/// A record that was refused, as far as it is known.
#[derive(Debug, Clone, Copy)]
pub struct RefusedRecord<'a> {
    /// The record's bytes as stored, or their first bytes when it was cut short.
    pub raw: Option<&'a [u8]>,
    /// The id the reader found, if any.
    pub id: Option<&'a str>,
}

/// The attribute line of a refused record, when records become attribute lines.
fn refused_attribute_line(records: &RecordOutput, refused: RefusedRecord<'_>) -> Option<Rendered> {
    match records {
        RecordOutput::Attributes(id_field) => Some(Rendered::Line(attributes::refused_line(
            refused.raw,
            refused.id,
            id_field,
        ))),
        RecordOutput::Documents(_) => None,
    }
}

/// What a record of a JSONL or WARC input becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutput {
    /// The cleaned record, carrying this much provenance (`--metadata`).
    Documents(Metadata),
    /// A dolma attribute line, with the id read from this field (`--attributes`).
    Attributes(String),
}

impl RecordOutput {
    /// Whether the records made carry each span.
    pub fn reads_spans(&self) -> bool {
        matches!(
            self,
            RecordOutput::Attributes(_) | RecordOutput::Documents(Metadata::Full)
        )
    }

    fn metadata(&self) -> Metadata {
        match self {
            RecordOutput::Documents(metadata) => *metadata,
            RecordOutput::Attributes(_) => Metadata::Summary,
        }
    }
}

/// Renders a record of a JSONL or WARC input, or a text input bound for a
/// stream of lines: the input's record with the text replaced, or the
/// record's attribute line.
fn record_line(
    document: &Document,
    text: &str,
    record: &Record,
    records: &RecordOutput,
) -> Result<Rendered, BadRecordKind> {
    match records {
        RecordOutput::Attributes(id_field) => {
            Ok(Rendered::Line(attributes::attribute_line(document, id_field, record)))
        }
        RecordOutput::Documents(metadata) => {
            output::document_line(document, text, record.metadata_json(*metadata).as_deref()).map(Rendered::Line)
        }
    }
}

/// The output tree under `--out`: a text input becomes a text file, a JSONL
/// or WARC input a JSONL file (or an attribute file) of the same relative path.
pub struct OutputTree {
    /// Outputs are compressed this way instead of like their input.
    compress: Option<Compression>,
    /// What each record becomes.
    records: RecordOutput,
    /// The output of the JSONL or WARC input under way.
    current: Mutex<Option<AtomicFile>>,
    /// The root of the tree and whether outputs are flushed to the disk;
    /// without it, each output's own directory is trusted as it is.
    placement: Option<Placement>,
    /// The output of the Parquet input under way.
    table: Mutex<Option<ParquetOutput>>,
}

impl OutputTree {
    /// A tree sink whose records become `records`.
    pub fn new(compress: Option<Compression>, records: RecordOutput) -> OutputTree {
        OutputTree {
            compress,
            records,
            current: Mutex::new(None),
            placement: None,
            table: Mutex::new(None),
        }
    }

    /// The same sink with its outputs placed as `placement` says: nothing
    /// below its root is reached through a symbolic link.
    pub fn placed(self, placement: Placement) -> OutputTree {
        OutputTree {
            placement: Some(placement),
            ..self
        }
    }

    fn placement_of(&self, job: &Job) -> Placement {
        self.placement
            .clone()
            .unwrap_or_else(|| Placement::below(job.output.parent().unwrap_or(Path::new("")), false))
    }

    fn current(&self) -> MutexGuard<'_, Option<AtomicFile>> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn table(&self) -> MutexGuard<'_, Option<ParquetOutput>> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Sink for OutputTree {
    fn render(
        &self,
        job: &Job,
        shape: Shape,
        document: &Document,
        text: &str,
        record: &Record,
    ) -> Result<Rendered, String> {
        match shape {
            Shape::WholeFile => {
                let compression = self.compress.unwrap_or(job.compression.unwrap_or(Compression::None));
                output::write_file_placed(&self.placement_of(job), &job.output, compression, text.as_bytes())
                    .map_err(|e| e.to_string())?;
                Ok(Rendered::Written(job.output.to_string_lossy().into_owned()))
            }
            Shape::Record => match (&document.envelope, &self.records) {
                (Envelope::Parquet(row), RecordOutput::Documents(metadata)) => Ok(Rendered::Row(CleanedRow {
                    row: row.clone(),
                    text: text.to_string(),
                    summary: RowSummary::of(record, *metadata),
                })),
                _ => record_line(document, text, record, &self.records).map_err(|e| e.to_string()),
            },
        }
    }

    fn render_refused(&self, _job: &Job, refused: RefusedRecord<'_>) -> Option<Rendered> {
        refused_attribute_line(&self.records, refused)
    }

    fn reads_spans(&self, shape: Shape) -> bool {
        shape == Shape::Record && self.records.reads_spans()
    }

    fn begin(&self, job: &Job, stored: Compression) -> Result<(), String> {
        let compression = match (&self.records, job.format) {
            // An attribute file of a JSONL input has the input's name, and
            // dolma reads it compressed as that name says.
            (RecordOutput::Attributes(_), InputFormat::Jsonl) => Compression::from_name(&job.output.to_string_lossy()),
            _ => self.compress.unwrap_or(stored),
        };
        let file =
            AtomicFile::create_placed(&self.placement_of(job), &job.output, compression).map_err(|e| e.to_string())?;
        *self.current() = Some(file);
        Ok(())
    }

    fn begin_table(&self, job: &Job, layout: &Arc<ParquetLayout>) -> Result<(), String> {
        if let RecordOutput::Attributes(_) = self.records {
            // Attribute lines are JSONL whatever the input.
            return self.begin(job, Compression::None);
        }
        let output = ParquetOutput::create(
            &self.placement_of(job),
            (&job.source, &job.output),
            Arc::clone(layout),
            self.compress,
            self.records.metadata(),
        )
        .map_err(|e| e.to_string())?;
        *self.table() = Some(output);
        Ok(())
    }

    fn output_name(&self, job: &Job) -> Option<String> {
        Some(job.output.to_string_lossy().into_owned())
    }

    fn accept(&self, rendered: Rendered) -> Result<()> {
        match rendered {
            Rendered::Line(line) => match self.current().as_mut() {
                Some(file) => file.write_line(&line),
                None => Ok(()),
            },
            Rendered::Row(row) => match self.table().as_mut() {
                Some(output) => output.push(row),
                None => Ok(()),
            },
            Rendered::Written(_) | Rendered::Text(_) | Rendered::Dropped(_) => Ok(()),
        }
    }

    fn end(&self, _job: &Job, complete: bool) -> Result<Option<OutputStats>, String> {
        if let Some(output) = self.table().take() {
            if !complete {
                // Dropped unfinished: the temporary goes, an older output stays.
                return Ok(None);
            }
            return output.finish().map(Some).map_err(|e| e.to_string());
        }
        let Some(file) = self.current().take() else {
            return Ok(None);
        };
        if !complete {
            // Dropped unfinished: the temporary goes, an older output stays.
            drop(file);
            return Ok(None);
        }
        file.finish().map(Some).map_err(|e| e.to_string())
    }

    fn remove_stale(&self, job: &Job) {
        if job.output.as_os_str().is_empty() {
            return;
        }
        // Never through a link: a directory below the root that is a link
        // is not opened, and a link under the output's name goes itself.
        if let Ok((dir, name)) = OutputDir::holding(&self.placement_of(job).root, &job.output, false) {
            let _ = dir.remove(&name);
        }
    }

    fn finish(&self) -> Result<()> {
        Ok(())
    }
}

/// One stream of JSON lines, such as standard output (`--out -`): every
/// document, of every input, as a record.
pub struct JsonLines<W: Write + Send> {
    writer: Mutex<BufWriter<W>>,
    /// The stream's name in error messages.
    name: String,
    /// What each record becomes.
    records: RecordOutput,
}

impl<W: Write + Send> JsonLines<W> {
    /// Lines to `writer`, called `name` in messages; records become `records`.
    pub fn new(writer: W, name: &str, records: RecordOutput) -> JsonLines<W> {
        JsonLines {
            writer: Mutex::new(BufWriter::with_capacity(256 * 1024, writer)),
            name: name.to_string(),
            records,
        }
    }

    fn writer(&self) -> MutexGuard<'_, BufWriter<W>> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The stream, with everything written flushed to it: for a caller
    /// that has more to do with it (end a compressed stream).
    pub fn into_inner(self) -> Result<W> {
        let writer = self.writer.into_inner().unwrap_or_else(|e| e.into_inner());
        writer.into_inner().map_err(|e| Error::io(&self.name, e.into_error()))
    }
}

impl<W: Write + Send> Sink for JsonLines<W> {
    fn render(
        &self,
        _job: &Job,
        shape: Shape,
        document: &Document,
        text: &str,
        record: &Record,
    ) -> Result<Rendered, String> {
        let records = match shape {
            // A text file on a stream is a document record, never attributes.
            Shape::WholeFile => &RecordOutput::Documents(self.records.metadata()),
            Shape::Record => &self.records,
        };
        record_line(document, text, record, records).map_err(|e| e.to_string())
    }

    fn render_refused(&self, _job: &Job, refused: RefusedRecord<'_>) -> Option<Rendered> {
        refused_attribute_line(&self.records, refused)
    }

    fn reads_spans(&self, shape: Shape) -> bool {
        match shape {
            Shape::WholeFile => RecordOutput::Documents(self.records.metadata()).reads_spans(),
            Shape::Record => self.records.reads_spans(),
        }
    }

    fn begin(&self, _job: &Job, _stored: Compression) -> Result<(), String> {
        Ok(())
    }

    fn output_name(&self, _job: &Job) -> Option<String> {
        Some("-".to_string())
    }

    fn accept(&self, rendered: Rendered) -> Result<()> {
        if let Rendered::Line(line) = rendered {
            let mut writer = self.writer();
            writer
                .write_all(line.as_bytes())
                .and_then(|()| writer.write_all(b"\n"))
                .map_err(|e| Error::io(&self.name, e))?;
        }
        Ok(())
    }

    fn end(&self, _job: &Job, _complete: bool) -> Result<Option<OutputStats>, String> {
        Ok(None)
    }

    fn remove_stale(&self, _job: &Job) {}

    fn finish(&self) -> Result<()> {
        self.writer().flush().map_err(|e| Error::io(&self.name, e))
    }
}

/// Keeps every cleaned text in memory, in input order: for `eval`, tests and
/// callers that want the texts rather than files.
#[derive(Debug, Default)]
pub struct InMemory {
    texts: Mutex<Vec<String>>,
}

impl InMemory {
    /// An empty sink.
    pub fn new() -> InMemory {
        InMemory::default()
    }

    /// The cleaned texts of the documents written, in input order.
    pub fn into_texts(self) -> Vec<String> {
        self.texts.into_inner().unwrap_or_else(|e| e.into_inner())
    }
}

impl Sink for InMemory {
    fn render(
        &self,
        _job: &Job,
        _shape: Shape,
        _document: &Document,
        text: &str,
        _record: &Record,
    ) -> Result<Rendered, String> {
        Ok(Rendered::Text(text.to_string()))
    }

    fn begin(&self, _job: &Job, _stored: Compression) -> Result<(), String> {
        Ok(())
    }

    fn output_name(&self, _job: &Job) -> Option<String> {
        None
    }

    fn accept(&self, rendered: Rendered) -> Result<()> {
        if let Rendered::Text(text) = rendered {
            self.texts.lock().unwrap_or_else(|e| e.into_inner()).push(text);
        }
        Ok(())
    }

    fn end(&self, _job: &Job, _complete: bool) -> Result<Option<OutputStats>, String> {
        Ok(None)
    }

    fn remove_stale(&self, _job: &Job) {}

    fn finish(&self) -> Result<()> {
        Ok(())
    }
}

/// Whether `path` names standard output.
pub fn is_stdout(path: &Path) -> bool {
    path == Path::new("-")
}
