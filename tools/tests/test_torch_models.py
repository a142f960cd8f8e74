"""Checks tools/torch_models.py against plain numpy float64 implementations of the specified
models, and checks that the committed fixtures are reproduced by those models.

Run: /usr/bin/python3 -m unittest discover -s tools/tests
"""
import math
import os
import sys
import unittest

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import safetensors_io  # noqa: E402
import torch_models as tm  # noqa: E402

FIXTURES = os.path.join(HERE, "..", "..", "tests", "fixtures")
torch.set_num_threads(1)


def np_layernorm(x, w, b):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-5) * w + b


def np_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def np_gpt_logits(p, tokens, n_layer, n_head):
    """GPT-2 forward from HF-layout weights; p maps names to float64 arrays; tokens (B, T)."""
    B, T = tokens.shape
    x = p["wte.weight"][tokens] + p["wpe.weight"][:T]  # (B, T, C)
    C = x.shape[-1]
    D = C // n_head
    for i in range(n_layer):
        g = lambda n: p[f"h.{i}.{n}"]  # noqa: E731
        a = np_layernorm(x, g("ln_1.weight"), g("ln_1.bias"))
        qkv = a @ g("attn.c_attn.weight") + g("attn.c_attn.bias")  # (B, T, 3C)
        y = np.zeros_like(x)
        for h in range(n_head):
            q = qkv[..., h * D:(h + 1) * D]
            k = qkv[..., C + h * D:C + (h + 1) * D]
            v = qkv[..., 2 * C + h * D:2 * C + (h + 1) * D]
            s = q @ k.transpose(0, 2, 1) / math.sqrt(D)  # (B, T, T)
            s = np.where(np.tril(np.ones((T, T))) > 0, s, -np.inf)
            e = np.exp(s - s.max(-1, keepdims=True))
            y[..., h * D:(h + 1) * D] = (e / e.sum(-1, keepdims=True)) @ v
        x = x + y @ g("attn.c_proj.weight") + g("attn.c_proj.bias")
        m = np_layernorm(x, g("ln_2.weight"), g("ln_2.bias"))
        m = np_gelu_tanh(m @ g("mlp.c_fc.weight") + g("mlp.c_fc.bias"))
        x = x + m @ g("mlp.c_proj.weight") + g("mlp.c_proj.bias")
    x = np_layernorm(x, p["ln_f.weight"], p["ln_f.bias"])
    return x @ p["wte.weight"].T  # (B, T, V)


def np_conv3x3_pad1(x, w, b):
    """x (N, Cin, H, W), w (Cout, Cin, 3, 3): cross-correlation, stride 1, zero padding 1."""
    N, _, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((N, w.shape[0], H, W)) + b[None, :, None, None]
    for dy in range(3):
        for dx in range(3):
            out += np.einsum("nchw,oc->nohw", xp[:, :, dy:dy + H, dx:dx + W], w[:, :, dy, dx])
    return out


def np_maxpool2(x):
    N, C, H, W = x.shape
    return x.reshape(N, C, H // 2, 2, W // 2, 2).max(axis=(3, 5))


def np_cross_entropy(logits, targets):
    z = logits.reshape(-1, logits.shape[-1])
    z = z - z.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return -logp[np.arange(z.shape[0]), targets.reshape(-1)].mean()


def as_np(params):
    return {n: t.detach().double().numpy() for n, t in params.items()}


class GPTTest(unittest.TestCase):
    def test_matches_numpy_gpt2(self):
        torch.manual_seed(0)
        cfg = tm.GPTConfig(n_layer=2, n_head=4, n_embd=32, block_size=16, vocab_size=40)
        model = tm.GPT(cfg)
        with torch.no_grad():  # non-trivial biases and LayerNorm affine terms
            for name, p in model.named_parameters():
                if "bias" in name or "ln" in name:
                    p.add_(0.1 * torch.randn_like(p))
        tokens = torch.randint(0, 40, (3, 11))
        expected = np_gpt_logits(as_np(dict(model.named_parameters())), tokens.numpy(), 2, 4)
        np.testing.assert_allclose(model(tokens).detach().numpy(), expected, atol=2e-5)

    def test_hf_names_and_layout(self):
        model = tm.GPT(tm.gpt_config("gpt-mini", vocab_size=256))
        shapes = {n: tuple(p.shape) for n, p in model.named_parameters()}
        self.assertEqual(shapes["wte.weight"], (256, 128))
        self.assertEqual(shapes["wpe.weight"], (256, 128))
        self.assertEqual(shapes["h.3.attn.c_attn.weight"], (128, 384))
        self.assertEqual(shapes["h.0.mlp.c_fc.weight"], (128, 512))
        self.assertEqual(shapes["h.0.mlp.c_proj.weight"], (512, 128))
        self.assertEqual(shapes["ln_f.bias"], (128,))
        self.assertEqual(len(shapes), 2 + 4 * 12 + 2)

    def test_initialisation(self):
        torch.manual_seed(0)
        model = tm.GPT(tm.gpt_config("gpt-mini", vocab_size=256))
        p = dict(model.named_parameters())
        self.assertAlmostEqual(p["h.0.mlp.c_fc.weight"].std().item(), 0.02, delta=0.0005)
        self.assertAlmostEqual(p["h.0.mlp.c_proj.weight"].std().item(), 0.02 / math.sqrt(8),
                               delta=0.0003)
        self.assertAlmostEqual(p["wte.weight"].std().item(), 0.02, delta=0.0005)
        self.assertTrue(torch.all(p["h.1.attn.c_attn.bias"] == 0))
        self.assertTrue(torch.all(p["h.1.ln_2.weight"] == 1))
        self.assertTrue(torch.all(p["ln_f.bias"] == 0))

    def test_gpt2_124m_parameter_count(self):
        model = tm.GPT(tm.gpt_config("gpt2-124m"))
        self.assertEqual(sum(p.numel() for p in model.parameters()), 124439808)

    def test_rejects_too_long_sequence(self):
        model = tm.GPT(tm.GPTConfig(n_layer=1, n_head=1, n_embd=8, block_size=4, vocab_size=5))
        with self.assertRaisesRegex(ValueError, "sequence length 5 exceeds block_size 4"):
            model(torch.zeros(1, 5, dtype=torch.long))


class SmallModelsTest(unittest.TestCase):
    def test_mlp_matches_numpy(self):
        torch.manual_seed(0)
        model, x = tm.MLP(), torch.rand(5, 784)
        p = as_np(dict(model.named_parameters()))
        relu = lambda v: np.maximum(v, 0)  # noqa: E731
        h = relu(x.double().numpy() @ p["fc1.weight"].T + p["fc1.bias"])
        h = relu(h @ p["fc2.weight"].T + p["fc2.bias"])
        np.testing.assert_allclose(model(x).detach().numpy(),
                                   h @ p["fc3.weight"].T + p["fc3.bias"], atol=1e-5)

    def test_cnn_matches_numpy_with_nchw_flatten(self):
        torch.manual_seed(0)
        model, x = tm.CNN(), torch.rand(3, 1, 28, 28)
        p = as_np(dict(model.named_parameters()))
        h = np_maxpool2(np.maximum(np_conv3x3_pad1(x.double().numpy(), p["conv1.weight"],
                                                   p["conv1.bias"]), 0))
        h = np_maxpool2(np.maximum(np_conv3x3_pad1(h, p["conv2.weight"], p["conv2.bias"]), 0))
        expected = h.reshape(3, 1568) @ p["fc.weight"].T + p["fc.bias"]
        np.testing.assert_allclose(model(x).detach().numpy(), expected, atol=1e-5)


class FixturesTest(unittest.TestCase):
    """The committed fixtures agree with the models and with numpy."""

    def load(self, name):
        return safetensors_io.load(os.path.join(FIXTURES, f"{name}.safetensors"))

    def check(self, name, model):
        tensors, meta = self.load(name)
        params = {n[len("param."):]: t for n, t in tensors.items() if n.startswith("param.")}
        model.load_state_dict(params, strict=True)
        grads = {n[len("grad."):] for n in tensors if n.startswith("grad.")}
        self.assertEqual(grads, set(params))
        logits = model(tensors["input"])
        loss = tm.mean_cross_entropy(logits, tensors["targets"])
        loss.backward()
        torch.testing.assert_close(logits, tensors["logits"], rtol=0, atol=1e-6)
        self.assertEqual(tuple(tensors["loss"].shape), (1,))
        self.assertAlmostEqual(loss.item(), tensors["loss"].item(), places=6)
        self.assertAlmostEqual(np_cross_entropy(tensors["logits"].double().numpy(),
                                                tensors["targets"].numpy()),
                               tensors["loss"].item(), places=5)
        for n, p in model.named_parameters():
            torch.testing.assert_close(p.grad, tensors[f"grad.{n}"], rtol=1e-4, atol=1e-7)
        self.assertEqual(tuple(tensors["adamw_losses"].shape), (10,))
        self.assertEqual(tensors["adamw_losses"][0].item(), tensors["loss"].item())
        self.assertLess(tensors["adamw_losses"][-1].item(), tensors["adamw_losses"][0].item())
        after = meta["param_after"].split(",")
        self.assertEqual(len(after), 2)
        for n in after:
            self.assertFalse(torch.equal(tensors[f"param_after.{n}"], params[n]))
        return tensors, meta

    def test_gpt_mini(self):
        tensors, meta = self.check("gpt_mini", tm.GPT(tm.gpt_config("gpt-mini", 256)))
        self.assertEqual(tensors["input"].dtype, torch.int64)
        self.assertEqual(tuple(tensors["input"].shape), (4, 64))
        self.assertEqual(meta["n_head"], "4")
        params = as_np({n[6:]: t for n, t in tensors.items() if n.startswith("param.")})
        np.testing.assert_allclose(np_gpt_logits(params, tensors["input"].numpy(), 4, 4),
                                   tensors["logits"].numpy(), atol=2e-5)

    def test_mlp(self):
        tensors, _ = self.check("mlp", tm.MLP())
        self.assertEqual(tuple(tensors["input"].shape), (32, 784))

    def test_cnn(self):
        tensors, _ = self.check("cnn", tm.CNN())
        self.assertEqual(tuple(tensors["input"].shape), (16, 1, 28, 28))

    def test_files_are_small(self):
        for name in ("gpt_mini", "mlp", "cnn"):
            size = os.path.getsize(os.path.join(FIXTURES, f"{name}.safetensors"))
            self.assertLess(size, 8 * 1024 * 1024, name)


if __name__ == "__main__":
    unittest.main()
