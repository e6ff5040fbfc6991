"""Synthesize speech from the command line with a cloned voice (same engine as the studio).

mynah synth --model DIR --voice ref.wav --voice-text "..." --text "..." -o out.wav [--stream] [--play]
mynah synth --model kyutai/pocket-tts/english --voice ref.wav --text "..." -o out.wav   (Pocket TTS: no transcript)
mynah synth --model DIR --preset alba --text "..." -o out.wav                           (a Pocket TTS preset voice)
mynah synth --model Qwen/Qwen3-TTS-12Hz-0.6B-Base --voice ref.wav --text "..." -o out.wav
    (Qwen3-TTS: the language is detected from the text and said; --language names one, or auto)

--model is a folder or the id of an installed catalog model; the backend is read from the folder
(--backend forces one). --option KEY=VALUE passes a backend option (e.g. eos_threshold=-3, decode_steps=2).
"""
from __future__ import annotations

import argparse
import logging
import queue
import sys
from dataclasses import dataclass
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, type=Path,
                   help="model folder, or an installed catalog id (e.g. sesame/csm-1b, kyutai/pocket-tts/english)")
    p.add_argument("--backend", default="auto", help="model family: auto (read from the folder), csm, pocket, qwen3, "
                                                     "or module:Factory")
    p.add_argument("--codec", type=Path, default=None, help="codec folder, when not inside the model folder")
    p.add_argument("--voice", type=Path, default=None, help="reference clip of the voice to clone")
    p.add_argument("--voice-text", default=None, help="what is said in the reference clip (CSM needs it)")
    p.add_argument("--preset", default=None, help="a preset voice of the model (Pocket TTS: alba, marius, ...)")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="backend option, repeatable (Pocket TTS: eos_threshold, decode_steps, noise_clamp, "
                        "frames_after_eos; CSM: repeat_frames, silence_tail_s)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="text to speak; [pause 1.5s] and blank lines insert silence")
    src.add_argument("--text-file", type=Path, help="read the text from a file ('-' for stdin)")
    p.add_argument("-o", "--output", required=True, type=Path, help="audio file to write (.wav, .flac, .ogg)")
    p.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--temperature", type=float, default=None, help="default: 0.9 for CSM, 0.3 for Pocket TTS")
    p.add_argument("--top-k", type=int, default=50)
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--repetition-penalty", type=float, default=None,
                   help="codebook-0 repetition penalty (default: the model family's, 1.05 for qwen3, off for csm)")
    p.add_argument("--language", default=None,
                   help="qwen3: the text's language, by name or ISO code (default: detected from the text; "
                        "auto: the model guesses)")
    p.add_argument("--speaker", default=None, help="qwen3 CustomVoice: a preset speaker")
    p.add_argument("--instruct", default=None, help="qwen3: a style instruction or a voice description")
    p.add_argument("--max-seconds", type=float, default=None, help="cap the audio per text chunk")
    p.add_argument("--stream", action="store_true", help="write audio to the file as it is generated")
    p.add_argument("--play", action="store_true", help="play audio as it is generated")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto",
                   help="auto: CUDA, then Apple MPS, then CPU")
    p.add_argument("--dtype", choices=("auto", "fp32", "bf16", "fp16", "float32", "bfloat16", "float16", "int8"),
                   default="auto", help="auto: bf16 on CUDA (CSM), fp32 elsewhere (fp16 can overflow to NaN); "
                                        "int8: Pocket TTS on the CPU, dynamic quantization")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for the model (0: torch's default)")
    p.add_argument("--no-normalize", action="store_true", help="pass the text to the model as typed")
    p.add_argument("--no-watermark", action="store_true",
                   help="do not add the inaudible AI watermark: nothing in the audio will then show that it "
                        "was generated, and `mynah detect` cannot recognise it")
    p.add_argument("-v", "--verbose", action="store_true", help="log engine details to stderr")


class UsageError(Exception):
    pass


@dataclass
class _Inputs:
    text: str
    voice_key: str | None
    model: Path
    backend: str
    options: dict
    voice_path: Path | None = None
    note: str = ""  # said before loading (the language a Qwen3-TTS take asks for, and why)


DEFAULT_TEMPERATURE = {"csm": 0.9, "pocket": 0.3}


def _resolve_model(arg: Path) -> Path:
    """A folder as given, or an installed catalog model by its id."""
    if arg.is_dir():
        return arg
    from engine.hub.catalog import get_entry
    from studio.core.paths import get_paths

    try:
        entry = get_entry(str(arg))
    except KeyError:
        raise UsageError(f"model folder not found: {arg} (nor is it a catalog id)") from None
    folder = get_paths().models / entry.folder_name
    if not folder.is_dir():
        raise UsageError(f"{entry.name} is not installed (expected in {folder}): download it in the Models "
                         "workspace or import its folder")
    return folder


def _options(pairs: list[str]) -> dict:
    import json

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--option needs KEY=VALUE, got {pair!r}")
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out


def _check_inputs(args: argparse.Namespace) -> _Inputs:
    """Everything we can check before loading a model (which takes a while): fail fast and clearly."""
    import soundfile as sf

    from engine.text.script import ScriptError, parse_script

    model = _resolve_model(args.model)
    from engine.backends import backend_for_folder

    backend = backend_for_folder(model) if args.backend == "auto" else args.backend
    options = _options(args.option)
    voice_key = None
    voice_path = args.voice
    if args.preset is not None:
        if args.voice is not None:
            raise UsageError("give either --voice or --preset, not both")
        presets = sorted((model / "languages").glob(f"*/embeddings/{args.preset}.safetensors"))
        if not presets:
            known = sorted(p.stem for p in (model / "languages").glob("*/embeddings/*.safetensors"))
            raise UsageError(f"{model.name} has no preset voice {args.preset!r} "
                             f"({'its presets: ' + ', '.join(known) if known else 'it ships no preset voices'})")
        voice_key, voice_path = f"preset:{args.preset}", presets[0]
    elif args.voice is not None and args.voice.suffix == ".safetensors":
        if not args.voice.is_file():
            raise UsageError(f"voice file not found: {args.voice}")
        voice_key = f"state:{args.voice.resolve()}"
    elif args.voice is not None:
        if not args.voice.is_file():
            raise UsageError(f"voice file not found: {args.voice}")
        from engine.audio.io import probe

        try:
            info = probe(args.voice)
        except Exception as exc:  # AudioFileError: its message says what is wrong with the file
            raise UsageError(f"voice file is not readable audio: {args.voice} ({exc})") from exc
        if info.frames == 0:
            raise UsageError(f"voice file is empty: {args.voice}")
        if backend not in ("pocket", "qwen3") and not (args.voice_text or "").strip():
            # Pocket TTS needs no transcript; Qwen3-TTS clones from the sound alone without one
            raise UsageError("--voice needs --voice-text: the words spoken in the reference clip")
        stat = args.voice.stat()
        voice_key = f"file:{args.voice.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    if args.text_file is not None:
        try:
            text = sys.stdin.read() if str(args.text_file) == "-" else args.text_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read the text file {args.text_file}: {exc}") from exc
    else:
        text = args.text
    try:
        parse_script(text)
    except ScriptError as exc:
        raise UsageError(f"empty text: {exc}") from exc
    out: Path = args.output
    if out.exists() and not args.overwrite:
        raise UsageError(f"{out} already exists (pass --overwrite to replace it)")
    if not out.parent.is_dir():
        raise UsageError(f"output folder not found: {out.parent}")
    if out.suffix.lstrip(".").upper() not in sf.available_formats():
        raise UsageError(f"cannot write {out.suffix or 'files without an extension'}: use .wav, .flac or .ogg")
    note = ""
    if backend == "qwen3":
        from studio.cli.synth_language import qwen3_language

        try:
            options["language"], note = qwen3_language(model, text, args.language or options.get("language"))
        except ValueError as exc:  # a language the model does not speak
            raise UsageError(str(exc)) from None
    return _Inputs(text=text, voice_key=voice_key, model=model, backend=backend, options=options,
                   voice_path=voice_path, note=note)


def run(args: argparse.Namespace) -> int:
    try:
        inputs = _check_inputs(args)
    except UsageError as exc:
        print(f"mynah synth: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    handlers = _attach_log_handlers(args.verbose)
    try:
        return _Session(args, inputs).run()
    finally:
        logger = logging.getLogger("mynah")
        for h in handlers:
            logger.removeHandler(h)
            h.close()


def _attach_log_handlers(verbose: bool) -> list[logging.Handler]:
    """Engine failures are logged with their traceback to the log file (and stderr with -v); the
    terminal shows the one-line message."""
    from studio.core.paths import get_paths

    logger = logging.getLogger("mynah")
    logger.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.FileHandler(get_paths().logs / "cli.log", encoding="utf-8")]
    if verbose:
        handlers.append(logging.StreamHandler(sys.stderr))
    for h in handlers:
        h.setFormatter(fmt)
        logger.addHandler(h)
    return handlers


class _Session:
    """One synthesis run: engine thread produces events, this (main) thread writes/plays/prints."""

    def __init__(self, args: argparse.Namespace, inputs: _Inputs):
        self.args, self.inputs = args, inputs
        self.events: queue.Queue = queue.Queue()
        self.writer = None  # soundfile.SoundFile while streaming to disk
        self.player = None  # sounddevice.OutputStream while playing
        self.bar = None
        self.samples_written = 0

    def run(self) -> int:
        from engine.backends.base import SamplingParams
        from engine.jobs import LoadModel, ReferenceSpec, Synthesize
        from engine.worker import EngineWorker

        a = self.args
        if a.threads > 0:
            import torch  # the CLI has no window to keep responsive, so importing it here is fine

            torch.set_num_threads(a.threads)
        worker = EngineWorker().start()
        worker.add_listener(self.events.put)
        try:
            inp = self.inputs
            if inp.note:
                print(inp.note, file=sys.stderr)
            print(f"Loading {inp.model} ({inp.backend}) ...", file=sys.stderr)
            load = LoadModel(model_dir=inp.model, backend=inp.backend, device=a.device, dtype=a.dtype,
                             codec_dir=a.codec)
            end = self._wait(worker, load)
            if end is not None:
                return end
            voice = None
            if inp.voice_path is not None:
                voice = ReferenceSpec(key=inp.voice_key, text=a.voice_text or "", path=inp.voice_path)
            temperature = a.temperature if a.temperature is not None else DEFAULT_TEMPERATURE.get(inp.backend, 0.9)
            penalty = a.repetition_penalty
            if penalty is None:
                penalty = 1.05 if inp.backend == "qwen3" else 1.0
            options = dict(inp.options)
            extra = {"speaker": a.speaker, "instruct": a.instruct}
            if inp.backend != "qwen3":  # Qwen3-TTS: chosen (detected or checked) in _check_inputs
                extra["language"] = a.language
            options.update({k: v for k, v in extra.items() if v})
            params = SamplingParams(temperature=temperature, top_k=a.top_k, top_p=a.top_p, seed=a.seed,
                                    max_audio_seconds=a.max_seconds, repetition_penalty=penalty,
                                    options=options)
            synth = Synthesize(text=self.inputs.text, voice=voice, params=params,
                               normalize_text=not a.no_normalize, watermark=not a.no_watermark)
            return self._wait(worker, synth) or EXIT_OK
        finally:
            self._close_outputs()
            worker.shutdown()

    def _wait(self, worker, request) -> int | None:
        """Handle this job's events until it ends; None on success (non-final jobs), else an exit code."""
        from engine.jobs import Cancelled, Done, Failed

        worker.submit(request)
        interrupted = False
        while True:
            try:
                ev = self.events.get(timeout=0.2)
            except queue.Empty:
                continue
            except KeyboardInterrupt:  # Ctrl-C: cancel cooperatively, then report what was kept
                interrupted = True
                worker.cancel(request.job_id)
                print("\nmynah synth: cancelling ...", file=sys.stderr)
                continue
            if ev.job_id != request.job_id:
                continue
            if isinstance(ev, Done):
                return self._finish(ev.result)
            if isinstance(ev, Failed):
                self._close_outputs()
                self._replace_streamed(ev.partial)
                print(f"mynah synth: error: {ev.message}{self._kept()}", file=sys.stderr)
                return EXIT_FAILED
            if isinstance(ev, Cancelled):
                self._close_outputs()
                self._replace_streamed(ev.partial)
                print(f"mynah synth: cancelled{self._kept()}", file=sys.stderr)
                return EXIT_INTERRUPTED if interrupted else EXIT_FAILED
            self._on_event(ev)

    def _on_event(self, ev) -> None:
        from engine.jobs import AudioChunk, Progress

        if isinstance(ev, Progress) and ev.audio_seconds:
            self._progress(ev)
        elif isinstance(ev, AudioChunk):
            if self.args.stream:
                self._write(ev.audio, ev.sample_rate)
            if self.args.play:
                self._play(ev.audio, ev.sample_rate)

    def _progress(self, ev) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=100, file=sys.stderr, leave=True,
                            bar_format="Generating: {percentage:3.0f}%|{bar}| {desc}")
        self.bar.n = round(100 * (ev.fraction or 0.0))
        self.bar.set_description_str(f"{ev.audio_seconds:.1f} s of audio, text chunk "
                                     f"{ev.text_chunk_index + 1}/{ev.text_chunk_count}", refresh=True)

    def _write(self, audio, sr: int) -> None:
        import soundfile as sf

        if self.writer is None:
            self.writer = sf.SoundFile(str(self.args.output), "w", samplerate=sr, channels=1)
        self.writer.write(audio)
        self.writer.flush()  # the header is updated: the file is playable while it grows
        self.samples_written += len(audio)

    def _play(self, audio, sr: int) -> None:
        import sounddevice as sd

        if self.player is None:
            self.player = sd.OutputStream(samplerate=sr, channels=1, dtype="float32")
            self.player.start()
        self.player.write(audio.reshape(-1, 1))

    def _finish(self, result) -> int | None:
        from engine.jobs import SynthResult

        if not isinstance(result, SynthResult):
            if hasattr(result, "device") and hasattr(result, "dtype"):  # ModelInfo: say where it runs
                print(f"Loaded {result.model_id} on {result.device} ({result.dtype})", file=sys.stderr)
            return None  # the model load finished; synthesis comes next
        if self.bar is not None:
            self.bar.n = 100
            self.bar.refresh()
        self._close_outputs()
        import soundfile as sf

        # Streamed chunks are an unmarked preview: the finished (watermarked) take replaces them.
        sf.write(str(self.args.output), result.audio, result.sample_rate)
        first = result.seconds_to_first_audio
        print(f"Wrote {self.args.output} ({result.duration_s:.1f} s of audio in {result.seconds_total:.1f} s"
              + (f", first audio after {first:.2f} s" if first is not None else "") + ")", file=sys.stderr)
        return EXIT_OK

    def _replace_streamed(self, partial) -> None:
        """A cancelled/failed streamed file is rewritten with the engine's marked partial take."""
        if partial is None or not self.samples_written:
            return
        import soundfile as sf

        sf.write(str(self.args.output), partial.audio, partial.sample_rate)

    def _kept(self) -> str:
        if self.samples_written:
            return f" (the audio generated so far was kept in {self.args.output})"
        return ""

    def _close_outputs(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        if self.player is not None:
            try:
                self.player.stop()  # lets queued audio finish playing
            finally:
                self.player.close()
                self.player = None
