"""`mynah finetune`: a folder of clips -> a tuned voice that `mynah synth` uses; `finetune import`
brings in an adapter that transformers + peft saved."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf
import torch

from engine.backends import get_backend
from studio.cli import main
from tests.engine.tiny_csm import cached_tiny_csm, load_reference, single_thread
from tests.engine.train_helpers import speaker_clips

pytest.importorskip("transformers")
_threads = pytest.fixture(scope="module", autouse=True)(single_thread)


def test_finetune_a_folder_then_synthesize_with_the_tuned_voice(tmp_path, speech_dir, mynah_home, capsys):
    folder = tmp_path / "clips"
    folder.mkdir()
    for c in speaker_clips(speech_dir, n=4):
        shutil.copy(c.path, folder / c.path.name)
        (folder / c.path.name).with_suffix(".txt").write_text(c.text)
    model = cached_tiny_csm("hf")
    rc = main(["finetune", "--model", str(model), "--folder", str(folder), "--name", "me", "--preset", "cpu-quick",
               "--max-steps", "3", "--checkpoint-every", "2", "--lr", "0.01", "--device", "cpu"])
    err = capsys.readouterr()
    assert rc == 0, err.err
    assert "training on 3 takes" in err.err and "1 held out" in err.err and "checkpoint step-000002" in err.err
    voice = mynah_home / "models" / "tuned" / "me"
    assert (voice / "adapter_config.json").is_file() and (voice / "adapter_model.safetensors").is_file()
    out = tmp_path / "take.wav"
    rc = main(["synth", "--model", str(voice), "--text", "Hello there.", "-o", str(out), "--seed", "1",
               "--max-seconds", "1"])
    assert rc == 0, capsys.readouterr().err
    audio, sr = sf.read(out)
    assert len(audio) > 0 and np.isfinite(audio).all()
    # nothing to train on: a clear message, exit 1
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["finetune", "--model", str(model), "--folder", str(empty)]) == 1
    assert "no audio file with a transcript" in capsys.readouterr().err


def test_import_an_adapter_saved_by_peft(tmp_path, mynah_home, capsys):
    peft = pytest.importorskip("peft")
    model = cached_tiny_csm("hf")
    ref = load_reference(model)
    target = r"^(backbone_model|depth_decoder\.model)\.layers\.\d+\.(self_attn|mlp)\.(q_proj|v_proj|up_proj)$"
    pm = peft.get_peft_model(ref, peft.LoraConfig(r=4, lora_alpha=8, target_modules=target))
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if "lora_" in n:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
    pm.save_pretrained(tmp_path / "theirs")
    assert main(["finetune", "import", str(tmp_path / "theirs"), "--base", str(model), "--name", "t"]) == 0
    assert "imported t" in capsys.readouterr().out
    b = get_backend("csm")
    info = b.load(mynah_home / "models" / "tuned" / "t", device="cpu")
    assert info.adapter_sha256
    tokens = torch.zeros(1, 6, 33, dtype=torch.long)
    tokens[0, :, -1] = torch.tensor([5, 6, 7, 8, 9, 10])
    mask = torch.zeros(1, 6, 33, dtype=torch.bool)
    mask[0, :, -1] = True
    with torch.inference_mode():
        ours, _ = b._loaded.model.backbone_logits(tokens, mask)  # the merged weights, generation's path
        theirs = pm.eval()(inputs_embeds=pm.base_model.model.embed_text_tokens(tokens[..., -1])).logits
    assert (ours - theirs).abs().max() <= 1e-4
    # the same name again is refused, the existing voice kept
    assert main(["finetune", "import", str(tmp_path / "theirs"), "--base", str(model), "--name", "t"]) == 1
    assert "already exists" in capsys.readouterr().err
