//! Parquet files: one document per row, read in record batches.
//!
//! A Parquet file is read through the `parquet` crate's Arrow reader, one
//! record batch at a time, so a file of any size costs the memory of a few
//! batches: the batch's row count is chosen from the row groups' average
//! uncompressed row size so that a batch holds about [`BATCH_BYTES`]. Each
//! row becomes a [`Document`] whose envelope is the row's batch and index:
//! every other column goes back out as it was read, in Arrow form, only the
//! text column replaced ([`crate::parquet_output`]).
//!
//! Parquet needs random access (its footer holds the schema), so it is read
//! from a file, never from standard input or through a decompressor; its
//! pages carry their own compression.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, SchemaRef};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::file::metadata::ParquetMetaData;

use super::{compress::StoredTally, BadRecord, BadRecordKind, Document, Envelope, Item, ReadSettings, StreamError};
use crate::provenance::DocumentLocation;

/// The magic bytes a Parquet file starts (and ends) with.
pub const PARQUET_MAGIC: &[u8; 4] = b"PAR1";

/// About this many uncompressed bytes of rows are read per batch.
pub const BATCH_BYTES: usize = 4 * 1024 * 1024;
/// A batch holds at most this many rows.
const BATCH_ROWS: usize = 1024;

/// What an output needs to write a Parquet input's rows back: its schema,
/// which column is the text, its compression and row-group size.
#[derive(Debug)]
pub struct ParquetLayout {
    /// The Arrow schema of the rows, with the file's key-value metadata.
    pub schema: SchemaRef,
    /// The index of the text column in `schema`.
    pub text_column: usize,
    /// The compression of the input's first column chunk (the output's, unless `--compress`).
    pub compression: parquet::basic::Compression,
    /// Rows in the input's first row group: the output's row-group size.
    pub row_group_rows: usize,
}

/// One row of a Parquet input: the batch it was read in and its index there.
#[derive(Debug, Clone)]
pub struct ParquetRow {
    /// The batch the row was read in (shared by the batch's documents).
    pub batch: Arc<RecordBatch>,
    /// The row's index in `batch`.
    pub row: usize,
    /// How the input is laid out.
    pub layout: Arc<ParquetLayout>,
}

impl ParquetRow {
    /// Column `name` of the row as text, where `name` may be a dotted path
    /// into struct columns (`meta.lang`): a string's, number's or boolean's
    /// value; `None` for a null, a missing column or a nested or temporal value.
    pub fn field(&self, name: &str) -> Option<String> {
        let mut parts = name.split('.');
        let mut column: Arc<dyn Array> = Arc::clone(self.batch.column_by_name(parts.next()?)?);
        for part in parts {
            let DataType::Struct(_) = column.data_type() else {
                return None;
            };
            column = Arc::clone(column.as_struct().column_by_name(part)?);
        }
        cell_text(&*column, self.row)
    }
}

/// The value at `row` of `column` as text; `None` when it is null.
fn cell_text(column: &dyn Array, row: usize) -> Option<String> {
    if column.is_null(row) {
        return None;
    }
    match column.data_type() {
        DataType::Utf8 => Some(column.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Some(column.as_string::<i64>().value(row).to_string()),
        DataType::Utf8View => Some(column.as_string_view().value(row).to_string()),
        DataType::Boolean => Some(column.as_boolean().value(row).to_string()),
        DataType::Int8 => Some(column.as_primitive::<Int8Type>().value(row).to_string()),
        DataType::Int16 => Some(column.as_primitive::<Int16Type>().value(row).to_string()),
        DataType::Int32 => Some(column.as_primitive::<Int32Type>().value(row).to_string()),
        DataType::Int64 => Some(column.as_primitive::<Int64Type>().value(row).to_string()),
        DataType::UInt8 => Some(column.as_primitive::<UInt8Type>().value(row).to_string()),
        DataType::UInt16 => Some(column.as_primitive::<UInt16Type>().value(row).to_string()),
        DataType::UInt32 => Some(column.as_primitive::<UInt32Type>().value(row).to_string()),
        DataType::UInt64 => Some(column.as_primitive::<UInt64Type>().value(row).to_string()),
        DataType::Float32 => Some(column.as_primitive::<Float32Type>().value(row).to_string()),
        DataType::Float64 => Some(column.as_primitive::<Float64Type>().value(row).to_string()),
        // Nested and temporal values have no one text form to group or name by.
        _ => None,
    }
}

/// Whether the file at `path` starts with the Parquet magic bytes.
pub fn starts_like_parquet(path: &Path) -> bool {
    // Only a regular file can be Parquet (its footer is read first); a
    // FIFO is not even opened, for opening it would take its writer's data.
    if !std::fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.len() >= 12) {
        return false;
    }
    let Ok(mut file) = File::open(path) else {
        return false;
    };
    let mut head = [0u8; 4];
    file.read_exact(&mut head).is_ok_and(|()| &head == PARQUET_MAGIC)
}

pub(super) struct ParquetReader {
    source: Arc<Path>,
    settings: ReadSettings,
    layout: Arc<ParquetLayout>,
    metadata: Arc<ParquetMetaData>,
    batches: ParquetRecordBatchReader,
    /// The batch being handed out, and the next row of it.
    batch: Option<(Arc<RecordBatch>, usize)>,
    /// Rows handed out so far in the whole file.
    index: u64,
    /// The row group the next row is in, and the rows of it not yet handed out.
    row_group: usize,
    left_in_group: u64,
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

impl ParquetReader {
    /// Opens `path`, checks that the text column is there and is a string,
    /// and hashes the stored file into `tally` (Parquet is read out of order,
    /// so the hash is one sequential read of its own).
    pub(super) fn open(path: &Path, settings: &ReadSettings, tally: &StoredTally) -> io::Result<ParquetReader> {
        tally.read_all(File::open(path)?)?;
        let file = File::open(path)?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| invalid(format!("not a readable Parquet file: {e}")))?;
        let schema = Arc::clone(builder.schema());
        let metadata = Arc::clone(builder.metadata());
        let field = &settings.text_field;
        let Some((text_column, text)) = schema.column_with_name(field) else {
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(invalid(format!(
                "the Parquet file has no {field:?} column (--text-field); its columns are {}",
                names.join(", ")
            )));
        };
        if !matches!(
            text.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ) {
            return Err(invalid(format!(
                "the {field:?} column is {}, not a string (--text-field)",
                text.data_type()
            )));
        }
        let groups = metadata.row_groups();
        let rows: i64 = groups.iter().map(|g| g.num_rows()).sum();
        let bytes: i64 = groups.iter().map(|g| g.total_byte_size()).sum();
        let row_bytes = usize::try_from(bytes / rows.max(1)).unwrap_or(usize::MAX).max(1);
        let batch_rows = (BATCH_BYTES / row_bytes).clamp(1, BATCH_ROWS);
        let compression = groups
            .first()
            .and_then(|g| g.columns().first())
            .map_or(parquet::basic::Compression::UNCOMPRESSED, |c| c.compression());
        let row_group_rows = groups
            .first()
            .and_then(|g| usize::try_from(g.num_rows()).ok())
            .filter(|&n| n > 0)
            .unwrap_or(1024 * 1024);
        let batches = builder
            .with_batch_size(batch_rows)
            .build()
            .map_err(|e| invalid(format!("not a readable Parquet file: {e}")))?;
        Ok(ParquetReader {
            source: Arc::from(path),
            settings: settings.clone(),
            layout: Arc::new(ParquetLayout {
                schema,
                text_column,
                compression,
                row_group_rows,
            }),
            metadata,
            batches,
            batch: None,
            index: 0,
            row_group: 0,
            left_in_group: 0,
        })
    }

    pub(super) fn layout(&self) -> &Arc<ParquetLayout> {
        &self.layout
    }

    /// Where the next row stands: its ordinal and row group.
    fn location(&mut self) -> DocumentLocation {
        while self.left_in_group == 0 && self.row_group < self.metadata.num_row_groups() {
            self.left_in_group = u64::try_from(self.metadata.row_group(self.row_group).num_rows()).unwrap_or(0);
            if self.left_in_group == 0 {
                self.row_group += 1;
            }
        }
        DocumentLocation {
            index: self.index,
            row_group: Some(self.row_group as u64),
            ..DocumentLocation::default()
        }
    }

    pub(super) fn next_item(&mut self) -> Option<Result<Item, StreamError>> {
        let location = self.location();
        let (batch, row) = match &mut self.batch {
            Some((batch, row)) if *row < batch.num_rows() => {
                *row += 1;
                (Arc::clone(batch), *row - 1)
            }
            _ => match self.batches.next()? {
                Ok(batch) => {
                    let batch = Arc::new(batch);
                    self.batch = Some((Arc::clone(&batch), 1));
                    if batch.num_rows() == 0 {
                        self.batch = None;
                        return self.next_item();
                    }
                    (batch, 0)
                }
                Err(e) => {
                    return Some(Err(StreamError {
                        location,
                        message: format!("the Parquet data cannot be read: {e}"),
                    }))
                }
            },
        };
        self.index += 1;
        self.left_in_group = self.left_in_group.saturating_sub(1);
        if self.left_in_group == 0 {
            self.row_group += 1;
        }
        Some(Ok(self.document(batch, row, location)))
    }

    fn document(&self, batch: Arc<RecordBatch>, row: usize, mut location: DocumentLocation) -> Item {
        let row = ParquetRow {
            batch,
            row,
            layout: Arc::clone(&self.layout),
        };
        location.id = row.field(&self.settings.id_field);
        location.url = row.field("url");
        let text = match cell_text(row.batch.column(self.layout.text_column).as_ref(), row.row) {
            Some(text) => text,
            None => {
                return Item::Bad(Box::new(BadRecord {
                    location,
                    reason: BadRecordKind::TextFieldNotString {
                        field: self.settings.text_field.clone(),
                        found: "null",
                    },
                    raw_bytes: 0,
                    raw_excerpt: Vec::new(),
                }))
            }
        };
        let raw_bytes = text.len() as u64;
        if raw_bytes > self.settings.max_doc_bytes {
            return Item::Bad(Box::new(BadRecord {
                location,
                reason: BadRecordKind::TooLarge {
                    bytes: raw_bytes,
                    limit: self.settings.max_doc_bytes,
                },
                raw_bytes,
                raw_excerpt: Vec::new(),
            }));
        }
        Item::Document(Box::new(Document {
            source: Arc::clone(&self.source),
            location,
            raw_sha256: dechaff_engine::hash::sha256_hex(text.as_bytes()),
            text,
            encoding: "UTF-8",
            lossy: false,
            raw_bytes,
            envelope: Envelope::Parquet(row),
        }))
    }
}
