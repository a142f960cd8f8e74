"""Runs bench/torch_step.py briefly and checks its JSON line and FLOP counts.

Run: /usr/bin/python3 -m unittest discover -s tools/tests
"""
import json
import os
import subprocess
import sys
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench",
                      "torch_step.py")


def run_step(*args):
    result = subprocess.run([sys.executable, SCRIPT, "--threads", "1", "--steps", "2",
                             "--warmup", "1", *args], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


class TorchStepTest(unittest.TestCase):
    def test_mlp_f32_line(self):
        report = run_step("--model", "mlp", "--batch", "8")
        self.assertEqual((report["model"], report["dtype"], report["threads"]), ("mlp", "f32", 1))
        self.assertGreater(report["median_step_ms"], 0)
        self.assertLessEqual(report["min_step_ms"], report["median_step_ms"])
        self.assertGreater(report["peak_rss_mb"], 10)
        # 3 passes x 2 FLOPs x batch 8 x (784*512 + 512*256 + 256*10)
        self.assertEqual(report["flops_per_step"], 3 * 2 * 8 * 535040)

    def test_cnn_bf16_flops(self):
        report = run_step("--model", "cnn", "--batch", "2", "--dtype", "bf16")
        self.assertNotIn("error", report)  # bf16 autocast is available in torch 1.13 on x86
        self.assertEqual(report["dtype"], "bf16")
        # 3 passes x batch 2 x per image:
        # conv1 2*28*28*16*1*9 + conv2 2*14*14*32*16*9 + fc 2*1568*10
        self.assertEqual(report["flops_per_step"], 3 * 2 * (225792 + 1806336 + 31360))


if __name__ == "__main__":
    unittest.main()
