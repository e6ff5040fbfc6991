"""Our Qwen3-TTS LM equals the reference qwen-tts package (run in its own cached environment).

Tiny random models from the real configs (tests/engine/qwen3_ref/tiny.py), in both shapes (0.6B:
talker and code predictor equally wide; 1.7B: a projection between them). The reference writes the
weights in the Hub's layout; we load them through our loader. Then, for voice cloning with a
reference transcript + codes (ICL), with a speaker embedding only, and with a preset dialect speaker
in non-streaming mode, and a VoiceDesign description with no speaker: the prompt the reference builds, teacher-forced talker and code-predictor
logits (<= 1e-4), and 20 greedy frames (identical).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.backends.qwen3_generate import Qwen3Sampling, generate_frames
from engine.backends.qwen3_loader import load_qwen3
from engine.backends.qwen3_prompt import build_prompt
from tests.engine.qwen3_ref import tiny
from tests.engine.tiny_csm import single_thread

pytestmark = pytest.mark.slow  # builds (once per machine) and runs the reference environment
_threads = pytest.fixture(scope="module", autouse=True)(single_thread)

ROLE, TAIL, REF_TAIL = [151644, 77091, 198], [151645, 198, 151644, 77091, 198], [151645, 198]
FRAMES = 20
# The reference completes a frame's codebooks 1..15 in the step after it samples codebook 0, so
# max_new_tokens=N gives N-1 whole frames: ask it for one more.
REF_TOKENS = FRAMES + 1


def _cases(dim: int) -> dict:
    rng = np.random.default_rng(5)
    text = rng.integers(0, 151000, 9).tolist()
    ref_text = rng.integers(0, 151000, 6).tolist()
    codes = lambda n: np.concatenate([rng.integers(0, 2048, (n, 1)), rng.integers(0, 2048, (n, 15))], 1).tolist()
    spk = (rng.standard_normal(dim) * 0.5).astype(np.float32).tolist()
    return {
        "icl": {"text_ids": ROLE + text + TAIL, "ref_ids": ROLE + ref_text + REF_TAIL, "ref_codes": codes(4),
                "speaker_embedding": spk, "language": "English", "frames": REF_TOKENS, "forced_codes": codes(6)},
        "xvec": {"text_ids": ROLE + text + TAIL, "speaker_embedding": spk, "language": "auto", "frames": REF_TOKENS},
        "preset": {"text_ids": ROLE + text + TAIL, "speaker": "Eric", "language": "Chinese",
                   "non_streaming": True, "frames": REF_TOKENS},
        # VoiceDesign: a written description (a user turn) and no speaker at all
        "design": {"text_ids": ROLE + text + TAIL, "language": "English", "non_streaming": True,
                   "instruct_ids": [151644, 872, 198] + rng.integers(0, 151000, 7).tolist() + [151645, 198],
                   "frames": REF_TOKENS},
    }


@pytest.fixture(scope="module", params=sorted(tiny.SHAPES))
def pair(request, tmp_path_factory):
    shape = request.param
    folder = tiny.write_model_dir(tmp_path_factory.mktemp(f"qwen3-{shape}"), shape)
    cases = _cases(tiny.SHAPES[shape]["talker"])
    ref = tiny.run_reference(folder, cases, folder / "ref.npz")
    return load_qwen3(folder, device="cpu"), cases, ref


def _prompt(loaded, case):
    t = lambda k: torch.tensor([case[k]]) if case.get(k) else None
    with torch.inference_mode():
        return build_prompt(
            loaded.model, t("text_ids"), language=case["language"], speaker=case.get("speaker"),
            speaker_embedding=torch.tensor(case["speaker_embedding"]) if case.get("speaker_embedding") else None,
            ref_ids=t("ref_ids"), ref_codes=torch.tensor(case["ref_codes"]) if case.get("ref_codes") else None,
            instruct_ids=t("instruct_ids"),
            non_streaming=case.get("non_streaming", False))


@pytest.mark.parametrize("case", ["icl", "xvec", "preset", "design"])
def test_prompt_equals_the_reference(pair, case):
    loaded, cases, ref = pair
    p = _prompt(loaded, cases[case])
    for name, ours in (("embeds", p.embeds), ("trailing", p.trailing), ("pad", p.pad)):
        np.testing.assert_allclose(ours.numpy(), ref[f"{case}/{name}"], atol=1e-5, rtol=0, err_msg=name)


def test_teacher_forced_logits_match(pair):
    loaded, cases, ref = pair
    case, model = cases["icl"], loaded.model
    p = _prompt(loaded, case)
    forced = torch.tensor(case["forced_codes"])
    with torch.inference_mode():
        text = torch.stack([p.frame_text(i)[0] for i in range(len(forced))])
        embeds = torch.cat([p.embeds, (model.frame_embed(forced.unsqueeze(0))[0] + text).unsqueeze(0)], dim=1)
        logits, hidden = model.talker_logits(embeds)
        s = p.embeds.shape[1]
        cp = torch.cat([model.predictor_logits(hidden[:, s - 1 + i], forced[i: i + 1]) for i in range(len(forced))])
    expected = ref["icl/talker_logits"]
    assert np.abs(expected).max() > 1.0  # decisive logits, not a near-zero model
    np.testing.assert_allclose(logits[0].numpy(), expected, atol=1e-4, rtol=0)
    np.testing.assert_allclose(cp.numpy(), ref["icl/predictor_logits"], atol=1e-4, rtol=0)


@pytest.mark.parametrize("case", ["icl", "xvec", "preset", "design"])
def test_greedy_frames_identical(pair, case):
    loaded, cases, ref = pair
    expected = ref[f"{case}/greedy"]
    with torch.inference_mode():
        loaded.model.setup_caches(512)
    frames = list(generate_frames(loaded.model, _prompt(loaded, cases[case]), Qwen3Sampling.greedy(), FRAMES))
    ours = np.stack([f.codes for f in frames if len(f.codes)]) if any(len(f.codes) for f in frames) else \
        np.zeros((0, 16), dtype=np.int64)
    assert len(expected) == FRAMES  # the seeded weights never end early: all 20 frames are compared
    np.testing.assert_array_equal(ours, expected)
