"""Tests tools/torch_load_gpt.py on checkpoints written with tools/safetensors_io.py.

Run: /usr/bin/python3 -m unittest discover -s tools/tests
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..")
sys.path.insert(0, TOOLS)
import safetensors_io  # noqa: E402
import torch_load_gpt  # noqa: E402
import torch_models as tm  # noqa: E402

torch.set_num_threads(1)
CFG = tm.GPTConfig(n_layer=2, n_head=2, n_embd=16, block_size=8, vocab_size=30)


def run_cli(*args):
    result = subprocess.run([sys.executable, os.path.join(TOOLS, "torch_load_gpt.py"), *args],
                            capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr


class LoadGPTTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        torch.manual_seed(0)
        self.model = tm.GPT(CFG)
        with torch.no_grad():
            for n, p in self.model.named_parameters():  # sharp attention: heads matter
                p.add_((0.5 if "c_attn" in n else 0.05) * torch.randn_like(p))
        self.state = {n: p.detach().clone() for n, p in self.model.named_parameters()}
        self.tokens = torch.randint(0, CFG.vocab_size, (20,))

    def tearDown(self):
        self.dir.cleanup()

    def path(self, name):
        return os.path.join(self.dir.name, name)

    def expected_loss(self):
        """Mean loss over the windows [0, 9), [8, 17), [16, 20) of 20 tokens (block_size 8)."""
        total = 0.0
        with torch.no_grad():
            for start in (0, 8, 16):
                chunk = self.tokens[start:start + 9]
                logits = self.model(chunk[:-1].unsqueeze(0))
                total += tm.mean_cross_entropy(logits, chunk[1:].unsqueeze(0)).item() * (
                    chunk.numel() - 1)
        return total / 19

    def test_plain_names_from_text_token_file(self):
        safetensors_io.save(self.path("gpt.safetensors"), self.state, {"n_head": "2"})
        with open(self.path("tokens.txt"), "w") as f:
            f.write(" ".join(str(t) for t in self.tokens.tolist()) + "\n")
        rc, out, err = run_cli(self.path("gpt.safetensors"), "--token-file",
                               self.path("tokens.txt"))
        self.assertEqual(rc, 0, err)
        report = json.loads(out)
        self.assertAlmostEqual(report["loss"], self.expected_loss(), places=5)
        self.assertEqual(report["predicted_tokens"], 19)
        self.assertEqual((report["n_layer"], report["n_head"], report["n_embd"]), (2, 2, 16))

    def test_transformer_prefix_lm_head_and_mask_buffers(self):
        saved = {f"transformer.{n}": t for n, t in self.state.items()}
        saved["lm_head.weight"] = self.state["wte.weight"]
        for i in range(CFG.n_layer):
            saved[f"transformer.h.{i}.attn.bias"] = torch.ones(1, 1, 8, 8).tril()
            saved[f"transformer.h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
        safetensors_io.save(self.path("lm.safetensors"), saved)
        self.tokens.numpy().astype("<u2").tofile(self.path("tokens.bin"))
        rc, out, err = run_cli(self.path("lm.safetensors"), "--token-file",
                               self.path("tokens.bin"), "--n-head", "2")
        self.assertEqual(rc, 0, err)
        self.assertAlmostEqual(json.loads(out)["loss"], self.expected_loss(), places=5)

    def test_loaded_weights_equal_saved(self):
        safetensors_io.save(self.path("gpt.safetensors"), self.state, {"n_head": "2"})
        loaded = torch_load_gpt.load_gpt(self.path("gpt.safetensors"))
        for n, p in loaded.named_parameters():
            self.assertTrue(torch.equal(p, self.state[n]), n)

    def test_token_list_and_head_count_matter(self):
        safetensors_io.save(self.path("gpt.safetensors"), self.state)
        tokens = ",".join(str(t) for t in self.tokens.tolist()[:9])
        rc, out, err = run_cli(self.path("gpt.safetensors"), "--tokens", tokens, "--n-head", "2")
        self.assertEqual(rc, 0, err)
        with torch.no_grad():
            logits = self.model(self.tokens[:8].unsqueeze(0))
        expected = tm.mean_cross_entropy(logits, self.tokens[1:9].unsqueeze(0)).item()
        self.assertAlmostEqual(json.loads(out)["loss"], expected, places=5)
        rc, out, err = run_cli(self.path("gpt.safetensors"), "--tokens", tokens, "--n-head", "1")
        self.assertEqual(rc, 0, err)
        self.assertNotAlmostEqual(json.loads(out)["loss"], expected, places=4)

    def test_rejects_untied_lm_head(self):
        saved = dict(self.state)
        saved["lm_head.weight"] = self.state["wte.weight"] + 1
        safetensors_io.save(self.path("bad.safetensors"), saved)
        with self.assertRaisesRegex(ValueError, "lm_head.weight differs from wte.weight"):
            torch_load_gpt.load_gpt(self.path("bad.safetensors"), n_head=2)

    def test_rejects_missing_tensor(self):
        saved = dict(self.state)
        del saved["h.1.mlp.c_fc.bias"]
        safetensors_io.save(self.path("bad.safetensors"), saved)
        with self.assertRaisesRegex(RuntimeError, "h.1.mlp.c_fc.bias"):
            torch_load_gpt.load_gpt(self.path("bad.safetensors"), n_head=2)

    def test_rejects_out_of_range_token(self):
        safetensors_io.save(self.path("gpt.safetensors"), self.state, {"n_head": "2"})
        rc, _, err = run_cli(self.path("gpt.safetensors"), "--tokens", "1,30")
        self.assertNotEqual(rc, 0)
        self.assertIn("token ids must be in [0, 30)", err)


if __name__ == "__main__":
    unittest.main()
