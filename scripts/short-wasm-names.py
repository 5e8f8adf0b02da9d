#!/usr/bin/env python3
"""Gives wasm-bindgen's imports and exports short names, in the module and in its JS glue alike.

wasm-bindgen names every import like `__wbg_querySelector_72201b7c62dc196b` and the glue repeats
each name (138 imports once, ~13 KB of names over the two files, the hashes incompressible).
The glue only ever uses these names as the keys of the import object it builds, so renaming
both sides consistently changes nothing else. Exports (`__wbindgen_malloc`,
`__externref_table_alloc`, `showExitOffer`, ...: about 300 bytes of names in the module, and
repeated in the glue) are only ever read as `wasm.<name>` by the glue, which wraps them in the
functions it exports under their own names; they get short names too (`memory` keeps its own),
and exports the glue never reads (wasm-bindgen's `__abort_handler`, `__instance_terminated`)
are left out, so wasm-opt may drop what only they kept.

Usage: short-wasm-names.py MODULE.wasm GLUE.js   (both rewritten in place)
Fails loudly (exit 1) if a name is not found exactly where the glue is expected to use it.
"""
import re
import sys


def leb(buf, i):
    value = shift = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def put_leb(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def name(buf, i):
    n, i = leb(buf, i)
    return buf[i : i + n].decode(), i + n


def put_name(text):
    raw = text.encode()
    return put_leb(len(raw)) + raw


def short_names():
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for a in letters:
        yield a
    for a in letters:
        for b in letters + "0123456789":
            yield a + b


def rewrite_imports(body, renames, fresh):
    """The import section with every function import renamed (module and field)."""
    count, i = leb(body, 0)
    out = bytearray(put_leb(count))
    for _ in range(count):
        module, i = name(body, i)
        field, i = name(body, i)
        kind = body[i]
        start = i
        i += 1
        if kind == 0x00:  # func: type index
            _, i = leb(body, i)
        elif kind == 0x01:  # table: reftype, limits
            i += 1
            flags, i = leb(body, i)
            _, i = leb(body, i)
            if flags & 1:
                _, i = leb(body, i)
        elif kind == 0x02:  # memory: limits
            flags, i = leb(body, i)
            _, i = leb(body, i)
            if flags & 1:
                _, i = leb(body, i)
        elif kind == 0x03:  # global: valtype, mutability
            i += 2
        else:
            sys.exit(f"short-wasm-names: unknown import kind {kind} for {module}.{field}")
        if module not in renames:
            renames[module] = "w"
        if kind == 0x00 and field not in renames:
            renames[field] = next(fresh)
        out += put_name(renames[module]) + put_name(renames.get(field, field) if kind == 0x00 else field)
        out += body[start:i]
    return bytes(out)


def glue_reads(glue, export):
    """The glue's reads of an export: `wasm.<name>`."""
    return re.compile(r"(?<![\w$.])wasm\." + re.escape(export) + r"(?![\w$])")


def rewrite_exports(body, glue, renames, fresh):
    """The export section with every export but `memory` renamed, and those `glue` never reads
    left out."""
    count, i = leb(body, 0)
    kept, entries = 0, bytearray()
    for _ in range(count):
        field, i = name(body, i)
        _, end = leb(body, i + 1)  # the kind byte, then the index
        if field == "memory" or glue_reads(glue, field).search(glue):
            renames[field] = field if field == "memory" else next(fresh)
            entries += put_name(renames[field]) + body[i:end]
            kept += 1
        i = end
    return put_leb(kept) + bytes(entries)


def main(wasm_path, glue_path):
    data = open(wasm_path, "rb").read()
    assert data[:8] == b"\0asm\x01\0\0\0", "short-wasm-names: not a wasm module"
    renames, exports, fresh = {}, {}, short_names()
    glue = open(glue_path).read()
    out = bytearray(data[:8])
    i = 8
    while i < len(data):
        section = data[i]
        size, body_start = leb(data, i + 1)
        body = data[body_start : body_start + size]
        if section == 2:
            body = rewrite_imports(body, renames, fresh)
        elif section == 7:
            body = rewrite_exports(body, glue, exports, short_names())
        out += bytes([section]) + put_leb(len(body)) + body
        i = body_start + size

    for old, new in renames.items():
        # An import object key: `name: function(...` or `"./module.js": import0`.
        pattern = r'(?<![\w$])' + (re.escape(f'"{old}"') if not old.isidentifier() else re.escape(old)) + r"(?=\s*:)"
        glue, found = re.subn(pattern, new, glue)
        if found != 1:
            sys.exit(f"short-wasm-names: expected {old!r} once in the glue, found it {found} times")
    for old, new in exports.items():
        if old != new:
            glue = glue_reads(glue, old).sub("wasm." + new, glue)
    open(wasm_path, "wb").write(bytes(out))
    open(glue_path, "w").write(glue)


if __name__ == "__main__":
    main(*sys.argv[1:])
