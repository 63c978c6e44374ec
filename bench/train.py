"""Throughput of the ensemble engine against the naive loop on the authors' GEOMNIST protocol.

Protocol: K = 3 (triangle, rectangle, ellipse), LeNet, batch size 1, SGD lr 0.005,
--trials trials, evaluation on the whole validation set every 100 iterations. The
naive loop (one nn.Module, one sample, one torch.optim.SGD step at a time, trial after
trial, plus the same evaluation schedule) runs on a few trials and iterations in the
same process; its rate is extrapolated per trial-iteration. The kernel column names the engine's training
kernel (``EnsembleTrainer.backend``: ``lenet/native``, the C kernel, where gcc is available; else the
torch kernel, ``lenet/direct`` in float32 and ``lenet/im2col`` in float64). The forward column is the
evaluation's rate in forward passes (one image through one trial) per second.

The roofline counts nominal (dense) FLOPs: the native kernel's backward skips the pooling
positions and ReLUs that carry no gradient, so it does less arithmetic than it is credited with.

Usage: python bench/train.py [--device cpu|cuda] [--trials 100] [--iterations 1000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from lesde_trainer.datasets import Dataset, load_dataset
from lesde_trainer.device import configure_cpu_threads, resolve_device
from lesde_trainer.engine import EnsembleTrainer
from lesde_trainer.models import build_model, initial_parameters

EVAL_EVERY = 100
# LeNet on 32x32 grey inputs, K = 3: multiply-adds of one forward pass per layer
# (conv1 6@5x5 on 28x28, conv2 16@5x5x6 on 10x10, fc 400-120-84-3)
FORWARD_MACS = 6 * 25 * 28 * 28 + 16 * 150 * 10 * 10 + 400 * 120 + 120 * 84 + 84 * 3
FORWARD_FLOP = 2 * FORWARD_MACS  # about 0.83 MFLOP
STEP_FLOP = 3 * FORWARD_FLOP  # forward, and a backward of about twice its work: about 2.5 MFLOP per trial-iteration
LR = 0.005
AUTHORS_RATE = 4  # trial-iterations per second of the authors' published loop on this class of machine (quoted)


def make_engine(data: Dataset, *, dtype: torch.dtype, trials: int, device: torch.device) -> EnsembleTrainer:
    engine = EnsembleTrainer(
        model="lenet",
        num_classes=3,
        in_channels=1,
        dtype=dtype,
        trials=trials,
        lr=LR,
        seed=0,
        device=device,
        x_train=data.x_train,
        y_train=data.y_train,
    )
    engine.train(10)  # warm-up (allocator, kernels)
    engine.evaluate(data.x_val, data.y_val)
    return engine


def engine_rate(engine: EnsembleTrainer, data: Dataset, *, iterations: int, device: torch.device) -> tuple[float, float, float]:
    """Trial-iterations per second of the engine, with and without the evaluations, and the
    evaluations' forward passes per second."""
    train_time = eval_time = 0.0
    done = 0
    while done < iterations:
        n = min(EVAL_EVERY, iterations - done)
        start = time.perf_counter()
        engine.train(n)
        middle = time.perf_counter()
        engine.evaluate(data.x_val, data.y_val)
        if device.type == "cuda":
            torch.cuda.synchronize()
        train_time += middle - start
        eval_time += time.perf_counter() - middle
        done += n
    total = engine.trials * iterations
    forwards = engine.trials * len(data.y_val) * (-(-iterations // EVAL_EVERY))
    return total / (train_time + eval_time), total / train_time, forwards / eval_time


def matmul_peak(dtype: torch.dtype, device: torch.device, *, size: int = 1024, repeats: int = 20) -> float:
    """GFLOP/s of one large square matmul on ``device``: the machine's practical peak for ``dtype``."""
    a = torch.randn(size, size, dtype=dtype, device=device)
    b = torch.randn(size, size, dtype=dtype, device=device)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def naive_rate(data: Dataset, *, dtype: torch.dtype, trials: int, iterations: int) -> float:
    """Naive loop (CPU): trial after trial, evaluation every EVAL_EVERY iterations."""
    x = torch.as_tensor(data.x_train, dtype=dtype)
    y = torch.as_tensor(data.y_train)
    x_val = torch.as_tensor(data.x_val, dtype=dtype)
    y_val = torch.as_tensor(data.y_val)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for trial in range(trials):
        net = build_model("lenet", num_classes=3, in_channels=1, dtype=dtype)
        with torch.no_grad():
            for name, value in initial_parameters(net, seed=0, trial=trial).items():
                net.get_parameter(name).copy_(torch.as_tensor(value))
        optimizer = torch.optim.SGD(net.parameters(), lr=LR, momentum=0.0)
        for t in range(iterations):
            i = int(rng.integers(len(y)))
            optimizer.zero_grad(set_to_none=True)
            logits = net(x[i : i + 1])
            torch.nn.functional.cross_entropy(logits, y[i : i + 1]).backward()
            optimizer.step()
            _ = logits.detach().numpy().copy()
            if (t + 1) % EVAL_EVERY == 0:
                with torch.no_grad():
                    torch.nn.functional.cross_entropy(net(x_val), y_val)
    return trials * iterations / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--train-per-class", type=int, default=100)
    parser.add_argument("--val-per-class", type=int, default=100)
    parser.add_argument("--naive-trials", type=int, default=2)
    parser.add_argument("--naive-iterations", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved engine/naive rounds (best kept)")
    args = parser.parse_args()
    if args.trials < 1 or args.iterations < 1 or args.rounds < 1:
        parser.error("--trials, --iterations and --rounds must be >= 1")

    threads = configure_cpu_threads()
    device = resolve_device(args.device)
    data = load_dataset(
        "geomnist",
        classes=["triangle", "rectangle", "ellipse"],
        train_per_class=args.train_per_class,
        val_per_class=args.val_per_class,
        seed=0,
    )
    print(
        f"GEOMNIST K=3, LeNet, batch 1, lr {LR}, {args.train_per_class} train + {args.val_per_class} val per "
        f"class, evaluation on the validation set every {EVAL_EVERY} iterations"
    )
    print(f"device {device}, torch {torch.__version__}, {threads} CPU threads")
    print(
        f"engine: {args.trials} trials x {args.iterations} iterations in all; naive: {args.naive_trials} trials x "
        f"{args.naive_iterations} iterations on CPU, rate extrapolated per trial-iteration"
    )
    print(f"{'dtype':8} {'kernel':13} {'engine (with eval)':>19} {'engine (train only)':>20} {'forward':>13} {'naive':>10} {'ratio':>8}")
    float32_with_eval = 0.0
    rooflines = []
    for dtype in (torch.float32, torch.float64):
        # The CPU may be shared: interleave engine and naive rounds and keep each one's best.
        engine = make_engine(data, dtype=dtype, trials=args.trials, device=device)
        per_round = max(EVAL_EVERY, args.iterations // args.rounds)
        with_eval = train_only = forward = naive = 0.0
        for _ in range(args.rounds):
            rates = engine_rate(engine, data, iterations=per_round, device=device)
            with_eval, train_only, forward = max(with_eval, rates[0]), max(train_only, rates[1]), max(forward, rates[2])
            naive = max(naive, naive_rate(data, dtype=dtype, trials=args.naive_trials, iterations=args.naive_iterations))
        if dtype == torch.float32:
            float32_with_eval = with_eval
        print(
            f"{str(dtype).removeprefix('torch.'):8} {engine.backend:13} {with_eval:13,.0f} it/s {train_only:14,.0f} it/s "
            f"{forward:9,.0f} fw/s {naive:6,.0f} it/s {with_eval / naive:7.1f}x"
        )
        rooflines.append((dtype, train_only, forward, matmul_peak(dtype, device)))
    print(
        f"rates in trial-iterations (forward: images through one trial) per second; best of {args.rounds} interleaved "
        f"rounds of {per_round} engine iterations each; ratio = engine with evaluation / naive with evaluation"
    )
    print(
        f"roofline, against the peak of one {1024}x{1024} matmul: an evaluation's forward passes are dense "
        f"({FORWARD_FLOP / 1e6:.2f} MFLOP each), so their rate is real work; a training step is credited with a dense "
        f"step's {STEP_FLOP / 1e6:.2f} MFLOP (dense-equivalent: the native backward skips the pooling positions and "
        f"ReLUs that carry no gradient, so this figure may pass the peak)"
    )
    for dtype, train_only, forward, peak in rooflines:
        forward_gflops = forward * FORWARD_FLOP / 1e9
        train_gflops = train_only * STEP_FLOP / 1e9
        print(
            f"  {str(dtype).removeprefix('torch.'):8} peak {peak:6.1f} GFLOP/s; evaluation {forward_gflops:6.1f} GFLOP/s "
            f"({100 * forward_gflops / peak:4.1f}% of peak); training {train_gflops:6.1f} dense-equivalent GFLOP/s "
            f"({100 * train_gflops / peak:4.1f}%)"
        )
    print(
        f"(the authors' loop, about {AUTHORS_RATE} trial-it/s on a 2-core CPU, is not run here: float32 with "
        f"evaluation is {float32_with_eval / AUTHORS_RATE:,.0f}x that quoted figure)"
    )


if __name__ == "__main__":
    main()
