#!/usr/bin/env python3
"""Checks that shared libraries load on Android devices with 16 KB memory pages.

    check_elf_alignment.py FILE...      (.so files, or .aar/.apk/.zip archives holding them)

For every ELF file, every PT_LOAD segment must have p_align >= 16384 and offset and
address congruent modulo it; otherwise Android 15+ devices with 16 KB pages refuse to
load the library and Google Play rejects the app (targetSdk 35+). Prints one line per
library and exits 1 if any fails. Reads the headers only (32- and 64-bit, either byte order).
"""
import struct
import sys
import zipfile
from pathlib import Path

PAGE = 16384
PT_LOAD = 1


class NotElf(Exception):
    """The bytes are not an ELF file this checker understands."""


def load_segments(data):
    """(p_offset, p_vaddr, p_align) of each PT_LOAD segment."""
    if len(data) < 52 or data[:4] != b"\x7fELF":
        raise NotElf("no ELF magic")
    bits = {1: 32, 2: 64}.get(data[4])
    order = {1: "<", 2: ">"}.get(data[5])
    if bits is None or order is None:
        raise NotElf("unknown ELF class or byte order")
    if bits == 64:
        phoff, = struct.unpack_from(order + "Q", data, 0x20)
        phentsize, phnum = struct.unpack_from(order + "HH", data, 0x36)
    else:
        phoff, = struct.unpack_from(order + "I", data, 0x1C)
        phentsize, phnum = struct.unpack_from(order + "HH", data, 0x2A)
    segments = []
    for i in range(phnum):
        at = phoff + i * phentsize
        if at + phentsize > len(data):
            raise NotElf("program headers run past the end")
        if bits == 64:
            p_type, _flags, p_offset, p_vaddr, _paddr, _filesz, _memsz, p_align = struct.unpack_from(order + "IIQQQQQQ", data, at)
        else:
            p_type, p_offset, p_vaddr, _paddr, _filesz, _memsz, _flags, p_align = struct.unpack_from(order + "IIIIIIII", data, at)
        if p_type == PT_LOAD:
            segments.append((p_offset, p_vaddr, p_align))
    return segments


def problems(data):
    """What is wrong with one ELF image for 16 KB pages (empty: fine)."""
    found = []
    segments = load_segments(data)
    if not segments:
        found.append("no LOAD segments")
    for n, (offset, vaddr, align) in enumerate(segments):
        if align < PAGE:
            found.append(f"LOAD #{n} aligned to {align} bytes (needs {PAGE})")
        elif offset % align != vaddr % align:
            found.append(f"LOAD #{n} offset 0x{offset:x} and address 0x{vaddr:x} differ modulo {align}")
    return found


def libraries(path):
    """(name, bytes) of each ELF to check in a file or archive."""
    p = Path(path)
    if p.suffix in (".aar", ".apk", ".zip", ".aab", ".jar"):
        with zipfile.ZipFile(p) as archive:
            for name in sorted(archive.namelist()):
                if name.endswith(".so"):
                    yield f"{path}!{name}", archive.read(name)
    else:
        yield str(p), p.read_bytes()


def main(paths):
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    checked, failed = 0, 0
    for path in paths:
        for name, data in libraries(path):
            checked += 1
            try:
                found = problems(data)
            except NotElf as e:
                found = [f"not a readable ELF file: {e}"]
            if found:
                failed += 1
                print(f"FAIL {name}: " + "; ".join(found))
            else:
                print(f"ok   {name}: every LOAD segment aligned to >= {PAGE}")
    if checked == 0:
        print("no shared libraries found", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
