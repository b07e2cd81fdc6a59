//! Document filters (`--drop`): which cleaned documents are not written,
//! and why. The line a dropped document leaves is [`crate::dropped`]'s.

use serde::{Deserialize, Serialize};

/// Why a document was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DropReason {
    /// Nothing but whitespace is left after cleaning.
    Empty,
    /// The rules removed more than the removal budget.
    OverBudget,
}

impl DropReason {
    /// The reason as `--drop` and the dropped file name it.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Empty => "empty",
            DropReason::OverBudget => "over-budget",
        }
    }
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which documents are dropped instead of written (`--drop`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocumentFilters {
    /// Drop a document with nothing but whitespace left.
    pub empty: bool,
    /// Drop a document over the removal budget (instead of warning, or with
    /// `--strict` refusing it).
    pub over_budget: bool,
}

impl DocumentFilters {
    /// Filters that drop for each of `reasons`.
    pub fn of(reasons: &[DropReason]) -> DocumentFilters {
        DocumentFilters {
            empty: reasons.contains(&DropReason::Empty),
            over_budget: reasons.contains(&DropReason::OverBudget),
        }
    }

    /// True when some filter is on.
    pub fn any(&self) -> bool {
        self.empty || self.over_budget
    }

    /// Why a document whose cleaned text is `clean` (over the budget or not)
    /// is dropped, if it is. An emptied document is usually over the budget
    /// too: `empty` says more, so it comes first.
    pub fn reason(&self, clean: &str, over_budget: bool) -> Option<DropReason> {
        if self.empty && clean.trim().is_empty() {
            Some(DropReason::Empty)
        } else if self.over_budget && over_budget {
            Some(DropReason::OverBudget)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_comes_before_over_budget_and_only_when_asked() {
        let both = DocumentFilters::of(&[DropReason::OverBudget, DropReason::Empty]);
        assert_eq!(both.reason(" \n", true), Some(DropReason::Empty));
        assert_eq!(both.reason("kept\n", true), Some(DropReason::OverBudget));
        assert_eq!(both.reason("kept\n", false), None);
        let empty = DocumentFilters::of(&[DropReason::Empty]);
        assert_eq!(empty.reason("kept\n", true), None);
        assert!(!DocumentFilters::default().any());
    }
}
