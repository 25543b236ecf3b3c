"""Impact reports of a run (HTML and PDF, internal or public) and what-if comparisons of
policies over one input. See docs/report.md."""

from clearslate.report.data import ReportError

__all__ = ["ReportError"]
