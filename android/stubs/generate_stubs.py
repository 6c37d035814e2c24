#!/usr/bin/env python3
"""Compile-only Java stubs of the Android API from a signature file (metalava's text format).

    generate_stubs.py SIGNATURES OUT_DIR [--open]
    generate_stubs.py SIGNATURES --verify FULL_SIGNATURES

Reads the trimmed signature text (android-35-trimmed.txt) and writes one .java file per
top-level class, nested classes (`Outer.Inner`) inside their outer class. Two flavours:

* default: as final and abstract as the platform declares them; every method body throws
  (like android.jar's "Stub!"); constants with a value in the text become Java constants,
  the others are blank finals (so kotlinc cannot inline them). The shell is compiled
  against this flavour, so a call whose name, parameters or return type differ from the
  platform's fails to compile.
* --open: for the JVM fakes. Classes and methods are not final, nothing throws: a method
  that returns its own class returns `this` (the builders), others return the type's
  default (null, 0, false), as Android Gradle's `unitTests.isReturnDefaultValues` does.
  The same signatures, so classes compiled against the first flavour run against this.

--verify checks that every member and class line of SIGNATURES occurs in FULL_SIGNATURES
(e.g. the SDK's platforms/android-35 api text), so the trimmed file can be re-checked.
Any line this script does not understand is an error, never skipped.
"""
import re
import sys
from pathlib import Path

CLASS_RE = re.compile(
    r"^(?P<mods>(?:public |protected |static |final |abstract |sealed )*)"
    r"(?P<kind>class|interface|@interface|enum) (?P<name>[\w.]+)"
    r"(?: extends (?P<extends>[\w.<>, ?]+?))?(?: implements (?P<implements>[\w.<>, ?]+?))? \{$"
)
MEMBER_RE = re.compile(r"^(?P<what>ctor|method|field) (?P<rest>.*);$")
PRIMITIVE_DEFAULTS = {
    "boolean": "false", "byte": "(byte) 0", "short": "(short) 0", "char": "'\\0'",
    "int": "0", "long": "0L", "float": "0f", "double": "0d",
}


class StubError(Exception):
    """A signature line that cannot be turned into Java."""


def strip_annotations(text):
    """Removes `@Name` and `@Name(...)` annotations, keeping the rest of the text."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "@" and not text.startswith("@interface ", i):
            j = i + 1
            while j < len(text) and (text[j].isalnum() or text[j] in "._"):
                j += 1
            if j < len(text) and text[j] == "(":
                depth = 0
                while j < len(text):
                    depth += {"(": 1, ")": -1}.get(text[j], 0)
                    j += 1
                    if depth == 0:
                        break
            i = j
            while i < len(text) and text[i] == " ":
                i += 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out).strip()


def split_top(text, sep=","):
    """Splits on `sep` outside of <...>."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def java_type(t):
    """The signature text's type as Java source (nested classes use dots already)."""
    return t.strip()


def parse(path):
    """Returns {full class name: class dict} from a signature file."""
    classes, package, current = {}, None, None
    for number, raw in enumerate(Path(path).read_text().splitlines(), 1):
        line = raw.strip()
        where = f"{path}:{number}"
        if not line or line.startswith("//"):
            continue
        if line.startswith("package ") and line.endswith("{"):
            package = line[len("package "):-1].strip()
            continue
        if line == "}":
            if current is not None:
                current = None
            else:
                package = None
            continue
        if current is None:
            decl = strip_annotations(line)
            m = CLASS_RE.match(decl)
            if not m or package is None:
                raise StubError(f"{where}: not a class line: {line}")
            mods = m.group("mods").split()
            current = {
                "package": package, "name": m.group("name"), "kind": m.group("kind"),
                "mods": mods, "extends": m.group("extends"),
                "implements": split_top(m.group("implements") or "", " ") if m.group("implements") else [],
                "members": [], "where": where,
            }
            if m.group("kind") == "interface" and m.group("extends"):
                current["implements"] = split_top(m.group("extends"), " ")
                current["extends"] = None
            classes[f"{package}.{current['name']}"] = current
            continue
        m = MEMBER_RE.match(re.sub(r"; // .*$", ";", line))
        if not m:
            raise StubError(f"{where}: not a member line: {line}")
        current["members"].append((m.group("what"), strip_annotations(m.group("rest")), where))
    return classes


def params(text, where):
    inner = text.strip()
    if not inner:
        return "", ""
    declared, names = [], []
    for i, p in enumerate(split_top(inner)):
        p = strip_annotations(p)
        if not p:
            raise StubError(f"{where}: empty parameter")
        declared.append(f"{java_type(p)} p{i}")
        names.append(f"p{i}")
    return ", ".join(declared), ", ".join(names)


def default_value(t):
    t = t.strip()
    return PRIMITIVE_DEFAULTS.get(t, "null")


def super_call(classes, cls):
    """`super(...);` when the superclass (from the trimmed file) has no constructor without
    parameters, e.g. `ContextWrapper(Context)`: its first constructor, with default values."""
    parent = classes.get(cls["extends"] or "")
    if parent is None:
        return ""
    ctors = [rest for what, rest, _ in parent["members"] if what == "ctor"]
    if not ctors or any(re.search(r"\(\s*\)$", c) for c in ctors):
        return ""
    inner = re.match(r"^.*?\((?P<params>.*)\)", ctors[0]).group("params")
    types = [strip_annotations(t) for t in split_top(inner)]
    return "super(" + ", ".join(f"({java_type(t)}) {default_value(t)}" for t in types) + "); "


def member_java(cls, what, rest, where, open_flavour, simple_name, classes=None):
    """One member as Java source lines."""
    is_interface = cls["kind"] in ("interface", "@interface")
    if what == "ctor":
        m = re.match(r"^(?P<mods>(?:public |protected )*)(?P<name>[\w.]+)\((?P<params>.*)\)(?: throws (?P<throws>.+))?$", rest)
        if not m:
            raise StubError(f"{where}: constructor: {rest}")
        decl, _ = params(m.group("params"), where)
        throws = f" throws {m.group('throws')}" if m.group("throws") else ""
        first = super_call(classes or {}, cls)
        body = f" {first}" if open_flavour else f' {first}throw new RuntimeException("Stub!"); '
        return [f"  {m.group('mods').strip()} {simple_name}({decl}){throws} {{{body}}}"]
    if what == "method":
        m = re.match(
            r"^(?P<mods>(?:(?:public|protected|static|final|abstract|default|synchronized|native) )*)"
            r"(?P<generics><[^()]*?> )?(?P<ret>[\w.<>\[\], ?]+?) (?P<name>\w+)\((?P<params>.*)\)"
            r"(?: throws (?P<throws>.+))?$", rest)
        if not m:
            raise StubError(f"{where}: method: {rest}")
        mods = m.group("mods").split()
        if open_flavour:
            mods = [x for x in mods if x != "final"]
        decl, _ = params(m.group("params"), where)
        throws = f" throws {m.group('throws')}" if m.group("throws") else ""
        generics = m.group("generics") or ""
        ret = java_type(m.group("ret"))
        head = f"  {' '.join(mods)} {generics}{ret} {m.group('name')}({decl}){throws}"
        if cls["kind"] == "@interface":
            return [f"  {ret} {m.group('name')}();"]
        if "abstract" in mods or (is_interface and "default" not in mods and "static" not in mods):
            return [head + ";"]
        if not open_flavour:
            return [head + ' { throw new RuntimeException("Stub!"); }']
        if ret == "void":
            return [head + " { }"]
        own = f"{cls['package']}.{cls['name']}"
        if ret == own and "static" not in mods:
            return [head + " { return this; }"]
        return [head + f" {{ return {default_value(ret)}; }}"]
    # field
    m = re.match(
        r"^(?P<mods>(?:(?:public|protected|static|final|volatile|transient) )*)"
        r"(?P<type>[\w.<>\[\], ?]+?) (?P<name>\w+)(?: = (?P<value>.+?))?$",
        re.sub(r"; //.*$", "", rest))
    if not m:
        raise StubError(f"{where}: field: {rest}")
    mods = m.group("mods").split()
    ftype = java_type(m.group("type"))
    if m.group("value") is not None:
        return [f"  {' '.join(mods)} {ftype} {m.group('name')} = {m.group('value')};"]
    if "static" in mods and "final" in mods:
        # A blank final: not a compile-time constant, so callers read it at run time.
        return [f"  {' '.join(mods)} {ftype} {m.group('name')};",
                f"  static {{ {m.group('name')} = {default_value(ftype)}; }}"]
    if open_flavour:
        mods = [x for x in mods if x != "final"]
    return [f"  {' '.join(mods)} {ftype} {m.group('name')};"]


def kept_supertype(classes, name):
    """Whether a supertype can be named: the JDK's, or one declared in the trimmed file."""
    base = name.split("<", 1)[0]
    return not base.startswith("android.") or base in classes


def class_java(classes, full, open_flavour, indent=""):
    cls = classes[full]
    simple = cls["name"].split(".")[-1]
    mods = [x for x in cls["mods"] if x in ("public", "protected", "static", "final", "abstract")]
    if "." not in cls["name"]:
        mods = [x for x in mods if x != "static"]
    if open_flavour:
        mods = [x for x in mods if x != "final"]
    head = f"{' '.join(mods)} {cls['kind']} {simple}"
    if cls["extends"]:
        if not kept_supertype(classes, cls["extends"]):
            raise StubError(f"{cls['where']}: superclass {cls['extends']} is not in the trimmed file")
        head += f" extends {cls['extends']}"
    # Interfaces the trimmed file leaves out (android.os.Parcelable...) are dropped: nothing
    # the shell calls goes through them.
    interfaces = [t for t in cls["implements"] if kept_supertype(classes, t)]
    if interfaces:
        head += (" extends " if cls["kind"] == "interface" else " implements ") + ", ".join(interfaces)
    lines = [head + " {"]
    if cls["kind"] in ("class", "enum") and not any(what == "ctor" for what, _, _ in cls["members"]):
        # The platform's constructor is hidden: apps cannot call it, the fakes can.
        first = super_call(classes, cls)
        lines.append(f"  public {simple}() {{ {first}}}" if open_flavour else f"  private {simple}() {{ {first}}}")
    for what, rest, where in cls["members"]:
        lines += member_java(cls, what, rest, where, open_flavour, simple, classes)
    prefix = full + "."
    for inner in sorted(k for k in classes if k.startswith(prefix) and "." not in k[len(prefix):]):
        lines += ["  " + l for l in class_java(classes, inner, open_flavour)]
    lines.append("}")
    return lines


def generate(signatures, out_dir, open_flavour):
    classes = parse(signatures)
    out = Path(out_dir)
    written = 0
    for full, cls in sorted(classes.items()):
        if "." in cls["name"]:
            outer = f"{cls['package']}.{cls['name'].rsplit('.', 1)[0]}"
            if outer not in classes:
                raise StubError(f"{cls['where']}: {cls['name']} without its outer class {outer}")
            continue
        folder = out / cls["package"].replace(".", "/")
        folder.mkdir(parents=True, exist_ok=True)
        source = [f"// Generated by android/stubs/generate_stubs.py from {Path(signatures).name}: do not edit.",
                  f"package {cls['package']};", ""] + class_java(classes, full, open_flavour)
        (folder / f"{cls['name']}.java").write_text("\n".join(source) + "\n")
        written += 1
    return written


def verify(signatures, full_signatures):
    """Every class and member line of the trimmed file, found in the full file."""
    full = {l.strip() for l in Path(full_signatures).read_text().splitlines()}
    missing = []
    for number, raw in enumerate(Path(signatures).read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("//") or line == "}" or line.startswith("package "):
            continue
        if line not in full:
            missing.append(f"{signatures}:{number}: {line}")
    return missing


def main(argv):
    if len(argv) == 4 and argv[2] == "--verify":
        missing = verify(argv[1], argv[3])
        for m in missing:
            print(f"not in {argv[3]}: {m}")
        return 1 if missing else 0
    if len(argv) not in (3, 4) or (len(argv) == 4 and argv[3] != "--open"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        count = generate(argv[1], argv[2], open_flavour=len(argv) == 4)
    except StubError as e:
        print(f"stub generation failed: {e}", file=sys.stderr)
        return 1
    print(f"{count} stub classes written to {argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
