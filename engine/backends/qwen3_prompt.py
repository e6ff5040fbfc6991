"""The talker's prompt, built as qwen-tts builds it (the embeddings, not token rows).

Text arrives in chat form, tokenised by the Qwen2 tokenizer:
    target: "<|im_start|>assistant\\n{text}<|im_end|>\\n<|im_start|>assistant\\n"
    reference transcript (voice cloning with a transcript): "<|im_start|>assistant\\n{ref}<|im_end|>\\n"
    instruction (CustomVoice style / VoiceDesign description): "<|im_start|>user\\n{instruct}<|im_end|>\\n"
The prompt is then [instruction] [role: 3 text tokens] [codec tags: think/language or nothink,
speaker, pad; each added to tts_pad, the last to tts_bos] and either
- the first text token + codec bos, with the rest of the text fed one token per generated frame
  ("streaming" text, the voice-clone default), or
- the whole text over codec pad, then tts_pad + codec bos ("non-streaming", the CustomVoice and
  VoiceDesign default), or
- in-context cloning: reference text + target text + tts_eos, laid alongside codec bos + the
  reference's code frames (the longer of the two runs on with pads / trails as text to feed).
After the text is used up, each generated frame gets tts_pad added.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.backends.qwen3_model import Qwen3TTSModel

ROLE_TOKENS = 3  # "<|im_start|>", "assistant", "\n"
TARGET_TAIL = 5  # "<|im_end|>", "\n", "<|im_start|>", "assistant", "\n"
REF_TAIL = 2  # "<|im_end|>", "\n"


class PromptError(ValueError):
    """The take asks for something this model cannot do (an unknown language or speaker...)."""


@dataclass
class TalkerPrompt:
    embeds: torch.Tensor  # [1, S, D] prompt positions
    trailing: torch.Tensor  # [1, T, D] text fed alongside generated frames, one per frame
    pad: torch.Tensor  # [1, 1, D] fed once the trailing text is used up

    def frame_text(self, step: int) -> torch.Tensor:
        """[1, D]: what is added to the embedding of generated frame `step` (0-based)."""
        return self.trailing[:, step] if step < self.trailing.shape[1] else self.pad[:, 0]


def _ids(values: list[int], dev: torch.device) -> torch.Tensor:
    return torch.tensor([values], dtype=torch.long, device=dev)


def build_prompt(model: Qwen3TTSModel, text_ids: torch.Tensor, *, language: str = "auto",
                 speaker_embedding: torch.Tensor | None = None, speaker: str | None = None,
                 ref_ids: torch.Tensor | None = None, ref_codes: torch.Tensor | None = None,
                 instruct_ids: torch.Tensor | None = None, non_streaming: bool = False) -> TalkerPrompt:
    """text_ids [1, N] (target in chat form); speaker_embedding [D] (voice cloning) or a preset
    `speaker` (CustomVoice); ref_ids [1, M] + ref_codes [T, K]: in-context cloning."""
    spec = model.spec
    dev = model.codec_head.weight.device
    if text_ids.shape[1] < ROLE_TOKENS + TARGET_TAIL + 1:
        raise PromptError("the text is empty")
    lang = language.lower()
    if lang == "auto":
        lang_id = None
    elif lang in spec.languages:
        lang_id = spec.languages[lang]
    else:
        raise PromptError(f"this model does not speak {language!r} (it knows: {', '.join(spec.language_names())})")
    spk_emb = None
    if speaker_embedding is not None:
        spk_emb = speaker_embedding.to(dev, model.codec_head.weight.dtype).view(1, 1, -1)
    elif speaker:
        name = speaker.lower()
        if name not in spec.speakers:
            known = ", ".join(sorted(spec.speakers)) or "none: it clones voices instead"
            raise PromptError(f"this model has no preset speaker {speaker!r} (it has: {known})")
        spk_emb = model.codec_embed(_ids([spec.speakers[name]], dev))
        dialect = spec.speaker_dialects.get(name, False)
        if lang in ("chinese", "auto") and dialect:
            lang_id = spec.languages[str(dialect)]

    bos, eos, pad = model.text_embed(_ids([spec.tts_bos, spec.tts_eos, spec.tts_pad], dev)).split(1, dim=1)
    tags = [spec.nothink, spec.think_bos, spec.think_eos] if lang_id is None else \
        [spec.think, spec.think_bos, lang_id, spec.think_eos]
    codec = [model.codec_embed(_ids(tags, dev))]
    if spk_emb is not None:
        codec.append(spk_emb)
    codec.append(model.codec_embed(_ids([spec.codec_pad, spec.codec_bos], dev)))
    codec_t = torch.cat(codec, dim=1)  # [1, C, D]
    n_tags = codec_t.shape[1]
    head = torch.cat([pad.expand(-1, n_tags - 2, -1), bos], dim=1) + codec_t[:, :-1]
    parts = [] if instruct_ids is None else [model.text_embed(instruct_ids)]
    parts += [model.text_embed(text_ids[:, :ROLE_TOKENS]), head]
    text = text_ids[:, ROLE_TOKENS:-TARGET_TAIL]

    if ref_codes is not None:
        if ref_ids is None:
            raise PromptError("in-context cloning needs the reference's transcript")
        icl, trailing = _icl(model, text, ref_ids[:, ROLE_TOKENS:-REF_TAIL], ref_codes.to(dev), pad, eos,
                             non_streaming)
        parts.append(icl)
    elif non_streaming:
        pads = model.codec_embed(_ids([spec.codec_pad] * (text.shape[1] + 1), dev))
        parts.append(torch.cat([model.text_embed(text), eos], dim=1) + pads)
        parts.append(pad + model.codec_embed(_ids([spec.codec_bos], dev)))
        trailing = pad
    else:
        parts.append(model.text_embed(text[:, :1]) + codec_t[:, -1:])
        trailing = torch.cat([model.text_embed(text[:, 1:]), eos], dim=1)
    return TalkerPrompt(torch.cat(parts, dim=1), trailing, pad)


def _icl(model: Qwen3TTSModel, text: torch.Tensor, ref_text: torch.Tensor, ref_codes: torch.Tensor,
         pad: torch.Tensor, eos: torch.Tensor, non_streaming: bool) -> tuple[torch.Tensor, torch.Tensor]:
    spec = model.spec
    dev = pad.device
    text_emb = torch.cat([model.text_embed(torch.cat([ref_text, text], dim=-1)), eos], dim=1)  # [1, T1, D]
    frames = model.frame_embed(ref_codes.unsqueeze(0))  # [1, T2-1, D]
    codec_emb = torch.cat([model.codec_embed(_ids([spec.codec_bos], dev)), frames], dim=1)
    n_text, n_codec = text_emb.shape[1], codec_emb.shape[1]
    if non_streaming:
        over_pad = text_emb + model.codec_embed(_ids([spec.codec_pad] * n_text, dev))
        return torch.cat([over_pad, codec_emb + pad], dim=1), pad
    if n_text > n_codec:
        return text_emb[:, :n_codec] + codec_emb, text_emb[:, n_codec:]
    text_emb = torch.cat([text_emb] + [pad] * (n_codec - n_text), dim=1)
    return text_emb + codec_emb, pad
