"""ReasonFlow Batch: batch classification and agent processing for LLM email triage."""

__version__ = "0.1.0"
