"""dechaff: strips boilerplate from scraped web text and records every removal.

The cleaner runs in-process (a Rust extension): build a :class:`Cleaner` once,
then call :meth:`Cleaner.clean` for one document or :meth:`Cleaner.clean_batch`
for many (on Rust threads, the GIL released; lists of ``str`` or pyarrow
string arrays). Corpus mode counts lines with a :class:`CorpusCounter` first.

>>> from dechaff import Cleaner
>>> cleaner = Cleaner()
>>> cleaner.clean("The minister spoke on Tuesday.\\n\\nShare This\\n").text
'The minister spoke on Tuesday.\\n'
"""

from ._dechaff import (
    ArrowArray,
    Cleaned,
    Cleaner,
    CorpusCounter,
    DechaffError,
    Removal,
    RuleError,
    __version__,
)

__all__ = [
    "ArrowArray",
    "Cleaned",
    "Cleaner",
    "CorpusCounter",
    "DechaffError",
    "Removal",
    "RuleError",
    "__version__",
]
