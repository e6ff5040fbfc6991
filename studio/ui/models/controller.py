"""Models workspace wiring: catalog state, download/import on background threads, token, cache dir."""
from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QMessageBox, QTableWidgetItem

from engine.hub.catalog import CATALOG, CatalogEntry, folder_size, human_size
from engine.hub.download import (DownloadCancelled, download_model, keyring_available, load_token,
                                 save_token, verify_folder)
from engine.hub.local import delete_model, import_local_folder, installed_models, model_dir
from studio.ui.models.view import ModelsView
from studio.ui.widgets.background import run_in_background


def models_root(ctx) -> Path:
    """The models folder: the user's choice in settings, else the data directory's."""
    return Path(ctx.settings.models_dir) if ctx.settings.models_dir else ctx.paths.models


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
            cells = (m.entry.name, f"~{human_size(m.entry.size_bytes)}", m.entry.licence,
                     "Gated (token)" if m.entry.gated else "Open", status,
                     human_size(m.size_bytes) if m.path.exists() else "—")
            for j, text in enumerate(cells):
                t.setItem(i, j, QTableWidgetItem(text))
        t.resizeColumnsToContents()
        self.view.cache_label.setText(str(root))
        self.view.disk_usage.setText(f"{human_size(folder_size(root))} used")
        self._update_buttons()

    def selected_entry(self) -> CatalogEntry | None:
        rows = self.view.table.selectionModel().selectedRows()
        return CATALOG[rows[0].row()] if rows else None

    def status_text(self, row: int = 0) -> str:
        return self.view.table.item(row, 4).text()

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
