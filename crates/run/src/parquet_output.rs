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
//! The file is an [`AtomicFile`], so a half-written output never stands
//! under its final name; its pages are compressed like the input's (or as
//! `--compress` says), and its row groups hold as many rows as the input's first.

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, LargeStringArray, RecordBatch, StringArray, StringViewArray, UInt32Array};
use arrow_schema::DataType;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as Codec, GzipLevel, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::error::{Error, Result};
use crate::input::{Compression, ParquetLayout, ParquetRow};
use crate::output::{AtomicFile, Placement};
use crate::provenance::OutputStats;

/// A cleaned row, as a worker renders it for a Parquet output.
#[derive(Debug)]
pub struct CleanedRow {
    /// The input row.
    pub row: ParquetRow,
    /// Its cleaned text.
    pub text: String,
}

/// A Parquet file being written.
pub struct ParquetOutput {
    target: std::path::PathBuf,
    writer: ArrowWriter<AtomicWriter>,
    layout: Arc<ParquetLayout>,
    /// The kept rows of the batch under way, and their cleaned texts.
    pending: Option<PendingRows>,
    rows: u64,
}

struct PendingRows {
    batch: Arc<arrow_array::RecordBatch>,
    rows: Vec<u32>,
    texts: Vec<String>,
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
    /// Starts writing `target` in the input's `layout`.
    pub fn create(
        placement: &Placement,
        target: &Path,
        layout: Arc<ParquetLayout>,
        compress: Option<Compression>,
    ) -> Result<ParquetOutput> {
        let file = AtomicFile::create_placed(placement, target, Compression::None)?;
        let properties = WriterProperties::builder()
            .set_compression(codec(&layout, compress))
            .set_max_row_group_row_count(Some(layout.row_group_rows))
            .build();
        let writer = ArrowWriter::try_new(AtomicWriter(file), Arc::clone(&layout.schema), Some(properties))
            .map_err(|e| parquet_error(target, e))?;
        Ok(ParquetOutput {
            target: target.to_path_buf(),
            writer,
            layout,
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
            });
        }
        let pending = self.pending.as_mut().expect("set above");
        pending
            .rows
            .push(u32::try_from(cleaned.row.row).expect("a batch holds fewer than 2^32 rows"));
        pending.texts.push(cleaned.text);
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
        let batch =
            RecordBatch::try_new(kept.schema(), columns).map_err(|e| Error::io(&self.target, io::Error::other(e)))?;
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
