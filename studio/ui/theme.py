"""Dark theme: a Fusion palette plus a small stylesheet, in the spirit of pro audio tools.

Colours are named once here; widgets that paint themselves (waveform, meter, mel) read them from
`COLORS` so the whole app stays consistent.
"""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

COLORS = {
    "bg": "#1b1d21",
    "panel": "#23262b",
    "panel_alt": "#2a2e34",
    "border": "#363b43",
    "text": "#d7dae0",
    "text_dim": "#8b919b",
    "accent": "#4fb3bf",  # teal: selection, waveform
    "accent_dim": "#2f6c74",
    "wave": "#5ec8d4",
    "playhead": "#f2c14e",
    "record": "#e5484d",
    "ok": "#5bbf6a",
    "warn": "#e0a43a",
    "bad": "#e5484d",
    "plot_bg": "#15171a",
}

STYLESHEET = """
QWidget { font-size: 10pt; }
QMainWindow, QDialog { background: %(bg)s; }
QToolTip { color: %(text)s; background: %(panel_alt)s; border: 1px solid %(border)s; }
QStatusBar { background: %(panel)s; border-top: 1px solid %(border)s; color: %(text_dim)s; }
QStatusBar QLabel { color: %(text_dim)s; padding: 0 8px; }
QListWidget#workspaceSwitcher { background: %(panel)s; border: none; border-right: 1px solid %(border)s;
    outline: 0; padding-top: 6px; }
QListWidget#workspaceSwitcher::item { padding: 10px 14px; color: %(text_dim)s; border-left: 3px solid transparent; }
QListWidget#workspaceSwitcher::item:selected { color: %(text)s; background: %(panel_alt)s;
    border-left: 3px solid %(accent)s; }
QListWidget#workspaceSwitcher::item:hover:!selected { background: #262a30; }
QFrame#panel { background: %(panel)s; border: 1px solid %(border)s; border-radius: 4px; }
QLabel#panelTitle { color: %(text_dim)s; font-size: 8pt; font-weight: 600; letter-spacing: 1px; }
QLabel#readoutValue { color: %(text)s; font-family: monospace; }
QLabel#readoutName { color: %(text_dim)s; }
QLabel#clipTitle { font-size: 12pt; font-weight: 600; }
QLabel#hint { color: %(text_dim)s; }
QToolBar { background: %(panel)s; border: none; border-bottom: 1px solid %(border)s; spacing: 4px; padding: 3px; }
QToolButton { padding: 4px 8px; border-radius: 3px; color: %(text)s; }
QToolButton:hover { background: %(panel_alt)s; }
QToolButton:checked { background: %(accent_dim)s; }
QToolButton#recordButton:checked { background: %(record)s; color: white; }
QPushButton { background: %(panel_alt)s; border: 1px solid %(border)s; border-radius: 3px; padding: 5px 12px; }
QPushButton:hover { border-color: %(accent)s; }
QPushButton:disabled { color: #5d636d; }
QPushButton#primary { background: %(accent_dim)s; border-color: %(accent)s; color: white; font-weight: 600; }
QLineEdit, QPlainTextEdit, QComboBox, QDoubleSpinBox, QSpinBox {
    background: %(plot_bg)s; border: 1px solid %(border)s; border-radius: 3px; padding: 3px 5px;
    selection-background-color: %(accent_dim)s; }
QLineEdit:focus, QPlainTextEdit:focus { border-color: %(accent)s; }
QSplitter::handle { background: %(bg)s; }
QSplitter::handle:horizontal { width: 4px; }
QSplitter::handle:vertical { height: 4px; }
QFrame#transportBar { background: %(panel)s; border-top: 1px solid %(border)s; }
QLabel#timeReadout { font-family: monospace; font-size: 13pt; color: %(playhead)s; padding: 0 10px; }
"""


def apply_dark_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    c = {k: QColor(v) for k, v in COLORS.items()}
    pal = QPalette()
    pal.setColor(QPalette.Window, c["bg"])
    pal.setColor(QPalette.WindowText, c["text"])
    pal.setColor(QPalette.Base, c["plot_bg"])
    pal.setColor(QPalette.AlternateBase, c["panel"])
    pal.setColor(QPalette.ToolTipBase, c["panel_alt"])
    pal.setColor(QPalette.ToolTipText, c["text"])
    pal.setColor(QPalette.Text, c["text"])
    pal.setColor(QPalette.Button, c["panel_alt"])
    pal.setColor(QPalette.ButtonText, c["text"])
    pal.setColor(QPalette.BrightText, c["bad"])
    pal.setColor(QPalette.Highlight, c["accent_dim"])
    pal.setColor(QPalette.HighlightedText, QColor("white"))
    pal.setColor(QPalette.Link, c["accent"])
    pal.setColor(QPalette.PlaceholderText, c["text_dim"])
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        pal.setColor(QPalette.Disabled, role, QColor("#5d636d"))
    app.setPalette(pal)
    app.setStyleSheet(STYLESHEET % COLORS)
