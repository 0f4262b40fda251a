//! What the evaluator flags, from least to most severe.

/// A problem with one span. The order is the severity: a trace's label is its worst issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Issue {
    /// An LLM output over `max-output-chars`.
    TooLong,
    /// An LLM output cut off by the token limit (finish reason `length`).
    Truncated,
    /// An LLM call that recorded an output with no content.
    EmptyOutput,
    /// A tool call with status error.
    ToolError,
}

impl Issue {
    /// The result label for a trace whose worst issue is this one.
    pub fn label(self) -> &'static str {
        match self {
            Self::TooLong => "too-long",
            Self::Truncated => "truncated",
            Self::EmptyOutput => "empty-output",
            Self::ToolError => "tool-error",
        }
    }
}

/// What one span showed: its issues, each with a message.
#[derive(Debug, Default)]
pub struct Flags(Vec<(Issue, String)>);

impl Flags {
    pub fn add(&mut self, issue: Issue, message: String) {
        self.0.push((issue, message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn worst(&self) -> Option<Issue> {
        self.0.iter().map(|(issue, _)| *issue).max()
    }

    /// Every message, most severe first.
    pub fn message(mut self) -> String {
        self.0.sort_by_key(|(issue, _)| std::cmp::Reverse(*issue));
        let messages: Vec<String> = self.0.into_iter().map(|(_, m)| m).collect();
        messages.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::{Flags, Issue};

    #[test]
    fn worst_issue_leads() {
        let mut flags = Flags::default();
        flags.add(Issue::TooLong, "too long".into());
        flags.add(Issue::Truncated, "cut off".into());
        assert_eq!(flags.worst(), Some(Issue::Truncated));
        assert_eq!(flags.message(), "cut off; too long");
        assert!(Issue::ToolError > Issue::EmptyOutput);
    }
}
