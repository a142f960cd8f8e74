"""Writes the PyTorch reference fixtures that Tessera's model tests compare against.

For each model (gpt-mini, MLP, CNN) one safetensors file in tests/fixtures/ holds the initial
weights (param.<name>), one batch (input, targets), the forward result (logits, loss), every
gradient at the initial weights (grad.<name>), the loss before each of ten AdamW steps on that
same batch (adamw_losses) and two parameters after those steps (param_after.<name>).
Deterministic: fixed seeds, one thread, deterministic algorithms.

Usage: /usr/bin/python3 tools/make_fixtures.py [--out tests/fixtures]
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
import torch_models as tm  # noqa: E402

ADAMW_STEPS = 10
GPT_VOCAB, GPT_BATCH, GPT_SEQ = 256, 4, 64
MLP_BATCH = 32
CNN_BATCH = 16


def reference_record(model, inputs, targets, after_names):
    """Forward, loss and gradients at the initial weights, then ten AdamW steps."""
    params = {n: p.detach().clone() for n, p in model.named_parameters()}
    logits = model(inputs)
    loss = tm.mean_cross_entropy(logits, targets)
    loss.backward()
    record = {f"param.{n}": p for n, p in params.items()}
    record.update({f"grad.{n}": p.grad.detach().clone() for n, p in model.named_parameters()})
    record.update(input=inputs, targets=targets, logits=logits.detach().clone(),
                  loss=loss.detach().reshape(1).clone())
    optimiser = tm.make_adamw(model)
    losses = []
    for _ in range(ADAMW_STEPS):
        optimiser.zero_grad(set_to_none=True)
        step_loss = tm.mean_cross_entropy(model(inputs), targets)
        losses.append(step_loss.item())
        step_loss.backward()
        optimiser.step()
    record["adamw_losses"] = torch.tensor(losses, dtype=torch.float32)
    named = dict(model.named_parameters())
    record.update({f"param_after.{n}": named[n].detach().clone() for n in after_names})
    return record


def common_metadata(seed, after_names):
    return dict(seed=str(seed), loss="mean cross-entropy", optimiser="AdamW",
                adamw_steps=str(ADAMW_STEPS), param_after=",".join(after_names),
                torch_version=torch.__version__, generator="tools/make_fixtures.py",
                **{f"adamw_{k}": v for k, v in tm.ADAMW_SETTINGS.items()})


def gpt_mini_fixture(seed=1):
    torch.manual_seed(seed)
    cfg = tm.gpt_config("gpt-mini", vocab_size=GPT_VOCAB)
    model = tm.GPT(cfg)
    tokens = torch.randint(0, GPT_VOCAB, (GPT_BATCH, GPT_SEQ + 1))  # (B, T+1)
    inputs, targets = tokens[:, :-1].contiguous(), tokens[:, 1:].contiguous()  # (B, T) each
    after = ["wte.weight", "h.0.attn.c_attn.weight"]
    meta = common_metadata(seed, after)
    meta.update(model="gpt", preset="gpt-mini", n_layer=str(cfg.n_layer), n_head=str(cfg.n_head),
                n_embd=str(cfg.n_embd), block_size=str(cfg.block_size),
                vocab_size=str(cfg.vocab_size), batch=str(GPT_BATCH), seq=str(GPT_SEQ),
                init="normal(0,0.02); c_proj.weight normal(0,0.02/sqrt(2*n_layer)); "
                     "biases 0; layernorm weight 1 bias 0",
                targets_from="input shifted left by one position of a random (B,T+1) draw")
    return reference_record(model, inputs, targets, after), meta


def mlp_fixture(seed=2):
    torch.manual_seed(seed)
    model = tm.MLP()
    inputs = torch.rand(MLP_BATCH, 784)  # (N, 784) in [0, 1)
    targets = torch.randint(0, 10, (MLP_BATCH,))  # (N)
    after = ["fc1.weight", "fc3.bias"]
    meta = common_metadata(seed, after)
    meta.update(model="mlp", batch=str(MLP_BATCH), layers="784-512-256-10 relu",
                init="torch default (nn.Linear)")
    return reference_record(model, inputs, targets, after), meta


def cnn_fixture(seed=3):
    torch.manual_seed(seed)
    model = tm.CNN()
    inputs = torch.rand(CNN_BATCH, 1, 28, 28)  # (N, 1, 28, 28) in [0, 1)
    targets = torch.randint(0, 10, (CNN_BATCH,))  # (N)
    after = ["conv1.weight", "fc.weight"]
    meta = common_metadata(seed, after)
    meta.update(model="cnn", batch=str(CNN_BATCH),
                layers="conv3x3(1->16,p1) relu maxpool2, conv3x3(16->32,p1) relu maxpool2, "
                       "flatten NCHW, fc(1568->10)",
                init="torch default (nn.Conv2d, nn.Linear)")
    return reference_record(model, inputs, targets, after), meta


FIXTURES = {"gpt_mini": gpt_mini_fixture, "mlp": mlp_fixture, "cnn": cnn_fixture}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_out = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                "..", "tests", "fixtures"))
    parser.add_argument("--out", default=default_out, help="output folder")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    for name, build in FIXTURES.items():
        tensors, meta = build()
        path = os.path.join(args.out, f"{name}.safetensors")
        safetensors_io.save(path, tensors, meta)
        losses = tensors["adamw_losses"]
        print(f"{path}: {os.path.getsize(path)} bytes, loss {tensors['loss'].item():.6f}, "
              f"adamw loss {losses[0].item():.4f} -> {losses[-1].item():.4f}")


if __name__ == "__main__":
    main()
