"""Reports people read, from a stored run: partner scorecards, QBR packs and the executive
summary, as self-contained HTML, PDF (the same templates through WeasyPrint) and an Excel
workbook. Nothing is recomputed: every figure is read from the run the report names."""
