//! Parquet outputs: a Parquet input's rows, in its schema, with the cleaned text.
//!
//! Rows arrive in input order, each one a row of a batch the reader read
//! ([`crate::input::ParquetRow`]). The rows of one batch are gathered and
//! written together: the batch with the refused rows taken out and the text
//! column replaced, every other column as it was read (nested and list
//! columns included). What is written per call depends only on the input's
//! batches and on which rows were refused, never on `--jobs`, so the pages
//! and row groups, hence the bytes, are the same in every run.
//!
//! With `--metadata summary` or `full`, each row also gets a summary of its
//! cleaning in columns of its own ([`SUMMARY_COLUMNS`], and
//! [`PROVENANCE_COLUMN`] for `full`), appended after the input's: Parquet
//! has no free-form metadata per row, and columns are what a query engine
//! filters on (`WHERE dechaff_removed_bytes > 0`). An input that already has
//! one of these columns is refused rather than given two of one name.
//!
//! The file is an [`AtomicFile`], so a half-written output never stands
//! under its final name; its pages are compressed like the input's (or as
//! `--compress` says), and its row groups hold as many rows as the input's first.

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{
    Array, ArrayRef, Int64Array, LargeStringArray, RecordBatch, StringArray, StringViewArray, UInt32Array,
};
use arrow_schema::{DataType, Field, FieldRef, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as Codec, GzipLevel, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::error::{Error, ErrorKind, Result};
use crate::input::{Compression, ParquetLayout, ParquetRow};
use crate::output::{AtomicFile, Placement};
use crate::provenance::{Metadata, OutputStats, Record};

/// The removal-summary columns `--metadata summary` and `full` add.
pub const SUMMARY_COLUMNS: [&str; 3] = ["dechaff_removed_bytes", "dechaff_rules", "dechaff_warnings"];

/// The column `--metadata full` adds: the document's provenance as JSON.
pub const PROVENANCE_COLUMN: &str = "dechaff_provenance";

/// A cleaned row, as a worker renders it for a Parquet output.
#[derive(Debug)]
pub struct CleanedRow {
    /// The input row.
    pub row: ParquetRow,
    /// Its cleaned text.
    pub text: String,
    /// Its summary columns' values, unless `--metadata none`.
    pub summary: Option<RowSummary>,
}

/// What the summary columns hold for one row.
#[derive(Debug, Clone, Default)]
pub struct RowSummary {
    /// Bytes removed by rules.
    pub removed_bytes: i64,
    /// The ids of the rules that removed them, sorted, each once.
    pub rules: Vec<String>,
    /// Warnings (the removal budget).
    pub warnings: Vec<String>,
    /// The document's provenance as `metadata.dechaff` holds it, for `--metadata full`.
    pub provenance: Option<String>,
}

impl RowSummary {
    /// The summary of a document's provenance `record`, with the JSON
    /// record too for `Metadata::Full`; `None` for `Metadata::None`.
    pub fn of(record: &Record, metadata: Metadata) -> Option<RowSummary> {
        if metadata == Metadata::None {
            return None;
        }
        let tally = record.tally();
        let mut rules: Vec<String> = tally.rules.iter().map(|rule| rule.rule.to_string()).collect();
        rules.sort_unstable();
        Some(RowSummary {
            removed_bytes: tally.bytes as i64,
            rules,
            warnings: record.warnings.clone(),
            provenance: (metadata == Metadata::Full)
                .then(|| record.metadata_json(Metadata::Full))
                .flatten(),
        })
    }
}

/// The output schema: the input's, and the columns `metadata` adds.
/// Refused when the input already has one of them.
fn output_schema(layout: &ParquetLayout, metadata: Metadata, input: &Path) -> Result<SchemaRef> {
    let added: Vec<Field> = match metadata {
        Metadata::None => return Ok(Arc::clone(&layout.schema)),
        Metadata::Summary | Metadata::Full => {
            let list = || DataType::List(Arc::new(Field::new("item", DataType::Utf8, false)));
            let mut added = vec![
                Field::new(SUMMARY_COLUMNS[0], DataType::Int64, false),
                Field::new(SUMMARY_COLUMNS[1], list(), false),
                Field::new(SUMMARY_COLUMNS[2], list(), false),
            ];
            if metadata == Metadata::Full {
                added.push(Field::new(PROVENANCE_COLUMN, DataType::Utf8, false));
            }
            added
        }
    };
    if let Some(clash) = added
        .iter()
        .find(|field| layout.schema.column_with_name(field.name()).is_some())
    {
        return Err(Error::new(ErrorKind::ColumnClash {
            path: input.to_path_buf(),
            column: clash.name().clone(),
        }));
    }
    let mut fields: Vec<FieldRef> = layout.schema.fields().iter().cloned().collect();
    fields.extend(added.into_iter().map(Arc::new));
    Ok(Arc::new(Schema::new_with_metadata(
        fields,
        layout.schema.metadata().clone(),
    )))
}

/// A list<string> column of `lists`.
fn string_lists(lists: impl Iterator<Item = Vec<String>>) -> ArrayRef {
    let mut builder =
        ListBuilder::new(StringBuilder::new()).with_field(Arc::new(Field::new("item", DataType::Utf8, false)));
    for list in lists {
        for item in list {
            builder.values().append_value(item);
        }
        builder.append(true);
    }
    Arc::new(builder.finish())
}

/// A Parquet file being written.
pub struct ParquetOutput {
    target: std::path::PathBuf,
    writer: ArrowWriter<AtomicWriter>,
    layout: Arc<ParquetLayout>,
    /// The schema written: the input's and the summary columns.
    schema: SchemaRef,
    /// The kept rows of the batch under way, and their cleaned texts.
    pending: Option<PendingRows>,
    rows: u64,
}

struct PendingRows {
    batch: Arc<arrow_array::RecordBatch>,
    rows: Vec<u32>,
    texts: Vec<String>,
    summaries: Vec<RowSummary>,
}

/// The codec an output's pages get: `--compress` if given, else the input's.
fn codec(layout: &ParquetLayout, compress: Option<Compression>) -> Codec {
    match compress {
        None => layout.compression,
        Some(Compression::None) => Codec::UNCOMPRESSED,
        Some(Compression::Gzip) => Codec::GZIP(GzipLevel::default()),
        Some(Compression::Zstd) => Codec::ZSTD(ZstdLevel::default()),
    }
}

impl ParquetOutput {
    /// Starts writing `target` (the output of `input`) in the input's
    /// `layout`, with the summary columns `metadata` asks for.
    pub fn create(
        placement: &Placement,
        (input, target): (&Path, &Path),
        layout: Arc<ParquetLayout>,
        compress: Option<Compression>,
        metadata: Metadata,
    ) -> Result<ParquetOutput> {
        let schema = output_schema(&layout, metadata, input)?;
        let file = AtomicFile::create_placed(placement, target, Compression::None)?;
        let properties = WriterProperties::builder()
            .set_compression(codec(&layout, compress))
            .set_max_row_group_row_count(Some(layout.row_group_rows))
            .build();
        let writer = ArrowWriter::try_new(AtomicWriter(file), Arc::clone(&schema), Some(properties))
            .map_err(|e| parquet_error(target, e))?;
        Ok(ParquetOutput {
            target: target.to_path_buf(),
            writer,
            layout,
            schema,
            pending: None,
            rows: 0,
        })
    }

    /// Appends a cleaned row (rows come in input order).
    pub fn push(&mut self, cleaned: CleanedRow) -> Result<()> {
        let same_batch = self
            .pending
            .as_ref()
            .is_some_and(|pending| Arc::ptr_eq(&pending.batch, &cleaned.row.batch));
        if !same_batch {
            self.write_pending()?;
            self.pending = Some(PendingRows {
                batch: Arc::clone(&cleaned.row.batch),
                rows: Vec::new(),
                texts: Vec::new(),
                summaries: Vec::new(),
            });
        }
        let pending = self.pending.as_mut().expect("set above");
        pending
            .rows
            .push(u32::try_from(cleaned.row.row).expect("a batch holds fewer than 2^32 rows"));
        pending.texts.push(cleaned.text);
        pending.summaries.extend(cleaned.summary);
        Ok(())
    }

    /// Writes the gathered rows of the batch under way.
    fn write_pending(&mut self) -> Result<()> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        let all_kept = pending.rows.len() == pending.batch.num_rows()
            && pending.rows.iter().enumerate().all(|(i, &row)| i == row as usize);
        let kept = if all_kept {
            (*pending.batch).clone()
        } else {
            arrow_select::take::take_record_batch(&pending.batch, &UInt32Array::from(pending.rows))
                .map_err(|e| Error::io(&self.target, io::Error::other(e)))?
        };
        let text_column = self.layout.text_column;
        let text: ArrayRef = match kept.column(text_column).data_type() {
            DataType::LargeUtf8 => Arc::new(LargeStringArray::from_iter_values(&pending.texts)),
            DataType::Utf8View => Arc::new(StringViewArray::from_iter_values(&pending.texts)),
            _ => Arc::new(StringArray::from_iter_values(&pending.texts)),
        };
        let mut columns = kept.columns().to_vec();
        columns[text_column] = text;
        if self.schema.fields().len() > columns.len() {
            let summaries = &pending.summaries;
            columns.push(Arc::new(Int64Array::from_iter_values(
                summaries.iter().map(|s| s.removed_bytes),
            )));
            columns.push(string_lists(summaries.iter().map(|s| s.rules.clone())));
            columns.push(string_lists(summaries.iter().map(|s| s.warnings.clone())));
            if self.schema.column_with_name(PROVENANCE_COLUMN).is_some() {
                columns.push(Arc::new(StringArray::from_iter_values(
                    summaries.iter().map(|s| s.provenance.as_deref().unwrap_or("")),
                )));
            }
        }
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns)
            .map_err(|e| Error::io(&self.target, io::Error::other(e)))?;
        self.rows += batch.num_rows() as u64;
        self.writer.write(&batch).map_err(|e| parquet_error(&self.target, e))
    }

    /// Writes what is gathered and the footer, renames the file into place,
    /// and says what was written (`lines` counts rows).
    pub fn finish(mut self) -> Result<OutputStats> {
        self.write_pending()?;
        // `into_inner` writes the footer.
        let AtomicWriter(file) = self.writer.into_inner().map_err(|e| parquet_error(&self.target, e))?;
        let mut stats = file.finish()?;
        stats.lines = self.rows;
        Ok(stats)
    }
}

fn parquet_error(target: &Path, error: parquet::errors::ParquetError) -> Error {
    match error {
        parquet::errors::ParquetError::External(inner) => match inner.downcast::<io::Error>() {
            Ok(io) => Error::io(target, *io),
            Err(other) => Error::io(target, io::Error::other(other)),
        },
        other => Error::io(target, io::Error::other(other)),
    }
}

/// An [`AtomicFile`] as the `Write` the Arrow writer takes.
struct AtomicWriter(AtomicFile);

impl Write for AtomicWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(buf).map_err(io::Error::other)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
