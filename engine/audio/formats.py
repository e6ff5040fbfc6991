"""Which files an import offers: libsndfile's formats and the media containers read through FFmpeg.
No imports here: the main window reads these at start-up (before soundfile or PyAV load)."""
from __future__ import annotations

SNDFILE_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", ".aifc", ".w64", ".caf")
# Phone memos, screen/camera/browser recordings, Windows Media, AMR voice notes (engine/audio/container.py).
CONTAINER_SUFFIXES = (".m4a", ".m4b", ".aac", ".mp4", ".mov", ".mkv", ".mka", ".webm", ".wma", ".asf",
                      ".amr", ".3gp", ".opus")
# Every suffix an import offers (file dialogs, folder scans); drag and drop takes any file and lets
# the reader say what is wrong with it.
IMPORT_SUFFIXES = SNDFILE_SUFFIXES + CONTAINER_SUFFIXES
READABLE = "WAV, FLAC, OGG, MP3, AIFF, M4A/AAC, MP4/MOV/MKV/WebM audio tracks, WMA and AMR"


def file_dialog_filter() -> str:
    """The Qt file-dialog filter for an audio import (plain text; no Qt here)."""
    return f"Audio and video ({' '.join('*' + s for s in IMPORT_SUFFIXES)});;All files (*)"
