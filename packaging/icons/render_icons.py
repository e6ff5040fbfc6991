"""Render the application icon SVG to the hicolor PNG sizes (Qt's SVG renderer, no extra tools).

    python packaging/icons/render_icons.py OUT_DIR      -> OUT_DIR/hicolor/<N>x<N>/apps/<id>.png
                                                           OUT_DIR/hicolor/scalable/apps/<id>.svg
    python packaging/icons/render_icons.py --ico FILE   -> a Windows .ico (256 px PNG inside)

Run offscreen: it needs no display.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

APP_ID = "io.github.mynah.Mynah"
SVG = Path(__file__).with_name(f"{APP_ID}.svg")
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)


def _app():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.instance() or QGuiApplication(["render_icons"])


def render(size: int):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"{SVG} is not a valid SVG")
    img = QImage(size, size, QImage.Format_ARGB32_Premultiplied)
    img.fill(Qt.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.Antialiasing)
    p.setRenderHint(QPainter.SmoothPixmapTransform)
    renderer.render(p)
    p.end()
    return img


def render_hicolor(out: Path) -> list[Path]:
    _app()
    written = []
    scalable = out / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SVG, scalable / SVG.name)
    written.append(scalable / SVG.name)
    for n in SIZES:
        d = out / "hicolor" / f"{n}x{n}" / "apps"
        d.mkdir(parents=True, exist_ok=True)
        p = d / f"{APP_ID}.png"
        if not render(n).save(str(p), "PNG"):
            raise SystemExit(f"could not write {p}")
        written.append(p)
    return written


def render_ico(path: Path) -> Path:
    _app()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not render(256).save(str(path), "ICO"):  # Qt's ico writer plugin (qico) ships with QtGui
        raise SystemExit(f"could not write {path} (Qt's ICO image plugin missing?)")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, nargs="?", help="folder that receives hicolor/")
    ap.add_argument("--ico", type=Path, help="write a Windows .ico here instead")
    args = ap.parse_args(argv)
    if args.ico:
        print(render_ico(args.ico))
    elif args.out:
        for p in render_hicolor(args.out):
            print(p)
    else:
        ap.error("give OUT_DIR or --ico FILE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
