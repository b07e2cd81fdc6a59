"""dechaff as a datatrove pipeline step.

>>> from datatrove.executor import LocalPipelineExecutor
>>> from datatrove.pipeline.readers import JsonlReader
>>> from datatrove.pipeline.writers import JsonlWriter
>>> from dechaff.datatrove import DechaffCleaner
>>> LocalPipelineExecutor(
...     pipeline=[JsonlReader("shards/"), DechaffCleaner(), JsonlWriter("clean/")],
...     tasks=2,
... ).run()

The step cleans ``doc.text`` in place, as datatrove's formatters do, and
works on batches: each batch is cleaned on Rust threads with the GIL
released. The cleaner is built in the worker on first use, so the step
pickles as plain settings.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.utils.batching import batched
from datatrove.utils.typeshelper import StatHints

from . import Cleaner, CorpusCounter

GroupOf = Union[str, Callable[[Document], Optional[str]]]

# Cleaners built in this process, by settings. A worker process runs task
# after task, each with its own unpickled copy of the step; they share one
# cleaner, built once, whose pooled engine cleaners keep their warmed-up
# automata and grown buffers from task to task.
_CLEANERS: Dict[Tuple[str, Optional[bytes]], Cleaner] = {}
_CLEANERS_LOCK = threading.Lock()


def _group_function(group_by: GroupOf) -> Callable[[Document], Optional[str]]:
    """A document's corpus group: ``"host"`` (its URL's host, as the CLI's
    ``--group-by host``), ``"field:NAME"`` (a metadata field) or a function."""
    if callable(group_by):
        return group_by
    if group_by == "host":
        from urllib.parse import urlsplit

        def host(doc: Document) -> Optional[str]:
            url = doc.metadata.get("url")
            if not isinstance(url, str):
                return None
            name = (urlsplit(url.strip()).hostname or "").rstrip(".")
            name = name[4:] if name.startswith("www.") else name
            return name or None

        return host
    if isinstance(group_by, str) and group_by.startswith("field:") and len(group_by) > 6:
        field = group_by[6:]

        def by_field(doc: Document) -> Optional[str]:
            value = doc.metadata.get(field)
            return None if value is None else str(value)

        return by_field
    raise ValueError(f"group_by {group_by!r} is not 'host', 'field:NAME' or a function")


class DechaffCleaner(PipelineStep):
    """Strips boilerplate from ``doc.text`` with dechaff and records what went.

    Args:
        rules, disable, no_default_rules, heuristics, removal_budget,
        tail_min_position: the cleaner's settings (see :class:`dechaff.Cleaner`,
        the same as ``dechaff clean``'s flags).
        corpus: corpus mode's counts: a :class:`dechaff.CorpusCounter`, its
            ``to_bytes()``, or a path to a file holding them. The counts are
            made beforehand over the whole corpus (one pass, or counters
            merged from several); ``group_by`` then names each document's group.
        min_docs, max_doc_share: corpus mode's thresholds.
        group_by: ``"host"``, ``"field:NAME"`` or a function of the document.
        metadata: ``"summary"`` (default: removed bytes, the rule ids, the
            warnings), ``"record"`` (the full provenance record) or ``None``.
        metadata_key: the metadata key they go under.
        exclusion_writer: a datatrove writer for documents left empty or over
            the removal budget; they are dropped from the pipeline either way,
            unless ``keep_over_budget`` is set.
        keep_over_budget: forward over-budget documents (with a warning in
            their metadata) instead of dropping them.
        batch_size: documents cleaned per call into the engine.
        jobs: Rust threads per pipeline task (default 1: datatrove already
            runs one task per core).
    """

    name = "🧹 dechaff"
    type = "✂️ - FORMAT"

    def __init__(
        self,
        rules: Union[None, str, Sequence[str]] = None,
        *,
        disable: Sequence[str] = (),
        no_default_rules: bool = False,
        heuristics: bool = True,
        removal_budget: float = 0.5,
        tail_min_position: float = 0.5,
        corpus: Union[None, CorpusCounter, bytes, str] = None,
        min_docs: int = 3,
        max_doc_share: float = 0.9,
        group_by: GroupOf = "host",
        metadata: Optional[str] = "summary",
        metadata_key: str = "dechaff",
        exclusion_writer: Any = None,
        keep_over_budget: bool = False,
        batch_size: int = 256,
        jobs: Optional[int] = 1,
    ):
        super().__init__()
        if metadata not in ("summary", "record", None):
            raise ValueError(f"metadata {metadata!r} is not 'summary', 'record' or None")
        if isinstance(corpus, CorpusCounter):
            corpus = corpus.to_bytes()
        self.settings = dict(
            rules=rules,
            disable=tuple(disable),
            no_default_rules=no_default_rules,
            heuristics=heuristics,
            removal_budget=removal_budget,
            tail_min_position=tail_min_position,
        )
        self.corpus = corpus
        self.corpus_settings = dict(min_docs=min_docs, max_doc_share=max_doc_share)
        self.group_by = group_by
        self.metadata = metadata
        self.metadata_key = metadata_key
        self.exclusion_writer = exclusion_writer
        self.keep_over_budget = keep_over_budget
        self.batch_size = batch_size
        self.jobs = jobs
        self._cleaner: Optional[Cleaner] = None
        # Fail here, in the driver, on bad rules or settings, not in every task.
        self._build()

    def _build(self) -> Cleaner:
        if self._cleaner is None:
            kwargs = dict(self.settings)
            data = self.corpus
            if data is not None:
                if isinstance(data, str):
                    with open(data, "rb") as f:
                        data = f.read()
                kwargs.update(self.corpus_settings)
                if isinstance(self.group_by, str):
                    kwargs["group_by"] = self.group_by
            key = repr(sorted(kwargs.items())), None if data is None else hashlib.sha256(data).digest()
            with _CLEANERS_LOCK:
                self._cleaner = _CLEANERS.get(key)
                if self._cleaner is None:
                    if data is not None:
                        kwargs["corpus"] = CorpusCounter.from_bytes(data)
                    self._cleaner = _CLEANERS[key] = Cleaner(**kwargs)
        return self._cleaner

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_cleaner"] = None  # rebuilt in the worker
        return state

    def _groups(self, batch: Sequence[Document]) -> Optional[list]:
        if self.corpus is None:
            return None
        group_of = _group_function(self.group_by)
        return [group_of(doc) for doc in batch]

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        cleaner = self._build()
        with self.exclusion_writer if self.exclusion_writer else contextlib.nullcontext() as writer:
            for batch in batched(data, self.batch_size):
                with self.track_time("batch"):
                    # One call per batch: texts, metadata and the per-rule
                    # tally are read and written in Rust.
                    fates, rule_counts, removed_bytes = cleaner.clean_documents(
                        batch,
                        self._groups(batch),
                        self.jobs,
                        self.metadata,
                        self.metadata_key,
                        self.keep_over_budget,
                    )
                self.stat_update(StatHints.total, value=len(batch))
                self.stat_update("removed_bytes", value=removed_bytes, unit="batch")
                for rule, n in rule_counts.items():
                    self.stat_update(f"rule:{rule}", value=n, unit="batch")
                for doc, reason in zip(batch, fates):
                    if reason is None:
                        self.stat_update(StatHints.forwarded)
                        self.update_doc_stats(doc)
                        yield doc
                    else:
                        self.stat_update(StatHints.dropped, f"dropped_{reason}")
                        if writer:
                            doc.metadata["filter_reason"] = reason
                            writer.write(doc, rank)
