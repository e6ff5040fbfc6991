"""Dataset workspace: teleprompter sessions, QC, long-recording proofreading, export."""
