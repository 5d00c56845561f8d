"""The CSS of the class outputs' HTML pages, inlined into each page so it opens offline."""

PAGE_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f24;
       margin: 2em auto; max-width: 1180px; padding: 0 1.2em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: .6em 0; width: 100%; }
th, td { border: 1px solid #d0d7de; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f3f5f7; } th.sortable { cursor: pointer; user-select: none; }
th.sortable::after { content: " \\2195"; color: #8c959f; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.pass td:nth-child(2) { color: #1a7f37; } tr.fail td:nth-child(2), tr.error td:nth-child(2),
tr.forbidden td:nth-child(2), tr.crash td:nth-child(2), tr.timeout td:nth-child(2),
tr.oom td:nth-child(2) { color: #cf222e; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 1em; }
.figures figure { margin: 0; } .figures img { width: 100%; border: 1px solid #d0d7de; }
figcaption { color: #57606a; font-size: .9em; }
.flag { display: inline-block; background: #fff8c5; border: 1px solid #d4a72c; border-radius: 3px;
        padding: 0 4px; margin: 1px 2px; font-size: .85em; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: .6em; }
.pair pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: .5em; overflow-x: auto;
            font-size: 12px; margin: .2em 0; }
.meta { color: #57606a; }
"""
