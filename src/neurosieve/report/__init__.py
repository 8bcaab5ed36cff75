"""Report: the figures and the summary table, computed from the tables the stages wrote."""
