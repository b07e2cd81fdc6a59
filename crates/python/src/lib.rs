//! Python bindings of the dechaff engine: the native module `dechaff._dechaff`.
//!
//! The Python package (`python/dechaff/`) re-exports these classes. The
//! design follows the engine's own rule: build once, reuse per thread. A
//! `cleaner::Cleaner` compiles the rules once and keeps a pool of idle
//! engine cleaners, each owning its scratch buffers; a call takes one from
//! the pool (or clones a fresh one) and gives it back, so one Python object
//! serves any number of Python threads and `clean_batch` workers without a
//! lock held while cleaning. Batches run on rayon threads with the GIL
//! released.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

mod arrow;
mod cleaner;
mod corpus;
mod documents;

create_exception!(
    dechaff,
    DechaffError,
    PyException,
    "An error of the dechaff engine; the message is the engine's."
);
create_exception!(
    dechaff,
    RuleError,
    DechaffError,
    "Bad rule data: a malformed pack (with file:line:col), an unknown rule id, an unreadable rule path."
);

/// The engine's error as a Python exception with the engine's message.
pub(crate) fn engine_error(error: dechaff_engine::Error) -> PyErr {
    if error.is_rule_error() {
        RuleError::new_err(error.to_string())
    } else {
        DechaffError::new_err(error.to_string())
    }
}

#[pymodule]
fn _dechaff(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DechaffError", py.get_type::<DechaffError>())?;
    m.add("RuleError", py.get_type::<RuleError>())?;
    m.add_class::<cleaner::Cleaner>()?;
    m.add_class::<cleaner::Cleaned>()?;
    m.add_class::<cleaner::Removal>()?;
    m.add_class::<corpus::CorpusCounter>()?;
    m.add_class::<arrow::ArrowArray>()?;
    Ok(())
}
