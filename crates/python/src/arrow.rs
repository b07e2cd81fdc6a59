//! Arrow string arrays in and out, through the Arrow C Data Interface.
//!
//! An input array is imported from its `__arrow_c_array__` PyCapsules
//! (pyarrow ≥ 14, polars, arro3, ...): the texts are read in place from the
//! producer's buffers, never turned into Python objects. The kept texts are
//! written into one new Arrow buffer and exported the same way; pyarrow takes
//! it over without a copy. No pyarrow is needed to build the module.

use std::ops::Range;
use std::sync::Arc;

use arrow_array::builder::GenericStringBuilder;
use arrow_array::ffi::{from_ffi, to_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::{Array, GenericStringArray, OffsetSizeTrait};
use arrow_data::ArrayData;
use arrow_schema::DataType;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyList, PyTuple};
use rayon::prelude::*;

use crate::cleaner::{check_groups, clean_chunk, in_pool, Shared};

/// Documents cleaned by one leased cleaner before the next lease: small
/// enough to balance the threads, large enough that the pool's lock is rare.
const CHUNK: usize = 64;

/// An Arrow array exported through `__arrow_c_array__`; `pyarrow.array(x)`
/// takes it over without copying.
#[pyclass(module = "dechaff._dechaff", frozen)]
pub struct ArrowArray {
    data: ArrayData,
}

#[pymethods]
impl ArrowArray {
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        // A requested schema may be ignored by the producer (the protocol's rule).
        let _ = requested_schema;
        let (array, schema) = to_ffi(&self.data).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let schema = PyCapsule::new_with_value(py, schema, c"arrow_schema")?;
        let array = PyCapsule::new_with_value(py, array, c"arrow_array")?;
        PyTuple::new(py, [schema.into_any(), array.into_any()])
    }

    fn __len__(&self) -> usize {
        self.data.len()
    }
}

/// Imports an array from its producer's PyCapsules.
fn import(obj: &Bound<'_, PyAny>) -> PyResult<ArrayData> {
    let pair = obj.call_method0("__arrow_c_array__")?;
    let (schema, array): (Bound<'_, PyCapsule>, Bound<'_, PyCapsule>) = pair.extract()?;
    let schema = schema.pointer_checked(Some(c"arrow_schema"))?.cast::<FFI_ArrowSchema>();
    let array = array.pointer_checked(Some(c"arrow_array"))?.cast::<FFI_ArrowArray>();
    // SAFETY: the capsules hold a valid schema and array (the protocol's
    // contract). The array is moved out and an empty, released one left in
    // its place, so the capsule's destructor does not release it again; the
    // schema is only borrowed while the capsule is alive.
    unsafe {
        let array = std::ptr::replace(array.as_ptr(), FFI_ArrowArray::empty());
        from_ffi(array, schema.as_ref())
    }
    .map_err(|e| PyValueError::new_err(format!("cannot import the Arrow array: {e}")))
}

/// Cleans an Arrow array (or a pyarrow `ChunkedArray`, chunk by chunk) and
/// returns a pyarrow array of the same type.
pub(crate) fn clean_arrow<'py>(
    py: Python<'py>,
    shared: &Arc<Shared>,
    texts: &Bound<'py, PyAny>,
    groups: Option<Vec<Option<String>>>,
    jobs: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let pyarrow = py.import("pyarrow")?;
    if !texts.hasattr("__arrow_c_array__")? {
        // A ChunkedArray: each chunk in turn, its groups sliced to match.
        let chunks = PyList::empty(py);
        let mut start = 0;
        for chunk in texts.getattr("chunks")?.try_iter()? {
            let chunk = chunk?;
            let len = chunk.len()?;
            let part = groups
                .as_ref()
                .map(|g| g.get(start..start + len).unwrap_or_default().to_vec());
            if groups.is_some() && part.as_ref().map(Vec::len) != Some(len) {
                check_groups(texts.len()?, groups.as_deref())?;
            }
            chunks.append(clean_arrow(py, shared, &chunk, part, jobs)?)?;
            start += len;
        }
        return pyarrow.call_method1("chunked_array", (chunks, texts.getattr("type")?));
    }
    let data = import(texts)?;
    check_groups(data.len(), groups.as_deref())?;
    let groups = groups.as_deref();
    let cleaned = py.detach(|| match data.data_type() {
        DataType::Utf8 => clean_strings(shared, &GenericStringArray::<i32>::from(data.clone()), groups, jobs),
        DataType::LargeUtf8 => clean_strings(shared, &GenericStringArray::<i64>::from(data.clone()), groups, jobs),
        other => Err(PyTypeError::new_err(format!(
            "clean_batch wants an Arrow string or large_string array, not {other}"
        ))),
    })?;
    pyarrow.call_method1("array", (ArrowArray { data: cleaned },))
}

fn clean_strings<O: OffsetSizeTrait>(
    shared: &Shared,
    array: &GenericStringArray<O>,
    groups: Option<&[Option<String>]>,
    jobs: Option<usize>,
) -> PyResult<ArrayData> {
    let n = array.len();
    let chunks: Vec<Range<usize>> = (0..n).step_by(CHUNK).map(|s| s..(s + CHUNK).min(n)).collect();
    let parts: Vec<(String, Vec<Option<usize>>)> = in_pool(jobs, || {
        chunks
            .into_par_iter()
            .map(|range| {
                let mut out = String::new();
                let mut ends = Vec::with_capacity(range.len());
                let texts = range.map(|i| {
                    let text = array.is_valid(i).then(|| array.value(i));
                    (text, groups.and_then(|g| g[i].as_deref()))
                });
                clean_chunk(shared, texts, &mut out, &mut ends);
                (out, ends)
            })
            .collect()
    })?;
    let total: usize = parts.iter().map(|(out, _)| out.len()).sum();
    if O::from_usize(total).is_none() {
        return Err(PyValueError::new_err(format!(
            "the kept texts take {total} bytes, more than a string array holds: use a large_string array"
        )));
    }
    let mut builder = GenericStringBuilder::<O>::with_capacity(n, total);
    for (out, ends) in &parts {
        let mut start = 0;
        for end in ends {
            match *end {
                None => builder.append_null(),
                Some(end) => {
                    builder.append_value(&out[start..end]);
                    start = end;
                }
            }
        }
    }
    Ok(builder.finish().into_data())
}
