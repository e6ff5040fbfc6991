"""Models workspace wiring: catalog state, download/import on background threads, token, cache dir,
and which speech recognizer the studio uses (studio/core/asr_choice.py)."""
from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QTableWidgetItem

from engine.hub.catalog import CATALOG, CatalogEntry, folder_size, human_size
from engine.hub.download import (DownloadCancelled, download_model, keyring_available, load_token,
                                 save_token, verify_folder)
from engine.hub.local import delete_model, import_local_folder, installed_models, model_dir
from studio.core import asr_choice
from studio.ui.models.view import COLUMNS, ModelsView, column
from studio.ui.widgets.background import run_in_background


def models_root(ctx) -> Path:
    """The models folder: the user's choice in settings, else the data directory's."""
    return asr_choice.models_root(ctx.settings, ctx.paths)


class ModelsController(QObject):
    def __init__(self, ctx, view: ModelsView, parent=None):
        super().__init__(parent)
        self.ctx, self.view = ctx, view
        self.endpoint: str | None = None  # Hub URL; None = huggingface.co (tests point it elsewhere)
        self._cancel: threading.Event | None = None
        self.task = None
        # Dialog hooks: tests replace these so no modal dialog blocks.
        self.confirm = lambda title, text: QMessageBox.question(view, title, text) == QMessageBox.Yes
        self.choose_dir = lambda title: QFileDialog.getExistingDirectory(view, title) or None
        v = view
        v.download_button.clicked.connect(self.download_selected)
        v.cancel_button.clicked.connect(self.cancel)
        v.import_button.clicked.connect(lambda: self.import_folder(None))
        v.verify_button.clicked.connect(self.verify_selected)
        v.delete_button.clicked.connect(self.delete_selected)
        v.save_token_button.clicked.connect(self.save_token)
        v.change_cache_button.clicked.connect(lambda: self.change_models_dir(None))
        v.table.itemSelectionChanged.connect(self._update_buttons)
        v.asr_combo.activated.connect(self._asr_chosen)
        self.refresh()
        if CATALOG:
            v.table.selectRow(0)
        self._show_token_state()

    # ---- state ---------------------------------------------------------------------------
    def refresh(self) -> None:
        root = models_root(self.ctx)
        rows = installed_models(root)
        t = self.view.table
        t.setRowCount(len(rows))
        for i, m in enumerate(rows):
            if m.complete:
                status = "Installed"
            elif m.path.exists():
                status = "Incomplete: " + ", ".join(m.missing[:3])
            else:
                status = "Not installed"
            e = m.entry
            kind = "Speech recognition" if e.kind == "asr" else "Voice (TTS)"
            cells = {"Model": e.name, "Kind": kind + (f" · {e.speed_class}" if e.speed_class else ""),
                     "Size": ("≈ " if not e.size_exact else "") + human_size(e.size_bytes), "Languages": e.languages_text, "Licence": e.licence,
                     "Access": "Gated (token)" if e.gated else "Open", "Runs well on": e.runs_well_on,
                     "Status": status, "On disk": human_size(m.size_bytes) if m.path.exists() else "—"}
            for name, text in cells.items():
                item = QTableWidgetItem(text)
                item.setToolTip(text if name != "Languages" else ", ".join(e.languages))
                t.setItem(i, column(name), item)
        assert t.columnCount() == len(COLUMNS)
        self.view.cache_label.setText(str(root))
        self.view.disk_usage.setText(f"{human_size(folder_size(root))} used")
        self._update_buttons()
        self.refresh_asr()

    # ---- speech recognition ----------------------------------------------------------------
    def refresh_asr(self) -> None:
        """Fill the recognizer menu with what is installed now; the current choice stays selected."""
        choices = asr_choice.asr_choices(models_root(self.ctx), self.ctx.settings.asr_language)
        combo = self.view.asr_combo
        combo.clear()
        combo.addItem(f"Automatic: the best installed ({choices[0].label})", asr_choice.AUTO)
        for c in choices:
            combo.addItem(c.label, c.key)
            combo.setItemData(combo.count() - 1, c.detail, Qt.ToolTipRole)
        key = self.ctx.settings.asr_model or asr_choice.AUTO
        i = combo.findData(key)
        combo.setCurrentIndex(max(i, 0))
        effective = asr_choice.resolve_asr(self.ctx.settings, models_root(self.ctx))
        note = f"In use: {effective.label}" + (f" ({effective.detail})" if effective.detail else "")
        if key not in (asr_choice.AUTO, effective.key):
            note += " — the chosen model is not installed"
        self.view.asr_detail.setText(note)

    def asr_in_use(self) -> asr_choice.AsrChoice:
        return asr_choice.resolve_asr(self.ctx.settings, models_root(self.ctx))

    def _asr_chosen(self, index: int) -> None:
        self.ctx.settings.asr_model = self.view.asr_combo.itemData(index) or asr_choice.AUTO
        self.ctx.save_settings()
        self.refresh_asr()

    def selected_entry(self) -> CatalogEntry | None:
        rows = self.view.table.selectionModel().selectedRows()
        return CATALOG[rows[0].row()] if rows else None

    def status_text(self, row: int = 0) -> str:
        return self.view.table.item(row, column("Status")).text()

    def _busy(self) -> bool:
        return self._cancel is not None

    def _update_buttons(self) -> None:
        e = self.selected_entry()
        installed = e is not None and model_dir(models_root(self.ctx), e).exists()
        v = self.view
        v.download_button.setEnabled(e is not None and not self._busy())
        v.import_button.setEnabled(e is not None and not self._busy())
        v.cancel_button.setEnabled(self._busy())
        v.verify_button.setEnabled(installed and not self._busy())
        v.delete_button.setEnabled(installed and not self._busy())
        if e is not None:
            v.description.setText(f"<b>{e.name}</b> ({e.model_id}) — {e.description}")

    def _say(self, text: str, error: bool = False) -> None:
        self.view.message.setText(text)
        self.view.message.setStyleSheet("color: #e5484d;" if error else "")
        self.ctx.status.show(text.split(". ")[0], 6000)

    # ---- token -----------------------------------------------------------------------------
    def save_token(self) -> None:
        where = save_token(self.view.token_edit.text())
        self.view.token_edit.clear()  # the token never stays on screen
        self._show_token_state(where)

    def _show_token_state(self, where: str | None = None) -> None:
        have = bool(load_token())
        if not have:
            text = "no token"
        elif (where or ("keyring" if keyring_available() else "memory")) == "keyring":
            text = "token saved in the system keyring"
        else:
            text = "token kept for this session only (no system keyring)"
        self.view.token_state.setText(text)

    # ---- long jobs -------------------------------------------------------------------------
    def _start(self, label: str, fn, *args, **kwargs) -> None:
        self._cancel = threading.Event()
        self.view.progress.setValue(0)
        self.view.progress.show()
        self._say(label)
        self._update_buttons()

        def work(report):
            return fn(*args, cancel=self._cancel, progress=lambda d, t, f: report((d, t, f)), **kwargs)
        self.task = run_in_background(work, on_done=self._finished, on_error=self._failed,
                                      on_progress=self._progress)

    def _progress(self, p) -> None:
        done, total, name = p
        self.view.progress.setValue(int(1000 * done / total) if total else 0)
        if name:
            self.view.progress.setFormat(f"{name}: {human_size(done)} of {human_size(total)}")

    def _end(self) -> None:
        self._cancel = None
        self.task = None
        self.view.progress.hide()
        self.refresh()

    def _finished(self, path) -> None:
        self._end()
        self._say(f"Ready: {path}")

    def _failed(self, exc: BaseException) -> None:
        self._end()
        self._say(str(exc), error=not isinstance(exc, DownloadCancelled))

    def download_selected(self) -> None:
        e = self.selected_entry()
        if e is None or self._busy():
            return
        self._start(f"Downloading {e.name}…", download_model, e, model_dir(models_root(self.ctx), e),
                    token=load_token(), endpoint=self.endpoint)

    def import_folder(self, folder: Path | None, *, link: bool = False) -> None:
        e = self.selected_entry()
        if e is None or self._busy():
            return
        folder = folder or self.choose_dir(f"Folder with the {e.name} files")
        if not folder:
            return
        self._start(f"Importing {Path(folder).name}…", import_local_folder, Path(folder), e,
                    models_root(self.ctx), link=link)

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def verify_selected(self) -> None:
        e = self.selected_entry()
        if e is None or self._busy():
            return
        folder = model_dir(models_root(self.ctx), e)

        def work(cancel, progress):
            bad = verify_folder(folder, cancel)
            if bad:
                raise ValueError(f"{e.name} files do not match what was installed: {', '.join(bad)}")
            return f"{folder} (all files match their SHA-256)"
        self._start(f"Verifying {e.name}…", work)

    def delete_selected(self) -> None:
        e = self.selected_entry()
        if e is None or self._busy():
            return
        folder = model_dir(models_root(self.ctx), e)
        if not folder.exists():
            return
        if not self.confirm("Delete model", f"Delete {e.name} ({human_size(folder_size(folder))}) from {folder}?"):
            return
        freed = delete_model(folder)
        self.refresh()
        self._say(f"Deleted {e.name}; {human_size(freed)} freed")

    def change_models_dir(self, folder: Path | None) -> None:
        folder = folder or self.choose_dir("New models folder")
        if not folder:
            return
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.ctx.settings.models_dir = str(folder)
        self.ctx.save_settings()
        self.refresh()
        self._say(f"Models folder is now {folder}. Models in the old folder were left where they are.")
