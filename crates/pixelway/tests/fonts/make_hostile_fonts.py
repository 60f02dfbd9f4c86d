"""Writes hostile TrueType fonts for pixelway's tests into the folder named by argv[1].

- crash.ttf: unitsPerEm 16, ascent 1, a glyph "A" that is a square of +-16000 units with an
  advance of 0: at fs-100 one glyph is 200,000 px on a side (a 160 GB buffer if rasterised whole).
- slow.ttf: a glyph "A" of 30,000 quadratic curves whose control points lie 8 em above and
  below it: 300 KB to store, seconds of work per glyph to rasterise.
- normal.ttf: a plain square "A" with a normal advance (the control).
"""
import sys
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen


def build(path, units_per_em, ascent, draw_a, advance):
    fb = FontBuilder(units_per_em, isTTF=True)
    fb.setupGlyphOrder([".notdef", "A"])
    fb.setupCharacterMap({ord("A"): "A"})
    empty = TTGlyphPen(None)
    empty.moveTo((0, 0))
    empty.lineTo((1, 0))
    empty.lineTo((1, 1))
    empty.closePath()
    pen = TTGlyphPen(None)
    draw_a(pen)
    fb.setupGlyf({".notdef": empty.glyph(), "A": pen.glyph()})
    fb.setupHorizontalMetrics({".notdef": (advance, 0), "A": (advance, 0)})
    fb.setupHorizontalHeader(ascent=ascent, descent=0)
    fb.setupOS2(sTypoAscender=ascent, sTypoDescender=0, usWinAscent=max(ascent, 0), usWinDescent=0)
    fb.setupNameTable({"familyName": "Hostile", "styleName": "Regular"})
    fb.setupPost()
    fb.save(path)


def huge_square(pen):
    pen.moveTo((-16000, -16000))
    pen.lineTo((16000, -16000))
    pen.lineTo((16000, 16000))
    pen.lineTo((-16000, 16000))
    pen.closePath()


def zigzag(pen):
    pen.moveTo((0, 0))
    for i in range(30000):
        x = (i % 100) * 10
        pen.qCurveTo((x + 5, 8000 if i % 2 else -8000), (x + 10, 0))
    pen.lineTo((0, 0))
    pen.closePath()


def square(pen):
    pen.moveTo((100, 0))
    pen.lineTo((900, 0))
    pen.lineTo((900, 800))
    pen.lineTo((100, 800))
    pen.closePath()


out = sys.argv[1]
build(f"{out}/crash.ttf", 16, 1, huge_square, 0)
build(f"{out}/slow.ttf", 1000, 800, zigzag, 1000)
build(f"{out}/normal.ttf", 1000, 800, square, 1000)
