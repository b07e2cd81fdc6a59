from os import PathLike
from typing import Any, Iterable, Optional, Sequence, Tuple, Union, overload

__version__: str

class DechaffError(Exception):
    """An error of the dechaff engine; the message is the engine's."""

class RuleError(DechaffError):
    """Bad rule data: a malformed pack (with file:line:col), an unknown rule id, an unreadable rule path."""

_Path = Union[str, "PathLike[str]"]

class Removal:
    """One span removed by a rule; offsets into the input in bytes (UTF-8) and characters."""

    rule: str
    action: str
    byte_start: int
    byte_end: int
    char_start: int
    char_end: int
    line_start: int
    line_end: int
    score: Optional[float]
    text: str

class Cleaned:
    """The result of cleaning one document."""

    @property
    def text(self) -> str: ...
    @property
    def removed(self) -> list[Removal]: ...
    def rule_counts(self) -> dict[str, int]:
        """How many spans each rule removed (cheaper than `removed`)."""
    @property
    def whitespace(self) -> list[Tuple[int, int]]: ...
    @property
    def warnings(self) -> list[str]: ...
    @property
    def over_budget(self) -> bool: ...
    @property
    def removed_share(self) -> float: ...
    @property
    def removed_bytes(self) -> int: ...
    @property
    def input_lines(self) -> int: ...
    @property
    def output_lines(self) -> int: ...
    def record(
        self, source: str = "", output: Optional[str] = None, provenance_text: str = "excerpt"
    ) -> dict[str, Any]:
        """The provenance record the CLI writes for a text file, as a dict."""
    def record_json(
        self, source: str = "", output: Optional[str] = None, provenance_text: str = "excerpt"
    ) -> str:
        """The provenance record as one line of JSON."""

class CorpusCounter:
    """Per group of documents, how many documents hold each normalised line."""

    def __init__(self, min_chars: int = 1) -> None: ...
    @property
    def min_chars(self) -> int: ...
    def add(self, text: str, group: str) -> None:
        """Counts one document of `group`."""
    def add_batch(
        self, texts: Sequence[str], groups: Sequence[Optional[str]], jobs: Optional[int] = None
    ) -> None:
        """Counts many documents on Rust threads; a `None` group is left out."""
    def merge(self, other: CorpusCounter) -> None:
        """Adds another counter's counts to this one's."""
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> CorpusCounter: ...
    def documents(self, group: str) -> int: ...
    def recurrence(self, group: str, line: str) -> int: ...
    def group_count(self) -> int:
        """Groups counted (the counts keep a hash of each name, not the name)."""
    def distinct_lines(self) -> int: ...

class ArrowArray:
    """An Arrow array exported through `__arrow_c_array__`."""

    def __arrow_c_array__(self, requested_schema: Any = None) -> Tuple[Any, Any]: ...
    def __len__(self) -> int: ...

class Cleaner:
    """Strips boilerplate; built once, safe to share across threads.

    The keyword arguments mirror `dechaff clean`'s flags: `rules` (`--rules`,
    a path or paths of packs), `disable` (`--disable`), `no_default_rules`,
    `heuristics` (False is `--no-heuristics`), `removal_budget`,
    `tail_min_position`; `corpus` (a CorpusCounter: `--corpus`), `min_docs`,
    `max_doc_share`, `group_by` (recorded in the record's settings).
    """

    def __init__(
        self,
        rules: Union[None, _Path, Iterable[_Path]] = None,
        *,
        disable: Sequence[str] = (),
        no_default_rules: bool = False,
        heuristics: bool = True,
        removal_budget: float = 0.5,
        tail_min_position: float = 0.5,
        corpus: Optional[CorpusCounter] = None,
        min_docs: int = 3,
        max_doc_share: float = 0.9,
        group_by: str = "dir",
    ) -> None: ...
    def clean(self, text: str, group: Optional[str] = None) -> Cleaned:
        """Cleans one document (`group`: its group in corpus mode)."""
    @overload
    def clean_batch(
        self, texts: Sequence[str], groups: Optional[Sequence[Optional[str]]] = None, jobs: Optional[int] = None
    ) -> list[Cleaned]: ...
    @overload
    def clean_batch(
        self, texts: Any, groups: Optional[Sequence[Optional[str]]] = None, jobs: Optional[int] = None
    ) -> Any: ...
    def clean_batch(self, texts: Any, groups: Any = None, jobs: Optional[int] = None) -> Any:
        """Cleans many documents in parallel; a pyarrow string array gives a pyarrow array of kept texts."""
    def clean_documents(
        self,
        docs: Sequence[Any],
        groups: Optional[Sequence[Optional[str]]] = None,
        jobs: Optional[int] = None,
        metadata: Optional[str] = "summary",
        metadata_key: str = "dechaff",
        keep_over_budget: bool = False,
    ) -> Tuple[list[Optional[str]], dict[str, int], int]:
        """Cleans documents with `.text` and `.metadata` (datatrove's) in place.

        Kept documents get their kept text; `metadata[metadata_key]` gets a
        summary (`"summary"`), the record (`"record"`) or nothing (None).
        Returns per document the reason to drop it (`"dechaff_emptied"`,
        `"dechaff_over_budget"`) or None, the removals per rule id, and the
        removed bytes.
        """
    def rule_ids(self) -> list[str]: ...
    @property
    def fingerprint(self) -> str: ...
    def manifest(self) -> dict[str, Any]:
        """The run manifest the CLI writes first in provenance: packs, settings, tool."""
    @property
    def corpus(self) -> bool: ...
