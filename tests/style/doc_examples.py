#!/usr/bin/env python3
"""Every C excerpt in docs/*.md that follows a line naming a source file as
`tools/examples/NAME.c` must appear verbatim in that file, so the docs cannot drift from the
example programs the build compiles and the tests run."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
checked, bad = 0, 0
for doc in sorted((root / "docs").rglob("*.md")):
    text = doc.read_text()
    for m in re.finditer(r"`(tools/examples/[\w.]+\.c)`[^\n]*\n(?:[^\n]*\n)*?```c\n(.*?)```", text, re.S):
        src = root / m.group(1)
        if not src.exists():
            print(f"{doc}: names {m.group(1)}, which does not exist")
            bad += 1
            continue
        checked += 1
        if m.group(2) not in src.read_text():
            print(f"{doc}: the C excerpt after `{m.group(1)}` is not in that file")
            bad += 1
print(f"doc_examples: {checked} excerpts checked, {bad} bad")
sys.exit(1 if bad or not checked else 0)
