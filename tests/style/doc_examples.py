#!/usr/bin/env python3
"""Every code excerpt in README.md and docs/*.md that follows a line naming an example file as
`tools/examples/NAME.c` (```c), `.py` (```python) or `.sh` (```sh) must appear verbatim in
that file, so the docs cannot drift from the example programs the build compiles and the
tests run."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
LANG = {".c": "c", ".py": "python", ".sh": "sh"}
checked, bad = 0, 0
docs = [root / "README.md"] + sorted((root / "docs").rglob("*.md"))
for doc in docs:
    text = doc.read_text()
    for m in re.finditer(r"`(tools/examples/[\w./]+?(\.c|\.py|\.sh))`[^\n]*\n(?:[^\n]*\n)*?```(\w*)\n(.*?)```",
                         text, re.S):
        name, ext, lang, body = m.group(1), m.group(2), m.group(3), m.group(4)
        if lang != LANG[ext]:
            continue  # another block follows the name before the excerpt: not a quote
        src = root / name
        if not src.exists():
            print(f"{doc}: names {name}, which does not exist")
            bad += 1
            continue
        checked += 1
        if body not in src.read_text():
            print(f"{doc}: the excerpt after `{name}` is not in that file")
            bad += 1
print(f"doc_examples: {checked} excerpts checked, {bad} bad")
sys.exit(1 if bad or not checked else 0)
