import torch
from lesde_trainer.device import configure_runtime, resolve_device


def test_runtime_pins_cpu_threads_and_makes_cudnn_deterministic():
    threads = torch.get_num_threads()
    flags = torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark
    try:
        configure_runtime(torch.device("cpu"), cpu_threads=1)
        assert torch.get_num_threads() == 1
        # Only flags are set for CUDA (no device needed): chunks must be byte-identical after a resume.
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = False, True
        configure_runtime(torch.device("cuda"), cpu_threads=2)
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    finally:
        torch.set_num_threads(threads)
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = flags


def test_device_is_cpu_without_cuda_or_as_asked():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")
