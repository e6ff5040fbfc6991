"""Tags that mark an exported file as synthetic speech made with Mynah.

libsndfile writes title/comment/software/artist/date into WAV (LIST INFO), FLAC and Ogg (Vorbis
comments); its MP3 writer keeps title/artist/comment but not `software`, so the synthetic-speech
statement lives in `comment`, which every supported format reads back.
"""
from __future__ import annotations

from dataclasses import dataclass

APP_VERSION = "0.1.0"
SYNTHETIC_MARK = "Synthetic speech"


@dataclass(frozen=True)
class ExportTags:
    title: str
    comment: str
    software: str
    artist: str
    date: str

    def as_dict(self) -> dict[str, str]:
        return {"title": self.title, "comment": self.comment, "software": self.software,
                "artist": self.artist, "date": self.date}


def watermark_note(watermark: dict | None) -> str:
    """How tags and sidecars state the inaudible watermark (engine/provenance) of the audio."""
    if not watermark:
        return "no AI watermark"
    return f"AI watermark: {watermark.get('method', '?')} ({watermark.get('model', '?')})"


def tags_for(model_id: str, voice_name: str, text: str, created_iso: str,
             watermark: dict | None = None) -> ExportTags:
    excerpt = " ".join(text.split())
    if len(excerpt) > 60:
        excerpt = excerpt[:57] + "..."
    return ExportTags(
        title=excerpt,
        comment=f"{SYNTHETIC_MARK} generated with Mynah {APP_VERSION} using model {model_id}"
                + (f" (voice: {voice_name})" if voice_name else "") + f"; {watermark_note(watermark)}",
        software=f"Mynah {APP_VERSION}",
        artist=f"Mynah synthetic voice{': ' + voice_name if voice_name else ''}",
        date=created_iso,
    )


def write_tags(sf_file, tags: ExportTags) -> None:
    """Set tags on an open soundfile.SoundFile (write mode), before any audio is written."""
    for key, value in tags.as_dict().items():
        try:
            setattr(sf_file, key, value)
        except RuntimeError:
            pass  # this container has no slot for this tag; `comment` carries the statement


def read_tags(path) -> dict[str, str]:
    import soundfile as sf

    with sf.SoundFile(str(path)) as f:
        return f.copy_metadata()
