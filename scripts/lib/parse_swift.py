"""Parses Swift files with tree-sitter-swift and reports every ERROR or MISSING node as file:line.

Usage: python parse_swift.py FILE...   (exit status 1 if any file fails to parse)

tree-sitter-swift does not accept a `#if` block around an attribute, which uniffi's
generated Swift uses for `#if swift(>=5.8) @_documentation(...) #endif`. So, before parsing,
the version conditions the Swift compiler itself would decide (`swift(>=X)`,
`compiler(>=X)`) are resolved for Swift 6: the directive lines are blanked (line numbers
stay), a taken branch is kept and an untaken one blanked. Every other `#if` (`canImport`,
`os`, ...) is left for the parser. It also misreads a closure whose body is the empty
tuple, `{ () }`, which is rewritten to `{ }`, the same closure to the compiler.
"""

import re
import sys

import tree_sitter
import tree_sitter_swift

# The compiler the resolved conditions assume: Xcode 16's Swift 6.0.
ASSUMED_VERSION = (6, 0)
VERSION_CONDITION = re.compile(r"^\s*#(if|elseif)\s+(swift|compiler)\(\s*(>=|<)\s*([0-9.]+)\s*\)\s*$")
DIRECTIVE = re.compile(r"^\s*#(if|elseif|else|endif)\b")
EMPTY_TUPLE_CLOSURE = re.compile(r"\{ \(\) \}")


def version_holds(op: str, text: str) -> bool:
    wanted = tuple(int(p) for p in text.split("."))
    return ASSUMED_VERSION >= wanted if op == ">=" else ASSUMED_VERSION < wanted


def resolve_version_conditions(source: str) -> str:
    """Resolves `#if swift(...)`/`#if compiler(...)` blocks in place, keeping line numbers."""
    out = []
    # One entry per open #if: None for a block left to the parser, else
    # [keeping_now, a_branch_was_taken].
    stack = []
    for line in source.split("\n"):
        directive = DIRECTIVE.match(line)
        hidden = any(entry is not None and not entry[0] for entry in stack)
        if directive is None:
            out.append("" if hidden else line)
            continue
        kind = directive.group(1)
        condition = VERSION_CONDITION.match(line)
        if kind == "if":
            if condition:
                holds = version_holds(condition.group(3), condition.group(4))
                stack.append([holds, holds])
                out.append("")
            else:
                stack.append(None)
                out.append("" if hidden else line)
        elif not stack or stack[-1] is None:
            if kind == "endif" and stack:
                stack.pop()
            out.append("" if hidden else line)
        else:
            entry = stack[-1]
            if kind == "endif":
                stack.pop()
            elif kind == "else":
                entry[0] = not entry[1]
                entry[1] = True
            elif condition:
                holds = not entry[1] and version_holds(condition.group(3), condition.group(4))
                entry[0] = holds
                entry[1] = entry[1] or holds
            else:
                raise ValueError(f"#elseif mixing a version condition with another: {line.strip()}")
            out.append("")
    return "\n".join(out)


def problems(parser: tree_sitter.Parser, source: bytes):
    """(line, what) for every ERROR or MISSING node, outermost only."""
    found = []

    def walk(node):
        if node.is_error:
            found.append((node.start_point[0] + 1, "syntax error"))
        elif node.is_missing:
            found.append((node.start_point[0] + 1, f"missing {node.type}"))
        elif node.has_error:
            for child in node.children:
                walk(child)

    walk(parser.parse(source).root_node)
    return found


def main(paths) -> int:
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))
    failed = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            source = EMPTY_TUPLE_CLOSURE.sub("{ }", resolve_version_conditions(f.read()))
        found = problems(parser, source.encode("utf-8"))
        for line, what in found:
            print(f"{path}:{line}: {what}")
        failed += bool(found)
    print(f"swift parse: {len(paths) - failed} of {len(paths)} files parse cleanly")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
