"""Writes each ```swift block of a Markdown file to its own .swift file, for the parse check.

Usage: python swift_blocks.py DOC.md OUT_DIR   (prints the files written, one a line)

Each block is preceded by as many blank lines as the Markdown above it, so a problem the
parser reports at line N of `OUT_DIR/<doc>-<line>.swift` is at line N of the document.
"""

import os
import sys


def main(doc: str, out_dir: str) -> int:
    os.makedirs(out_dir, exist_ok=True)
    name = os.path.basename(doc)
    block = None
    with open(doc, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for number, line in enumerate(lines, start=1):
        if block is None and line.strip() == "```swift":
            block = (number, [])
        elif block is not None and line.strip() == "```":
            fence, body = block
            path = os.path.join(out_dir, f"{name}-{fence + 1}.swift")
            with open(path, "w", encoding="utf-8") as out:
                out.write("\n" * fence + "\n".join(body) + "\n")
            print(path)
            block = None
        elif block is not None:
            block[1].append(line)
    if block is not None:
        print(f"{doc}:{block[0]}: a ```swift block is never closed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
