"""The TrueType fonts the reportlab-made corpus embeds, pinned in the repository (sandbox/generate/fonts/).

Generation never asks the host (fontconfig) for a font: what `fc-match` finds differs from
machine to machine, and the committed PDFs must come out byte for byte everywhere.

Each pinned file is face 0 of a Debian font collection, *thinned*: every table is kept byte for byte
except `glyf`/`loca`, where only the glyphs of `pinned_characters()` keep their outlines (the
others become empty glyphs with their ids and metrics intact). reportlab copies the tables
and the glyph bytes it embeds, so a PDF made from a thinned font is identical to one made from
the full font. A general subsetter (fontTools) rewrites the tables and would change the PDFs.

Re-pin (after adding characters the generator prints) with the Debian packages installed:

    python -m sandbox.generate.fonts      # fonts-arphic-uming fonts-arphic-ukai fonts-wqy-zenhei
"""

from __future__ import annotations

import contextlib
import struct
import sys
from pathlib import Path

FONT_DIR = Path(__file__).with_name("fonts")

# family → (pinned file, the Debian file it is thinned from, Debian package)
PINNED: dict[str, tuple[str, str, str]] = {
    "AR PL UMing CN": ("uming.ttc", "/usr/share/fonts/truetype/arphic/uming.ttc", "fonts-arphic-uming"),
    "AR PL UKai CN": ("ukai.ttc", "/usr/share/fonts/truetype/arphic/ukai.ttc", "fonts-arphic-ukai"),
    "WenQuanYi Zen Hei": ("wqy-zenhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "fonts-wqy-zenhei"),
}


class MissingGlyphs(ValueError):
    """Text the pinned font cannot draw (it would print as empty boxes)."""


def pinned_font(family: str) -> Path:
    """The pinned file of a family (KeyError for a family that is not pinned)."""
    return FONT_DIR / PINNED[family][0]


def pinned_characters() -> str:
    """Every character a pinned font draws: printable ASCII, GB2312 (its 6,763 hanzi and its
    symbols) and whatever else the sandbox's sources and committed truth contain."""
    chars = {chr(code) for code in range(0x20, 0x7F)}
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes((high, low)).decode("gb2312"))
    sandbox = Path(__file__).resolve().parents[1]
    for path in [*sandbox.rglob("*.py"), *sandbox.glob("corpus/*.truth.json")]:
        chars.update(path.read_text(encoding="utf-8"))
    return "".join(sorted(c for c in chars if c.isprintable() or c == "\u3000"))


def check_drawable(family: str, text: str, cmap: dict[int, str]) -> None:
    """Raise MissingGlyphs when `text` has characters the pinned font of `family` lacks."""
    missing = sorted({c for c in text if ord(c) not in cmap and not c.isspace()})
    if missing:
        raise MissingGlyphs(f"{family}: no glyph for {''.join(missing)!r} in {pinned_font(family).name}; "
                            "add them and re-pin: python -m sandbox.generate.fonts")


# ---------------------------------------------------------------- thinning
def _checksum(data: bytes) -> int:
    data += b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(data) // 4}L", data)) & 0xFFFFFFFF


def _tables(font: bytes, face: int) -> dict[str, bytes]:
    """The tables of one face of a TrueType file or collection."""
    offset = struct.unpack(">L", font[12 + 4 * face:16 + 4 * face])[0] if font[:4] == b"ttcf" else 0
    count = struct.unpack(">H", font[offset + 4:offset + 6])[0]
    tables = {}
    for i in range(count):
        tag, _, start, length = struct.unpack(">4sLLL", font[offset + 12 + 16 * i:offset + 28 + 16 * i])
        tables[tag.decode("latin-1")] = font[start:start + length]
    return tables


def _keep_glyphs(tables: dict[str, bytes], keep: set[int]) -> None:
    """Empty every glyph outline not in `keep` (composite glyphs keep their components)."""
    long_loca = struct.unpack(">h", tables["head"][50:52])[0] == 1
    loca_format = ">{}L" if long_loca else ">{}H"
    count = len(tables["loca"]) // (4 if long_loca else 2)
    loca = [o * (1 if long_loca else 2) for o in struct.unpack(loca_format.format(count), tables["loca"])]
    glyf = tables["glyf"]
    keep = _with_components(glyf, loca, keep)
    out, offsets = bytearray(), []
    for gid in range(count - 1):
        offsets.append(len(out))
        if gid in keep:
            out += glyf[loca[gid]:loca[gid + 1]]
    offsets.append(len(out))
    tables["glyf"] = bytes(out)
    if long_loca:
        tables["loca"] = struct.pack(f">{count}L", *offsets)
    else:
        tables["loca"] = struct.pack(f">{count}H", *(o // 2 for o in offsets))


def _with_components(glyf: bytes, loca: list[int], keep: set[int]) -> set[int]:
    """`keep` and, transitively, the components of its composite glyphs."""
    more_components, arg_words, has_scale, has_xy_scale, has_2x2 = 0x20, 0x01, 0x08, 0x40, 0x80
    result, pending = set(keep), list(keep)
    while pending:
        gid = pending.pop()
        data = glyf[loca[gid]:loca[gid + 1]]
        if len(data) < 10 or struct.unpack(">h", data[:2])[0] >= 0:
            continue
        at = 10
        while True:
            flags, component = struct.unpack(">HH", data[at:at + 4])
            if component not in result:
                result.add(component)
                pending.append(component)
            at += 4 + (4 if flags & arg_words else 2)
            at += 2 if flags & has_scale else 4 if flags & has_xy_scale else 8 if flags & has_2x2 else 0
            if not flags & more_components:
                break
    return result


def thin(source: Path, face: int, characters: str) -> bytes:
    """Face `face` of `source` with outlines only for `characters` (and .notdef)."""
    from reportlab.pdfbase.ttfonts import TTFontFile

    font = source.read_bytes()
    tables = _tables(font, face)
    charmap = TTFontFile(str(source), subfontIndex=face).charToGlyph
    _keep_glyphs(tables, {0} | {charmap[ord(c)] for c in characters if ord(c) in charmap})
    return _assemble(tables)


def _assemble(tables: dict[str, bytes]) -> bytes:
    """A one-face TrueType collection: a collection, like the Debian file, so reportlab names the font
    as it did from the Debian file (UMingCN-0)."""
    collection = struct.pack(">4sLLL", b"ttcf", 0x00010000, 1, 16)
    tags = sorted(tables)
    count = len(tags)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(">LHHHH", 0x00010000, count, power * 16, power.bit_length() - 1, count * 16 - power * 16)
    tables = dict(tables, head=tables["head"][:8] + b"\0\0\0\0" + tables["head"][12:])
    directory, body = b"", b""
    offset = len(collection) + 12 + 16 * count
    for tag in tags:
        data = tables[tag]
        directory += struct.pack(">4sLLL", tag.encode("latin-1"), _checksum(data), offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    whole = collection + header + directory + body
    adjustment = (0xB1B0AFBA - _checksum(whole)) & 0xFFFFFFFF
    head_at = offset + sum(len(tables[t]) + (-len(tables[t]) % 4) for t in tags[:tags.index("head")])
    return whole[:head_at + 8] + struct.pack(">L", adjustment) + whole[head_at + 12:]


def main() -> int:
    FONT_DIR.mkdir(exist_ok=True)
    characters = pinned_characters()
    for family, (file, source, package) in PINNED.items():
        if not Path(source).is_file():
            print(f"{source} not found: apt-get install {package}", file=sys.stderr)
            return 1
        data = thin(Path(source), 0, characters)
        (FONT_DIR / file).write_bytes(data)
        print(f"{family}: {FONT_DIR / file} ({len(data):,} bytes, {len(characters):,} characters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
